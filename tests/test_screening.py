"""Take checks for what is said and who says it (core/adapt/screening.py), on real models:
the tiny test model, the bundled one with flite speech, and real VCTK takes when present."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import soundfile as sf
from conftest import shared_data

from metavoice_app.cli import main
from metavoice_app.core.adapt.clone import check_takes
from metavoice_app.core.adapt.screening import OTHER_SPEAKER, WRONG_WORDS
from metavoice_app.core.adapt.takes import load_takes, prepare_take
from metavoice_app.core.synth.engine import SpeechEngine, bundled_model_dir

LINES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
]
OTHER = "Rice is often served in round bowls by the river."


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory: pytest.TempPathFactory, flite_speech) -> Path:
    """Four takes of their sentences and one whose transcript is another sentence."""
    folder = tmp_path_factory.mktemp("mixed")
    for index, line in enumerate(LINES):
        sf.write(folder / f"take{index}.wav", flite_speech(line, "awb"), 16000)
        (folder / f"take{index}.txt").write_text(line, encoding="utf-8")
    sf.write(folder / "wrong.wav", flite_speech(OTHER, "awb"), 16000)
    (folder / "wrong.txt").write_text(LINES[0], encoding="utf-8")
    return folder


def test_a_take_of_another_sentence_is_named(mixed_folder: Path) -> None:
    # The bundled model: the tiny test model's aligner, trained for 40 steps, cannot yet
    # tell one sentence from another (it scored the wrong take -0.49, like the right ones).
    engine = SpeechEngine(bundled_model_dir(), "cpu")
    takes, _ = load_takes(mixed_folder)
    found = {t.path.name: f for t, f in zip(takes, check_takes(engine, takes), strict=True)}
    assert WRONG_WORDS in found["wrong.wav"].problem
    assert all(not f.problem for name, f in found.items() if name != "wrong.wav"), found


def test_adapt_cli_leaves_out_a_mismatched_take_unless_kept(
    mixed_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v.mvoice"
    args = ["adapt", str(mixed_folder), "--out", str(out), "--speaker-name", "Alan"]
    args += ["--steps", "1", "--device", "cpu"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "left out wrong.wav: The words do not seem to match" in captured.err
    assert "from 4 takes" in captured.out
    assert main([*args, "--force", "--keep", "wrong.wav"]) == 0
    captured = capsys.readouterr()
    assert "left out" not in captured.err and "from 5 takes" in captured.out


def test_a_take_by_someone_else_is_named(flite_speech, tmp_path: Path) -> None:
    engine = SpeechEngine(bundled_model_dir(), "cpu")
    takes = []
    for index, (line, voice) in enumerate(zip([*LINES, OTHER], ["awb"] * 4 + ["slt"], strict=True)):
        path = tmp_path / f"{index}.wav"
        sf.write(path, flite_speech(line, voice), 16000)
        takes.append(prepare_take(path, line))
    found = check_takes(engine, takes)
    assert OTHER_SPEAKER in found[-1].problem
    assert all(OTHER_SPEAKER not in f.problem for f in found[:-1])


def test_real_takes_pass_and_mismatches_and_intruders_are_named() -> None:
    shared = shared_data()
    root = shared / "speech" / "vctk_4spk" if shared is not None else None
    if root is None or not (root / "metadata.tsv").exists():
        pytest.skip("the shared VCTK takes are not here (speech/vctk_4spk)")
    with (root / "metadata.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    p225 = [r for r in rows if r[1] == "p225"][:4]
    p226 = next(r for r in rows if r[1] == "p226")
    takes = [prepare_take(root / rel, text) for rel, _, text in p225]
    takes.append(prepare_take(root / p226[0], p226[2]))  # another person
    takes.append(prepare_take(root / p225[0][0], p225[1][2]))  # the wrong sentence
    found = check_takes(SpeechEngine(bundled_model_dir(), "cpu"), takes)
    assert [f.problem for f in found[:4]] == [""] * 4
    assert OTHER_SPEAKER in found[4].problem
    assert WRONG_WORDS in found[5].problem
