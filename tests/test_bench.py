from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import librispeech_tree, rename_voices, shared_data

from metavoice_app.cli import main
from metavoice_app.core.bench.report import update_section
from metavoice_app.core.bench.wer import edit_distance, word_error_rate, words_of


def test_words_are_normalised_the_same_on_both_sides() -> None:
    assert words_of("6 spoons, Mr. Bob!") == ["six", "spoons", "mister", "bob"]
    assert words_of("twenty-one") == ["twenty", "one"]


def test_word_error_rate() -> None:
    assert word_error_rate([("six spoons of snow", "6 spoons of snow")]) == 0.0
    assert word_error_rate([("a b c d", "a x c")]) == pytest.approx(2 / 4)
    assert word_error_rate([("a b", "a b"), ("c d", "")]) == pytest.approx(2 / 4)
    assert edit_distance([], ["a"]) == 1


def test_report_sections_are_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    update_section(path, "tts", "first run\n")
    update_section(path, "adapt", "adaptation\n")
    update_section(path, "tts", "second run\n")
    text = path.read_text()
    assert "first run" not in text and text.count("second run") == 1
    assert text.index("second run") < text.index("adaptation")
    assert text.startswith("# Benchmarks")


def test_dub_bench_pieces() -> None:
    import numpy as np

    from metavoice_app.core.bench.dub import make_cues, onset

    cues = make_cues(["one two three four five"] * 100, minutes=1.0)
    assert cues[0].start == 1.0 and cues[-1].start <= 60.0
    assert all(b.start > a.end for a, b in itertools.pairwise(cues))
    rate = 16000
    audio = np.concatenate([np.zeros(rate // 4), 0.5 * np.ones(rate // 2)]).astype(np.float32)
    assert abs(onset(audio, rate) - 0.25) < 0.011


def test_distortion() -> None:
    import numpy as np

    from metavoice_app.core.bench.adapt import distortion

    rng = np.random.default_rng(0)
    feats = rng.normal(size=(50, 43))
    feats[:, 41] = 1.0
    mcd, f0 = distortion(feats, feats)
    assert mcd == 0.0 and f0 == 0.0
    shifted = feats.copy()
    shifted[:, 40] += np.log(2.0) / 12  # one semitone higher
    assert abs(distortion(feats, shifted)[1] - 100.0) < 1e-6


def test_adapt_benchmark_needs_a_model_to_measure(capsys: pytest.CaptureFixture[str]) -> None:

    assert main(["bench", "adapt", "--shared", "/nonexistent"]) == 2
    assert "--meta and --baseline" in capsys.readouterr().err


def test_adapt_report_lists_what_each_run_adapted() -> None:
    from metavoice_app.core.bench.adapt import Row, to_markdown

    rows = [
        Row("meta init", "cln, adam", 412.0, 20, 0.75, 1.0, 7.1, 210.0, 0.12, 15.2, 4.0),
        Row("baseline", "cln, adam", 412.0, 20, 0.70, 0.75, 7.4, 230.0, 0.14, 15.0, 4.0),
    ]
    text = to_markdown(rows, "metavoice bench adapt ...", "adaptation.png", 2)
    assert text.startswith("## Few-shot adaptation")
    assert "| meta init | cln, adam | 412 | 20 | 0.750 | 100% |" in text
    assert "![similarity vs steps](adaptation.png)" in text
    presets = [
        Row(
            "meta init, embedding", "embedding, adam", 0.5, 20, 0.6, 0.5, 8.0, 250.0, 0.1, 9.0, 4.0
        ),
        Row(
            "meta init, decoder", "decoder, adam", 3000.0, 20, 0.8, 1.0, 7.0, 200.0, 0.2, 30.0, 4.0
        ),
    ]
    text = to_markdown(presets, "metavoice bench adapt --params ...", None, 2)
    assert text.startswith("## What to adapt") and "![" not in text
    text = to_markdown(rows, "metavoice bench adapt --holdout", None, 2, holdout=True)
    assert text.startswith("## The wizard's recipe") and "the last held out" in text


def test_adapt_report_says_where_a_dev_set_is_not_held_out(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from metavoice_app.core.bench.adapt import Row, SeenSpeakers, seen_speakers, to_markdown

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    shared = librispeech_tree(tmp_path / "shared")
    assert seen_speakers(model_dir, shared, "test-other") == SeenSpeakers((), ())
    # name the tiny model's two voices after the held-out and the training speaker
    config = model_dir / "config.json"
    first, second = (v["id"] for v in json.loads(config.read_text(encoding="utf-8"))["voices"])
    rename_voices(model_dir, {first: "libri-7", second: "libri-8"})
    seen = seen_speakers(model_dir, shared, "test-other")
    assert seen == SeenSpeakers(("7",), ())
    assert seen_speakers(model_dir, shared, "vctk") == SeenSpeakers((), ())

    row = Row("meta init", "cln, adam", 412.0, 10, 0.75, 1.0, 7.1, 210.0, 0.12, 15.2, 4.0)
    text = to_markdown([row], "metavoice bench adapt", None, 2, dev_set="test-other")
    assert "Not held out" not in text
    text = to_markdown([row], "metavoice bench adapt", None, 2, seen={"meta init": seen})
    assert "**Not held out for meta init:** its weights were trained on 1 of these" in text
    assert "(7) and its voice memory fitted on 0 (-)" in text


def test_encoder_scores_separate_speakers() -> None:
    from metavoice_app.core.bench.encoder import score

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 16))
    labels = np.repeat(np.arange(3), 4)
    tight = centres[labels] + 0.01 * rng.standard_normal((12, 16))
    row = score("tight", tight, labels)
    assert row.eer == 0.0 and row.same > 0.99 > row.different
    assert (row.recordings, row.speakers) == (12, 3)
    noise = score("noise", rng.standard_normal((12, 16)), labels)
    assert noise.eer > 0.2


def test_encoder_benchmark_explains_a_wrong_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert main(["bench", "encoder", "--encoder", str(tmp_path), "--shared", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "neither an encoder folder nor a model" in err and "model format None" in err


@pytest.mark.skipif(shared_data() is None, reason="the shared data folder is not present")
def test_second_adaptation_dev_set_is_the_held_out_test_other_speakers() -> None:
    from metavoice_app.core.bench.adapt import dev_recordings

    shared = shared_data()
    assert shared is not None
    vctk = dev_recordings(shared, "vctk")
    other = dev_recordings(shared, "test-other")
    assert sorted(vctk) == ["p225", "p226", "p227", "p228"]
    assert len(other) == 10 and all(len(items) == 10 for items in other.values())
    assert all("librispeech_test-other" in str(p) for items in other.values() for p, _ in items)
    with pytest.raises(ValueError, match="unknown dev set"):
        dev_recordings(shared, "vctk-all")


@pytest.mark.skipif(shared_data() is None, reason="the shared data folder is not present")
def test_fewer_takes_are_judged_on_the_same_queries() -> None:
    from metavoice_app.core.bench.adapt import Row, dev_speakers, to_markdown

    shared = shared_data()
    assert shared is not None
    one, five = dev_speakers(shared, 1), dev_speakers(shared, 5)
    assert one.keys() == five.keys()
    for speaker, (takes, queries) in one.items():
        assert len(takes) == 1 and takes[0].path == five[speaker][0][0].path
        assert queries == five[speaker][1] and len(queries) == 5
    row = Row("meta init", "cln, adam", 412.0, 0, 0.75, 1.0, 7.1, 210.0, 0.12, 15.2, 4.0)
    text = to_markdown([row], "metavoice bench adapt --takes 1", None, 2, support=1)
    assert "1 support recording each, recordings 6 on as queries" in text


def test_tts_benchmark_picks_the_real_speakers_not_their_warped_copies() -> None:
    from metavoice_app.core.bench.tts import _pick_voices
    from metavoice_app.core.synth.engine import SpeechEngine

    engine = SpeechEngine(device="cpu")
    assert _pick_voices(engine, None) == [
        "vcc2016-SF2",
        "vcc2016-SM1",
        "vcc2016-TM1",
        "flite-slt-00",
    ]
    assert _pick_voices(engine, ["festival-ked-00"]) == ["festival-ked-00"]


def test_naturalness_judge_prefers_speech_to_noise(flite_speech) -> None:
    from metavoice_app.core.bench.judge import JudgeUnavailableError
    from metavoice_app.core.bench.naturalness import NaturalnessJudge

    shared = shared_data()
    if shared is None:
        pytest.skip("the shared data folder (with judges/nisqa_tts) is not present")
    try:
        judge = NaturalnessJudge(shared)
    except JudgeUnavailableError as exc:
        pytest.skip(f"the naturalness judge is not installed: {exc}")
    speech = flite_speech("The birch canoe slid on the smooth planks.")
    noise = np.random.default_rng(0).standard_normal(len(speech)).astype(np.float32) * 0.1
    scores = judge.score([noise, speech])
    assert len(scores) == 2 and all(1.0 <= s <= 5.0 for s in scores)
    assert scores[1] > scores[0] + 0.5
    assert judge.score([]) == []
