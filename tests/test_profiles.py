"""Profiles are data from strangers: every malformed or malicious file must be refused."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles import mvoice
from metavoice_app.core.profiles.library import VoiceLibrary
from metavoice_app.core.profiles.mvoice import (
    Consent,
    Manifest,
    ProfileError,
    read_profile,
    save_profile,
)
from metavoice_app.core.profiles.takes import StoredTake, VoiceTakes

MODEL_ID = "a" * 64
SHAPES = {"speaker": (16,), "decoder.scale": (2, 8)}


def _manifest(name: str = "Ada") -> Manifest:
    consent = Consent(
        "Ada Lovelace",
        "I, Ada Lovelace, agree that this recording may be used "
        "to create a synthetic copy of my voice.",
        "2026-11-21T12:00:00+00:00",
    )
    return Manifest(
        name=name,
        base_model_id=MODEL_ID,
        tensors=[],
        consent=consent,
        recipe={"algorithm": "maml", "steps": 20},
        takes=5,
        similarity=0.81,
    )


def _tensors() -> dict[str, torch.Tensor]:
    return {"speaker": torch.randn(16), "decoder.scale": torch.randn(2, 8).half()}


@pytest.fixture
def profile_path(tmp_path: Path) -> Path:
    path = tmp_path / "ada.mvoice"
    save_profile(path, _manifest(), _tensors(), np.zeros(1600, dtype=np.float32), 16000)
    return path


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """Copy a profile, replacing (or with None removing) members."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                continue
            zout.writestr(info.filename, zin.read(info.filename))
        for name, data in change.items():
            if data is not None:
                zout.writestr(name, data)
    return target


def _manifest_json(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def test_round_trip(profile_path: Path) -> None:
    profile = read_profile(profile_path, MODEL_ID, SHAPES)
    assert profile.manifest.name == "Ada" and profile.manifest.takes == 5
    assert profile.manifest.consent.speaker_name == "Ada Lovelace"
    assert {t.name for t in profile.manifest.tensors} == set(SHAPES)
    assert profile.tensors["decoder.scale"].dtype == torch.float16
    assert profile.preview_rate == 16000 and len(profile.preview) == 1600
    assert profile_path.stat().st_size < 2 * 2**20


def test_wrong_base_model_is_refused_by_name(profile_path: Path) -> None:
    with pytest.raises(ProfileError, match="another speech model"):
        read_profile(profile_path, "b" * 64)


def test_wrong_shapes_and_unknown_parameters(profile_path: Path) -> None:
    with pytest.raises(ProfileError, match="shape"):
        read_profile(profile_path, MODEL_ID, {**SHAPES, "speaker": (32,)})
    with pytest.raises(ProfileError, match="does not exist in this model"):
        read_profile(profile_path, MODEL_ID, {"speaker": (16,)})


@pytest.mark.parametrize(
    "bad_name", ["../evil.sh", "/etc/passwd", "sub/manifest.json", "adapter.pt"]
)
def test_unexpected_members_and_path_tricks(
    profile_path: Path, tmp_path: Path, bad_name: str
) -> None:
    evil = _rewrite(profile_path, tmp_path / "evil.mvoice", {bad_name: b"x"})
    with pytest.raises(ProfileError, match="unexpected file"):
        read_profile(evil)


def test_missing_members(profile_path: Path, tmp_path: Path) -> None:
    broken = _rewrite(profile_path, tmp_path / "broken.mvoice", {"adapter.safetensors": None})
    with pytest.raises(ProfileError, match=r"adapter\.safetensors missing"):
        read_profile(broken)


def test_zip_bomb_member_is_refused(profile_path: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.mvoice"
    with (
        zipfile.ZipFile(profile_path) as zin,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            if info.filename != "preview.wav":
                zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr("preview.wav", b"\0" * (50 * 2**20))  # 50 MB that compresses to ~50 KB
    assert bomb.stat().st_size < 1 * 2**20
    with pytest.raises(ProfileError, match="too large"):
        read_profile(bomb)


def test_oversized_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile_path: Path
) -> None:
    monkeypatch.setattr(mvoice, "MAX_FILE_BYTES", 100)
    with pytest.raises(ProfileError, match="at most"):
        read_profile(profile_path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_not_a_zip(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.mvoice"
    path.write_bytes(content)
    with pytest.raises(ProfileError, match="not a MetaVoice profile"):
        read_profile(path)


def test_corrupted_data_fails_the_crc(profile_path: Path, tmp_path: Path) -> None:
    data = bytearray(profile_path.read_bytes())
    offset = data.index(b"manifest.json") + len("manifest.json") + 20
    data[offset] ^= 0xFF
    damaged = tmp_path / "damaged.mvoice"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ProfileError):
        read_profile(damaged)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(format_version=99), "version 99 is not supported"),
        (lambda m: m.pop("consent"), "incomplete or malformed"),
        (lambda m: m["consent"].update(speaker_name=" "), "no consent record"),
        (lambda m: m.update(name=""), "voice name"),
        (lambda m: m.update(name="x" * 200), "voice name"),
        (lambda m: m["tensors"][0].update(shape=[3]), "not the shape"),
        (lambda m: m["tensors"].pop(), "do not match the manifest"),
        (lambda m: m["tensors"][0].update(dtype="I64"), "unsupported type"),
        (lambda m: m.update(delivery={"pitch_range": 99.0}), "delivery is unusable: pitch_range"),
        (lambda m: m.update(delivery={"duration_scale": "fast"}), "delivery is unusable"),
        (lambda m: m.update(delivery={"speed": 2.0}), "delivery is unusable"),
    ],
)
def test_manifest_problems(profile_path: Path, tmp_path: Path, edit, message: str) -> None:
    manifest = _manifest_json(profile_path)
    edit(manifest)
    bad = _rewrite(
        profile_path, tmp_path / "bad.mvoice", {"manifest.json": json.dumps(manifest).encode()}
    )
    with pytest.raises(ProfileError, match=message):
        read_profile(bad)


def test_invalid_numbers_are_refused(tmp_path: Path) -> None:
    tensors = _tensors()
    tensors["speaker"][3] = float("nan")
    path = tmp_path / "nan.mvoice"
    save_profile(path, _manifest(), tensors, np.zeros(160, dtype=np.float32), 16000)
    with pytest.raises(ProfileError, match="invalid numbers"):
        read_profile(path)


def test_huge_finite_values_are_refused_with_the_parameter_name(tmp_path: Path) -> None:
    tensors = _tensors()
    tensors["decoder.scale"][1, 2] = -2048.0  # representable in float16, absurd for a voice
    path = tmp_path / "huge.mvoice"
    save_profile(path, _manifest(), tensors, np.zeros(160, dtype=np.float32), 16000)
    with pytest.raises(ProfileError, match=r"parameter decoder.scale holds values up to 2.05e\+03"):
        read_profile(path)


def test_library_import_rename_duplicate_delete_restore(profile_path: Path, tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    added = library.add(profile_path, MODEL_ID, SHAPES)
    with pytest.raises(ProfileError, match="already in your library"):
        library.add(profile_path, MODEL_ID, SHAPES)
    renamed = library.rename(added, "Ada (studio)")
    assert not added.exists() and read_profile(renamed).manifest.name == "Ada (studio)"
    copy = library.duplicate(renamed, "Ada copy")
    assert read_profile(copy).manifest.id != read_profile(renamed).manifest.id
    assert [e.name for e in library.entries()] == ["Ada copy", "Ada (studio)"] or sorted(
        e.name for e in library.entries()
    ) == ["Ada (studio)", "Ada copy"]
    assert library.find("Ada copy") == copy
    trashed = library.delete(copy)
    assert not copy.exists() and trashed.exists()
    assert library.restore(trashed) == copy
    exported = library.export(renamed, tmp_path / "shared")
    assert exported.suffix == ".mvoice" and read_profile(exported).manifest.name == "Ada (studio)"


def test_library_lists_broken_files_with_a_reason(tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path)
    (tmp_path / "junk.mvoice").write_bytes(b"junk")
    [entry] = library.entries()
    assert entry.manifest is None and "not a MetaVoice profile" in entry.problem


def test_profile_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from metavoice_app.cli import main
    from metavoice_app.commands.profile import _model_fit

    model_id, shapes = _model_fit(None)  # the bundled model
    profile_path = tmp_path / "ada.mvoice"
    manifest = _manifest()
    manifest.base_model_id = model_id
    tensors = {"speaker": torch.randn(shapes["speaker"])}
    save_profile(profile_path, manifest, tensors, np.zeros(1600, dtype=np.float32), 16000)

    assert main(["profile", "list"]) == 0
    assert "no voices yet" in capsys.readouterr().out
    assert main(["profile", "import", str(profile_path)]) == 0
    assert main(["profile", "list"]) == 0
    assert "Ada\t" in capsys.readouterr().out
    assert main(["profile", "show", "Ada"]) == 0
    assert "Ada Lovelace" in capsys.readouterr().out
    assert main(["profile", "rename", "Ada", "Grace"]) == 0
    assert main(["profile", "export", "Grace", str(tmp_path)]) == 0
    assert main(["profile", "delete", "Grace"]) == 0
    assert "moved to" in capsys.readouterr().out
    junk = tmp_path / "junk.mvoice"
    junk.write_bytes(b"junk")
    assert main(["profile", "import", str(junk)]) == 1
    assert "not a MetaVoice profile" in capsys.readouterr().err
    foreign = tmp_path / "foreign.mvoice"
    save_profile(foreign, _manifest("Other"), tensors, np.zeros(160, np.float32), 16000)
    assert main(["profile", "import", str(foreign)]) == 1
    assert "another speech model" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        (
            {"speaker": torch.randn(17)},
            r"parameter speaker has shape \(17,\), the model needs \(16,\)",
        ),
        (
            {"speaker": torch.randn(16), "decoder.no_such_layer.weight": torch.randn(4)},
            "parameter decoder.no_such_layer.weight does not exist in this model",
        ),
        (
            {"speaker": torch.randn(16), "decoder.0.conv1.bias": torch.randn(3, 3)},
            r"decoder.0.conv1.bias has shape \(3, 3\), the model needs \(64,\)",
        ),
    ],
)
def test_profile_import_refuses_tensors_the_model_cannot_use(
    tensors: dict[str, torch.Tensor],
    message: str,
    tiny_model_dir: Path,
    app_paths: AppPaths,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from metavoice_app.cli import main
    from metavoice_app.core.model.checkpoint import read_info

    manifest = _manifest()
    manifest.base_model_id = read_info(tiny_model_dir).model_id
    path = tmp_path / "odd.mvoice"
    save_profile(path, manifest, tensors, np.zeros(160, np.float32), 16000)
    assert main(["profile", "import", str(path), "--model", str(tiny_model_dir)]) == 1
    assert re.search(message, capsys.readouterr().err)
    assert list(app_paths.voices_dir.glob("*.mvoice")) == []
    fitting = tmp_path / "fits.mvoice"
    manifest = _manifest("Fits")
    manifest.base_model_id = read_info(tiny_model_dir).model_id
    save_profile(fitting, manifest, {"speaker": torch.randn(16)}, np.zeros(160), 16000)
    assert main(["profile", "import", str(fitting), "--model", str(tiny_model_dir)]) == 0
    assert len(list(app_paths.voices_dir.glob("*.mvoice"))) == 1


def _voice_takes(count: int = 2) -> VoiceTakes:
    rng = np.random.default_rng(0)
    return VoiceTakes(
        [StoredTake(f"Sentence {n}.", 0.1 * rng.standard_normal(16000)) for n in range(count)],
        b"RIFF consent as recorded",
    )


def test_a_profile_carries_its_takes_only_when_asked(profile_path: Path, tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    target = library.add(profile_path, MODEL_ID, SHAPES)
    voice_id = read_profile(target).manifest.id
    assert library.takes(voice_id) is None and not library.entries()[0].takes_kept
    with pytest.raises(ProfileError, match="no takes kept with it"):
        library.export(target, tmp_path / "with.mvoice", with_takes=True)
    library.keep_takes(voice_id, _voice_takes())
    assert library.entries()[0].takes_kept
    plain = read_profile(library.export(target, tmp_path / "plain.mvoice"))
    assert plain.takes is None
    carried = read_profile(library.export(target, tmp_path / "with.mvoice", with_takes=True))
    assert carried.takes is not None
    assert [t.text for t in carried.takes.takes] == ["Sentence 0.", "Sentence 1."]
    assert carried.takes.consent_recording == b"RIFF consent as recorded"
    np.testing.assert_allclose(
        carried.takes.takes[0].audio, _voice_takes().takes[0].audio, atol=1e-4
    )
    # a new installation: the takes come out of the file into its library, which keeps
    # its profile plain
    other = VoiceLibrary(tmp_path / "elsewhere")
    imported = other.add(tmp_path / "with.mvoice", MODEL_ID, SHAPES)
    assert read_profile(imported).takes is None
    stored = other.takes(voice_id)
    assert stored is not None and len(stored.takes) == 2


def test_a_voice_for_another_model_comes_in_only_with_its_takes(
    profile_path: Path, tmp_path: Path
) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    library.keep_takes(read_profile(profile_path).manifest.id, _voice_takes())
    with_takes = library.export(profile_path, tmp_path / "with.mvoice", with_takes=True)
    newer = VoiceLibrary(tmp_path / "newer")
    with pytest.raises(ProfileError, match="another speech model"):
        newer.add(profile_path, "b" * 64, SHAPES)
    target = newer.add(with_takes, "b" * 64, SHAPES)  # to be re-created for model b
    [entry] = newer.entries()
    assert entry.path == target and entry.takes_kept
    assert entry.manifest is not None and entry.manifest.base_model_id == MODEL_ID


def test_the_size_cap_is_raised_only_for_a_profile_with_takes(
    profile_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    library.keep_takes(read_profile(profile_path).manifest.id, _voice_takes())
    with_takes = library.export(profile_path, tmp_path / "with.mvoice", with_takes=True)
    monkeypatch.setattr(mvoice, "MAX_FILE_BYTES", profile_path.stat().st_size + 10)
    assert read_profile(with_takes).takes is not None
    padded = _rewrite(profile_path, tmp_path / "padded.mvoice", {})
    with zipfile.ZipFile(padded, "a", zipfile.ZIP_STORED) as zf:
        zf.writestr("take01.flac", np.random.default_rng(0).bytes(60_000))
    with pytest.raises(ProfileError, match="at most"):
        read_profile(padded)  # takes members without their index do not raise the cap
    monkeypatch.setattr(mvoice, "MAX_FILE_WITH_TAKES_BYTES", with_takes.stat().st_size - 1)
    with pytest.raises(ProfileError, match="at most"):
        read_profile(with_takes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"take03.flac": b"x"}, "take03.flac not listed"),
        ({"take01.flac": b"not audio"}, "take01.flac: the audio is damaged"),
        ({"takes.json": b"[1]"}, "not a takes index"),
        (
            {
                "takes.json": json.dumps(
                    {
                        "format_version": 1,
                        "takes": [{"file": "../x", "text": "a"}],
                        "consent": "consent.wav",
                    }
                ).encode()
            },
            "unexpected take file",
        ),
        ({"consent.wav": None}, "consent recording do not agree"),
        ({"takes/take01.flac": b"x"}, "unexpected file"),
    ],
)
def test_takes_in_a_profile_are_validated(
    profile_path: Path, tmp_path: Path, change: dict[str, bytes | None], message: str
) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    library.keep_takes(read_profile(profile_path).manifest.id, _voice_takes())
    with_takes = library.export(profile_path, tmp_path / "with.mvoice", with_takes=True)
    evil = _rewrite(with_takes, tmp_path / "evil.mvoice", change)
    with pytest.raises(ProfileError, match=re.escape(message)):
        read_profile(evil)


def test_kept_takes_in_the_library_are_validated_too(profile_path: Path, tmp_path: Path) -> None:
    library = VoiceLibrary(tmp_path / "voices")
    voice_id = read_profile(profile_path).manifest.id
    library.keep_takes(voice_id, _voice_takes())
    (library.takes_folder(voice_id) / "run.sh").write_text("rm -rf ~\n")
    with pytest.raises(ProfileError, match=r"unexpected file 'run\.sh'"):
        library.takes(voice_id)
    with pytest.raises(ProfileError, match="not one takes are kept under"):
        library.takes_folder("../../elsewhere")
