"""``metavoice synth``: speak text or a script into audio files.

Text is spoken sentence by sentence, with a progress line per sentence when there
are several; Ctrl+C keeps the sentences already made (written to the output file)
and exits with 130, the shell's status for an interrupted command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from metavoice_app.commands.common import (
    add_device_option,
    checked_controls,
    print_progress,
    resolve_voice,
)
from metavoice_app.core.audio.export import SAMPLE_RATES
from metavoice_app.core.paths import AppPaths

if TYPE_CHECKING:  # torch loads only when a command runs, not for --help
    from metavoice_app.core.audio.export import ExportOptions
    from metavoice_app.core.synth.engine import SpeechStream

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command ended by Ctrl+C


def _make_sentences(stream: SpeechStream) -> bool:
    """Make every sentence, one progress line each when there are several; False when
    Ctrl+C stopped it (the sentences finished by then stay in ``stream.made``)."""
    try:
        for piece in stream:
            if piece.complete and piece.count > 1:
                sentence = stream.made[-1]
                message = f"{sentence.text} ({sentence.duration:.2f} s)"
                print_progress(sentence.index + 1, sentence.count, message)
    except KeyboardInterrupt:
        return False
    return True


def _speak_to_file(stream: SpeechStream, out: Path, options: ExportOptions) -> bool:
    """Speak ``stream`` into ``out``; False when Ctrl+C stopped it, in which case the
    sentences finished by then are written all the same (atomically, as ever)."""
    from metavoice_app.core.audio.export import write_audio

    for warning in stream.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    finished = _make_sentences(stream)
    result = stream.result()
    if not result.sentences:
        print(f"metavoice synth: interrupted; nothing written to {out}", file=sys.stderr)
        return False
    write_audio(out, result.audio, result.sample_rate, options)
    print(f"{out}\t{result.duration:.2f} s of audio in {result.seconds_to_make:.2f} s")
    if not finished:
        print(
            f"metavoice synth: interrupted; {out} holds the {len(result.sentences)} finished "
            f"sentences of {stream.count}",
            file=sys.stderr,
        )
    return finished


def _jobs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """(text, output file) for each clip asked for."""
    if args.text is not None:
        if args.out is None:
            raise ValueError("--text needs --out FILE")
        return [(args.text, args.out)]
    if args.script is not None:
        if args.out_dir is None:
            raise ValueError("--script needs --out-dir DIR")
        lines = [line.strip() for line in args.script.read_text(encoding="utf-8").splitlines()]
        texts = [line for line in lines if line]
        if not texts:
            raise ValueError(f"{args.script} has no text lines")
        return [(text, args.out_dir / f"{i:04d}.wav") for i, text in enumerate(texts, 1)]
    raise ValueError("give --text TEXT (with --out) or --script FILE (with --out-dir)")


def _list_voices(args: argparse.Namespace) -> None:
    from metavoice_app.core.synth.engine import SpeechEngine

    engine = SpeechEngine(args.model, device=args.device or "auto")
    default = engine.info.default_voice
    for voice in engine.info.voices:
        mark = " (default)" if voice.id == default else ""
        kind = "real" if voice.real else "synthetic"
        print(f"{voice.id}\t{voice.source}\t{kind}\t{voice.sex or '-'}{mark}")


def _run(args: argparse.Namespace, paths: AppPaths) -> int:
    from metavoice_app.core.atomic import check_writable
    from metavoice_app.core.audio.export import ExportError, ExportOptions, format_for
    from metavoice_app.core.model.checkpoint import ModelLoadError
    from metavoice_app.core.profiles.mvoice import ProfileError
    from metavoice_app.core.synth.engine import SpeechEngine, VoiceNotFoundError
    from metavoice_app.core.text.frontend import TextError

    try:
        if args.list_voices:
            _list_voices(args)
            return 0
        # Everything that can be checked without the model is, before it is loaded.
        controls = checked_controls(args.speed, args.pitch, args.energy)
        jobs = _jobs(args)
        for _text, out in jobs:
            format_for(out)
            check_writable(out)
        engine = SpeechEngine(args.model, device=args.device or "auto")
        rate = args.sample_rate or engine.sample_rate
        handle = engine.voice(resolve_voice(args.voice, engine, paths))
        voice_name = handle.name
        for text, out in jobs:
            stream = engine.speak_stream(text, voice=handle, controls=controls)
            options = ExportOptions(format_for(out), rate, voice_name, title=text[:120])
            if not _speak_to_file(stream, out, options):
                return EXIT_INTERRUPTED
        return 0
    except (
        ValueError,
        TextError,
        ModelLoadError,
        VoiceNotFoundError,
        ExportError,
        ProfileError,
        OSError,
    ) as exc:
        print(f"metavoice synth: {exc}", file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "synth",
        help="speak text or a script in a voice and write audio files",
        description="Speak text in a voice. Output is 16-bit PCM WAV at the model's rate "
        "(16 kHz) unless --sample-rate or the file extension (.flac, .ogg, .mp3) says "
        "otherwise.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--text", help="the text to speak")
    source.add_argument(
        "--script", type=Path, help="a text file: one clip per line, written as 0001.wav, 0002.wav…"
    )
    source.add_argument("--list-voices", action="store_true", help="list the model's voices")
    parser.add_argument("--out", type=Path, help="output file for --text")
    parser.add_argument("--out-dir", type=Path, help="output folder for --script")
    parser.add_argument(
        "--voice",
        help="a built-in voice (see --list-voices), a .mvoice file, "
        "or the name of a voice in your library",
    )
    parser.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    parser.add_argument("--speed", type=float, default=1.0, help="speaking rate, 1 = normal")
    parser.add_argument("--pitch", type=float, default=0.0, help="pitch shift in semitones")
    parser.add_argument(
        "--energy",
        type=float,
        default=0.0,
        help="loudness emphasis, in standard deviations (-2 to 2)",
    )
    parser.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES)
    add_device_option(parser)
    parser.set_defaults(handler=_run)
