"""``metavoice dub``: render subtitles or a script to one timed track (and stems)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from metavoice_app.commands.common import (
    add_device_option,
    checked_controls,
    counted_lines,
    resolve_voice,
)
from metavoice_app.core.audio.export import SAMPLE_RATES
from metavoice_app.core.paths import AppPaths


def _voice_map(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path.name}: not a readable JSON voice map ({exc})") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f'{path.name}: a voice map is an object like {{"Alice": "alice.mvoice"}}')
    # Profile paths in the map are relative to the map file.
    return {
        str(name): str(path.parent / value)
        if value.endswith(".mvoice") and not Path(value).is_absolute()
        else value
        for name, value in data.items()
    }


def _stem(folder: Path, number: int) -> Path:
    return folder / f"{number:04d}.wav"


def _run(args: argparse.Namespace, paths: AppPaths) -> int:
    from metavoice_app.core.atomic import check_writable
    from metavoice_app.core.audio.export import (
        ExportError,
        ExportOptions,
        format_for,
        write_audio,
    )
    from metavoice_app.core.dubbing.cues import SubtitleError, read_cues
    from metavoice_app.core.dubbing.render import render
    from metavoice_app.core.model.checkpoint import ModelLoadError
    from metavoice_app.core.profiles.mvoice import ProfileError
    from metavoice_app.core.synth.engine import SpeechEngine, VoiceHandle, VoiceNotFoundError
    from metavoice_app.core.text.frontend import TextError

    try:
        controls = checked_controls(speed=args.speed)
        cues = read_cues(args.subtitles)
        mapping = _voice_map(args.voice_map)
        unknown = sorted({c.voice for c in cues if c.voice and c.voice not in mapping})
        if unknown and args.strict_voices:
            lines = {n: next(c.line for c in cues if c.voice == n) for n in unknown}
            raise ValueError(
                "voices not in the voice map: "
                + ", ".join(f"[{n}] (first on line {lines[n]})" for n in unknown)
            )
        sheet = args.cue_sheet or args.out.with_suffix(".csv")
        stems = [] if args.stems is None else [_stem(args.stems, c.number) for c in cues]
        format_for(args.out)  # an unknown format or unwritable place: before the work
        for target in (args.out, sheet, *stems):
            check_writable(target)
        engine = SpeechEngine(args.model, device=args.device or "auto")
        voices: dict[str | None, VoiceHandle] = {
            None: engine.voice(resolve_voice(args.voice, engine, paths))
        }
        for name, spec in mapping.items():
            voices[name] = engine.voice(resolve_voice(spec, engine, paths))
        for name in unknown:
            print(
                f"warning: [{name}] is not in the voice map; using the main voice", file=sys.stderr
            )
        result = render(cues, engine, voices, controls, progress=counted_lines(len(cues)))
        rate = args.sample_rate or engine.sample_rate
        main_voice = voices[None].name
        write_audio(
            args.out,
            result.track,
            result.sample_rate,
            ExportOptions(format_for(args.out), rate, main_voice, title=args.subtitles.name),
        )
        if args.stems is not None:
            for cue in result.cues:
                write_audio(
                    _stem(args.stems, cue.number),
                    cue.audio,
                    result.sample_rate,
                    ExportOptions("wav", rate, cue.voice, title=cue.text[:120]),
                )
        result.write_cue_sheet(sheet)
        print(result.report())
        print(
            f"wrote {args.out} and the cue sheet {sheet}"
            + (f" and {len(result.cues)} stems in {args.stems}" if args.stems else "")
        )
        return 0
    except SubtitleError as exc:
        print(f"metavoice dub: {exc}", file=sys.stderr)
        return 1
    except (
        ValueError,
        TextError,
        ModelLoadError,
        VoiceNotFoundError,
        ProfileError,
        ExportError,
        OSError,
    ) as exc:
        print(f"metavoice dub: {exc}", file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "dub",
        help="render SRT/WebVTT subtitles or scripts to timed audio",
        description="Speak each cue in its time slot (speeding up or slowing down within "
        "limits, never cutting words) and mix one track of the full length. A cue may start "
        "with [Name] to use the voice the --voice-map gives that name. Plain .txt scripts "
        "(one cue per line) are laid end to end.",
    )
    parser.add_argument("subtitles", type=Path, help=".srt, .vtt or .txt script")
    parser.add_argument("--out", type=Path, required=True, help="the mixed track")
    parser.add_argument("--voice", help="main voice: built-in id, .mvoice file or library name")
    parser.add_argument(
        "--voice-map",
        type=Path,
        help='JSON mapping [Name] tags to voices, e.g. {"Bob": "bob.mvoice"}',
    )
    parser.add_argument(
        "--strict-voices",
        action="store_true",
        help="fail on [Name] tags missing from the voice map",
    )
    parser.add_argument("--stems", type=Path, help="also write one file per cue here")
    parser.add_argument("--cue-sheet", type=Path, help="CSV of timings (default: OUT.csv)")
    parser.add_argument("--speed", type=float, default=1.0, help="base speaking rate")
    parser.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES)
    parser.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    add_device_option(parser)
    parser.set_defaults(handler=_run)
