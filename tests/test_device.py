from __future__ import annotations

from pathlib import Path

import pytest
import torch

from metavoice_app.core.device import DeviceError, describe_device, resolve_device


def test_auto_picks_cuda_only_when_available() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cpu_is_always_available() -> None:
    device = resolve_device("cpu")
    info = describe_device(device)
    assert info.kind == "cpu"
    assert "threads" in str(info)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_says_what_to_do() -> None:
    with pytest.raises(DeviceError, match="--device cpu"):
        resolve_device("cuda")


def test_unknown_device_is_refused() -> None:
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_global_device_flag_reaches_the_subcommand() -> None:
    from metavoice_app.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--device", "cpu", "synth", "--text", "x"]).device == "cpu"
    assert (
        parser.parse_args(
            [
                "--device",
                "cuda",
                "adapt",
                "d",
                "--out",
                "v.mvoice",
                "--speaker-name",
                "A",
                "--device",
                "cpu",
            ]
        ).device
        == "cpu"
    )
    assert parser.parse_args(["dub", "film.srt", "--out", "d.wav"]).device is None


@pytest.mark.parametrize(
    "form",
    [
        ["synth", "--device", "cuda", "--text", "Hi.", "--out", "{out}.wav"],
        ["--device", "cuda", "synth", "--text", "Hi.", "--out", "{out}.wav"],
        ["synth", "--device", "cuda", "--list-voices"],
        ["--device", "cuda", "synth", "--list-voices"],
        ["adapt", "{tmp}", "--out", "{out}.mvoice", "--speaker-name", "A", "--device", "cuda"],
        ["--device", "cuda", "dub", "{tmp}/cues.txt", "--out", "{out}.wav"],
        ["dub", "{tmp}/cues.txt", "--out", "{out}.wav", "--device", "cuda"],
    ],
)
def test_cuda_asked_for_on_the_command_line_without_a_gpu_is_a_one_line_error(
    form: list[str],
    tiny_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from metavoice_app.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without a GPU
    (tmp_path / "cues.txt").write_text("Hello there.\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = [a.format(tmp=tmp_path, out=out) for a in form]
    assert main([*argv, "--model", str(tiny_model_dir)]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert "CUDA was requested" in line and "--device cpu" in line
    assert captured.out == ""
    assert not list(tmp_path.glob("out*"))
