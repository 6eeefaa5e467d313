"""``metavoice adapt``: clone a voice from a folder of recordings into a .mvoice profile."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metavoice_app.commands.common import add_device_option
from metavoice_app.core.adapt.config import PARAM_SETS, AdaptConfig
from metavoice_app.core.paths import AppPaths


def _fallback(voices_dir: Path, wanted: Path) -> Path:
    """Where a finished voice is saved when ``--out`` cannot be written at the end: the
    voice library, under the asked-for name (numbered when taken)."""
    voices_dir.mkdir(parents=True, exist_ok=True)
    candidate, number = voices_dir / wanted.name, 2
    while candidate.exists():
        candidate = voices_dir / f"{wanted.stem}-{number}{wanted.suffix}"
        number += 1
    return candidate


def _run(args: argparse.Namespace, paths: AppPaths) -> int:
    from metavoice_app.core.adapt.adapter import AdaptationError, AdaptStep
    from metavoice_app.core.adapt.clone import check_takes, clone_voice
    from metavoice_app.core.adapt.takes import load_takes
    from metavoice_app.core.atomic import check_writable
    from metavoice_app.core.model.checkpoint import ModelLoadError
    from metavoice_app.core.profiles.library import VoiceLibrary
    from metavoice_app.core.profiles.mvoice import SUFFIX, ProfileError
    from metavoice_app.core.progress import Progress, ProgressSink
    from metavoice_app.core.synth.engine import SpeechEngine

    try:
        if args.out.suffix != SUFFIX:
            raise ValueError(f"--out must end in {SUFFIX}")
        if args.steps < 1:
            raise ValueError(f"--steps must be 1 or more, not {args.steps}")
        if args.out.is_file() and not args.force:  # a folder there is check_writable's to report
            raise ValueError(f"{args.out} already exists; give --force to replace it")
        check_writable(args.out)
        takes, rejected = load_takes(args.folder)
        for item in rejected:
            print(f"skipped {item.path.name}: {item.reason}", file=sys.stderr)
        if not takes:
            raise ValueError(f"no usable recordings in {args.folder}")
        engine = SpeechEngine(args.model, device=args.device or "auto")
        kept_anyway = set(args.keep or [])
        used = []
        for take, found in zip(takes, check_takes(engine, takes), strict=True):
            keep = args.keep_all or take.path.name in kept_anyway
            if found.problem and not keep:
                print(
                    f"left out {take.path.name}: {found.problem} "
                    f"(give --keep {take.path.name} to use it anyway)",
                    file=sys.stderr,
                )
            else:
                used.append(take)
        takes = used
        if not takes:
            raise ValueError(f"no usable recordings in {args.folder}")
        config = AdaptConfig(
            steps=args.steps, params=args.params, seed=args.seed, holdout=not args.no_holdout
        )

        def report(progress: Progress) -> None:
            p = progress.detail
            assert isinstance(p, AdaptStep)  # adaptation reports only its steps
            held = f" held-out {p.holdout_loss:.3f}" if p.holdout_loss is not None else ""
            if p.similarity is not None:
                held += f" similarity {p.similarity:.2f}"
            print(
                f"[{p.step:>3}/{p.steps}] loss {p.loss:.3f}{held} (about "
                f"{p.eta_seconds:.0f} s left)",
                file=sys.stderr,
                flush=True,
            )

        consent_file = args.folder / "consent.wav"
        name = args.name or args.speaker_name
        cloned = clone_voice(
            engine,
            takes,
            name=name,
            speaker_name=args.speaker_name,
            consent_recording=consent_file if consent_file.exists() else None,
            destination=lambda _manifest: args.out,
            config=config,
            progress=ProgressSink(report),
            fallback=lambda _manifest: _fallback(paths.voices_dir, args.out),
            keep_takes_in=VoiceLibrary(paths.voices_dir),
        )
        if cloned.takes_problem:
            print(f"metavoice adapt: note: {cloned.takes_problem}", file=sys.stderr)
        if cloned.problem:  # e.g. the disk filled up: the voice is kept all the same
            print(
                f"metavoice adapt: {cloned.problem}; the voice is saved in your library as "
                f"{cloned.path}",
                file=sys.stderr,
            )
            return 1
        voice = cloned.voice
        size = args.out.stat().st_size / 1024
        similarity = "" if voice.similarity is None else f", similarity {voice.similarity:.2f}"
        print(
            f"{args.out}: voice '{name}' from {len(takes)} takes, {voice.steps} steps in "
            f"{voice.seconds:.1f} s ({voice.analysis_seconds:.1f} s analysing the takes)"
            f"{similarity}, {size:.0f} KB"
        )
        return 0
    except (
        ValueError,
        FileNotFoundError,
        AdaptationError,
        ModelLoadError,
        ProfileError,
        OSError,
    ) as exc:
        print(f"metavoice adapt: {exc}", file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "adapt",
        help="clone a voice from a folder of recordings into a .mvoice profile",
        description="FOLDER holds recordings (*.wav, *.flac) with same-stem *.txt "
        "transcripts, or a metadata.tsv (relpath, speaker, text). Bad takes are skipped with "
        "the reason. A consent.wav in the folder is fingerprinted into the consent record. "
        "The takes and the consent recording are kept in your voice library under the "
        "voice's id, so that `metavoice profile rebuild` can re-create the voice when the "
        "model is updated.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="profile file (.mvoice)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--speaker-name",
        required=True,
        help="the person whose voice this is, for the consent record",
    )
    parser.add_argument("--name", help="the voice's name (default: the speaker's name)")
    defaults = AdaptConfig()  # the options' defaults are the settings' own
    parser.add_argument(
        "--steps",
        type=int,
        default=defaults.steps,
        help="the most adaptation steps (default %(default)s; the held-out take may stop it sooner)",
    )
    parser.add_argument(
        "--params",
        choices=PARAM_SETS,
        help=f"what to adapt: {', '.join(PARAM_SETS)} (default: what the model was "
        "meta-trained to adapt, else cln)",
    )
    parser.add_argument(
        "--no-holdout", action="store_true", help="use every take for training (no early stopping)"
    )
    parser.add_argument(
        "--keep",
        action="append",
        metavar="FILE",
        help="use this recording even if the checks find its words do not match its "
        "transcript, or its speaker not the others' (repeatable)",
    )
    parser.add_argument(
        "--keep-all", action="store_true", help="use every recording the checks question"
    )
    parser.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    add_device_option(parser)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.set_defaults(handler=_run)
