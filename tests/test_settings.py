from __future__ import annotations

import json
from pathlib import Path

import pytest

from metavoice_app.core.atomic import atomic_open, atomic_write_text, check_writable
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.settings import Settings, SettingsError, load_settings, save_settings


def test_missing_file_gives_defaults(app_paths: AppPaths) -> None:
    assert load_settings(app_paths.settings_file) == (Settings(), "")


def test_round_trip(app_paths: AppPaths) -> None:
    settings = Settings(
        theme="dark",
        compute_device="cpu",
        export_format="flac",
        export_sample_rate=22050,
        prompts_per_voice=12,
        input_device="USB mic",
    )
    save_settings(settings, app_paths.settings_file)
    assert load_settings(app_paths.settings_file) == (settings, "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("theme", "purple"),
        ("compute_device", "tpu"),
        ("export_format", "aac"),
        ("export_sample_rate", 12345),
        ("prompts_per_voice", 0),
        ("prompts_per_voice", 21),
    ],
)
def test_invalid_values_are_refused_with_the_field_name(
    field: str, value: object, app_paths: AppPaths
) -> None:
    settings = Settings(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=field):
        save_settings(settings, app_paths.settings_file)
    assert not app_paths.settings_file.exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"theme": "neon"}'])
def test_damaged_file_is_kept_aside_and_defaults_used(content: str, app_paths: AppPaths) -> None:
    app_paths.settings_file.write_text(content, encoding="utf-8")
    settings, notice = load_settings(app_paths.settings_file)
    assert settings == Settings()
    kept = list(app_paths.config_dir.glob("settings.json.broken-*"))
    assert len(kept) == 1
    assert kept[0].read_text(encoding="utf-8") == content
    assert f"kept as {kept[0]}" in notice


def test_one_invalid_value_resets_only_that_value_and_says_so_once(
    app_paths: AppPaths,
) -> None:
    chosen = {
        "theme": "dark",
        "compute_device": "cpu",
        "input_device": "USB mic",
        "export_format": "flac",
        "export_sample_rate": 22050,
        "prompts_per_voice": 12,
    }
    for field, bad in [
        ("export_sample_rate", 12345),
        ("export_sample_rate", 22050.0),
        ("prompts_per_voice", "twelve"),
        ("prompts_per_voice", True),
        ("input_device", 3),
        ("theme", None),
    ]:
        app_paths.settings_file.write_text(json.dumps({**chosen, field: bad}), encoding="utf-8")
        settings, notice = load_settings(app_paths.settings_file)
        default = getattr(Settings(), field)
        assert settings == Settings(**{**chosen, field: default})  # the others are kept
        assert (
            f"{field} must be" in notice and f"not {bad!r}, so it is back to {default!r}" in notice
        )
        assert load_settings(app_paths.settings_file) == (settings, "")  # repaired: told once
    kept = list(app_paths.config_dir.glob("settings.json.broken-*"))
    assert len(kept) == 6  # each file as it was, none replacing another
    assert any(json.loads(k.read_text(encoding="utf-8"))["theme"] is None for k in kept)


def test_unknown_keys_from_newer_versions_are_ignored(app_paths: AppPaths) -> None:
    app_paths.settings_file.write_text(json.dumps({"theme": "light", "future": 1}))
    assert load_settings(app_paths.settings_file) == (Settings(theme="light"), "")


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    folder = tmp_path / "atomic"
    target = folder / "a.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in folder.iterdir()] == ["a.json"]


def test_failed_atomic_write_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    folder = tmp_path / "atomic"
    target = folder / "voice.json"
    atomic_write_text(target, "precious")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write(b"half-writ")
        raise RuntimeError("crash in the middle of a write")
    assert target.read_text() == "precious"
    assert [p.name for p in folder.iterdir()] == ["voice.json"]


def test_atomic_files_get_ordinary_permissions(tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "atomic" / "export.wav"
    atomic_write_text(target, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_unwritable_places_are_found_before_writing_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "taken.wav"
    folder.mkdir()
    with pytest.raises(OSError, match=f"cannot write {folder}: it is a folder"):
        check_writable(folder)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(OSError, match=f"{a_file} is a file, not a folder"):
        check_writable(a_file / "sub" / "out.wav")
    check_writable(tmp_path / "new" / "deeper" / "out.wav")  # folders the write will make
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "taken.wav"]
    # a write that fails at the end names the user's file, not the hidden temporary one
    with pytest.raises(OSError) as error:
        atomic_write_text(folder, "audio")
    assert str(folder) in str(error.value) and ".tmp" not in str(error.value)
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt",
        "taken.wav",
    ]


def test_choices_have_one_owner_shared_by_settings_dialog_and_options(qtbot) -> None:
    """The Literal types are the one list of choices: settings validation, the command
    line's choices and the Settings dialog all read them."""
    from typing import get_args

    from metavoice_app.cli import build_parser
    from metavoice_app.core.audio.export import SAMPLE_RATES, ExportFormat
    from metavoice_app.core.device import DevicePreference
    from metavoice_app.core.settings import Theme
    from metavoice_app.gui.settings_dialog import SettingsDialog

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for command in ("synth", "dub"):
        rate = next(a for a in subparsers.choices[command]._actions if a.dest == "sample_rate")
        assert tuple(rate.choices) == SAMPLE_RATES
    train = subparsers.choices["train"]
    stages = next(a for a in train._actions if a.dest and "stage" in a.dest)
    for stage in ("base", "meta"):
        device = next(a for a in stages.choices[stage]._actions if a.dest == "device")
        assert tuple(device.choices) == get_args(DevicePreference)
    dialog = SettingsDialog(Settings(), [], [])
    assert [dialog.theme.itemData(i) for i in range(dialog.theme.count())] == list(get_args(Theme))
    assert [dialog.export_format.itemData(i) for i in range(dialog.export_format.count())] == (
        list(get_args(ExportFormat))
    )
    with pytest.raises(SettingsError, match="export_sample_rate"):
        Settings(export_sample_rate=8000).validate()
