from __future__ import annotations

import argparse
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


def _leaf_commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand that runs something, however deeply nested."""
    if parser.get_default("handler") is not None:
        return [parser]
    leaves = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                leaves += _leaf_commands(child)
    return leaves


def test_every_subcommand_honours_the_device_or_refuses_a_gpu() -> None:
    from metavoice_app.cli import build_parser

    leaves = _leaf_commands(build_parser())
    assert {"metavoice train base", "metavoice bench tts", "metavoice profile rebuild"} <= {
        p.prog for p in leaves
    }
    for leaf in leaves:
        device = [a for a in leaf._actions if "--device" in a.option_strings]
        # an option of its own must not shadow the global flag with a default
        assert all(a.default is argparse.SUPPRESS for a in device), leaf.prog
        assert bool(device) != (leaf.get_default("cpu_only") == leaf.prog), leaf.prog


@pytest.mark.parametrize(
    ("form", "device"),
    [
        (["--device", "cpu", "train", "base", "--corpus", "c", "--out", "o"], "cpu"),
        (
            ["--device", "cuda", "train", "meta", "--corpus", "c", "--init", "m", "--out", "o"],
            "cuda",
        ),
        (["train", "base", "--corpus", "c", "--out", "o", "--device", "cpu"], "cpu"),
        (["--device", "cuda", "bench", "tts"], "cuda"),
        (["bench", "tts"], None),  # the benchmark then measures the CPU, as it reports
    ],
)
def test_train_and_bench_take_the_global_device_flag(form: list[str], device: str | None) -> None:
    from metavoice_app.cli import build_parser

    assert build_parser().parse_args(form).device == device


@pytest.mark.parametrize(
    "form",
    [
        ["--device", "cuda", "train", "base", "--corpus", "{tmp}", "--out", "{out}", "--tiny"],
        ["train", "base", "--corpus", "{tmp}", "--out", "{out}", "--device", "cuda"],
        [
            "--device",
            "cuda",
            "train",
            "meta",
            "--corpus",
            "{tmp}",
            "--init",
            "{tmp}",
            "--out",
            "{out}",
        ],
        ["--device", "cuda", "bench", "tts", "--shared", "{tmp}", "--report", "{out}.md"],
    ],
)
def test_training_and_benchmarks_on_cuda_without_a_gpu_are_a_one_line_error(
    form: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from metavoice_app.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without a GPU
    out = tmp_path / "out"
    assert main([a.format(tmp=tmp_path, out=out) for a in form]) == 1
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"metavoice {form[2] if form[0] == '--device' else form[0]}: CUDA")
    assert "--device cpu" in line and captured.out == ""
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize(
    ("form", "name"),
    [
        (["train", "align", "--corpus", "{tmp}", "--model", "{tmp}"], "metavoice train align"),
        (["train", "corpus", "--out", "{out}", "--text", "{tmp}/t.txt"], "metavoice train corpus"),
        (["bench", "adapt", "--model", "{tmp}", "--shared", "{tmp}"], "metavoice bench adapt"),
        (["profile", "list"], "metavoice profile list"),
    ],
)
def test_commands_that_run_on_the_cpu_refuse_a_gpu_by_name(
    form: list[str], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metavoice_app.cli import main

    out = tmp_path / "out"
    argv = [a.format(tmp=tmp_path, out=out) for a in form]
    assert main(["--device", "cuda", *argv]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"{name}: runs on the CPU only; leave out --device cuda"
    assert not list(tmp_path.glob("out*"))


def test_a_cpu_command_runs_when_given_the_cpu_or_auto(capsys: pytest.CaptureFixture[str]) -> None:
    from metavoice_app.cli import main

    assert main(["--device", "cpu", "profile", "list"]) == 0
    assert main(["--device", "auto", "profile", "list"]) == 0
    assert "no voices yet" in capsys.readouterr().out
