"""``metavoice bench``: measure the engine; results go into docs/benchmarks.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from metavoice_app.commands.common import add_device_option, runs_on_cpu_only, shared_data_or_say
from metavoice_app.core.adapt.config import PARAM_SETS
from metavoice_app.core.paths import AppPaths


def _publish(markdown: str, report: Path | None, section: str) -> None:
    """Print a benchmark's markdown and, if asked, replace its section of the report."""
    from metavoice_app.core.bench.report import update_section

    print(markdown)
    if report is not None:
        update_section(report, section, markdown)
        print(f"updated {report}", file=sys.stderr)


def _command() -> str:
    """The command line as typed (for the report), whichever way metavoice was started."""
    args = sys.argv[1:]
    start = args.index("bench") if "bench" in args else 0
    return "metavoice " + shlex.join(args[start:])


def _tts(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.bench.judge import JudgeUnavailableError
    from metavoice_app.core.bench.tts import TtsBenchConfig, run, to_markdown

    shared = shared_data_or_say(
        args, "bench tts", " for held-out sentences and the real dev recordings"
    )
    if shared is None:
        return 2
    config = TtsBenchConfig(
        model_dir=args.model,
        shared=shared,
        sentences=args.sentences,
        skip=args.skip,
        hard=args.hard,
        hard_skip=args.hard_skip,
        voices=args.voices,
        corpus=args.corpus,
        threads=args.threads,
        device=args.device or "cpu",
        variants=args.variants,
        references=not args.no_references,
    )
    try:
        result = run(config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    except (JudgeUnavailableError, ValueError) as exc:
        print(f"metavoice bench tts: {exc}", file=sys.stderr)
        return 2
    section = args.section or "tts"
    _publish(to_markdown(result, _command()), args.report, section)
    return 0


def _align(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.bench.align import run, to_markdown
    from metavoice_app.core.synth.engine import bundled_model_dir

    try:
        result = run(
            args.model or bundled_model_dir(),
            args.corpus,
            args.utterances,
            threads=args.threads,
            sources=tuple(args.sources or ()),
        )
    except ValueError as exc:
        print(f"metavoice bench align: {exc}", file=sys.stderr)
        return 2
    _publish(to_markdown(result, _command()), args.report, "align")
    return 0


def _dub(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.bench.dub import run, to_markdown

    shared = shared_data_or_say(args, "bench dub")
    if shared is None:
        return 2
    result = run(args.model, shared, args.minutes, args.threads)
    _publish(to_markdown(result, _command()), args.report, "dub")
    return 0


def _adapt(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.bench.adapt import plot, run, seen_speakers, to_markdown
    from metavoice_app.core.bench.judge import JudgeUnavailableError

    shared = shared_data_or_say(args, "bench adapt")
    if shared is None:
        return 2
    candidates = {"meta init": args.meta, "baseline": args.baseline, args.label: args.model}
    models = {label: folder for label, folder in candidates.items() if folder is not None}
    if not models:
        print(
            "metavoice bench adapt: give --meta and --baseline to compare them, or --model.",
            file=sys.stderr,
        )
        return 2
    seen = {label: seen_speakers(folder, shared, args.dev_set) for label, folder in models.items()}
    for label, known in seen.items():
        if known.weights or known.memory:
            print(
                f"metavoice bench adapt: {label} was trained on {len(known.weights)} of the "
                f"{args.dev_set} speakers (its voice memory on {len(known.memory)}): its "
                "numbers there are not held out",
                file=sys.stderr,
            )
    try:
        rows = run(
            models,
            shared,
            tuple(args.steps),
            support=args.takes,
            params=tuple(args.params or [None]),
            threads=args.threads,
            progress=lambda m: print(m, file=sys.stderr, flush=True),
            holdout=args.holdout,
            dev_set=args.dev_set,
            baseline=not args.no_statistics_baseline,
            exemplars={"on": (True,), "off": (False,), "both": (True, False)}[args.exemplars],
        )
    except JudgeUnavailableError as exc:
        print(f"metavoice bench adapt: {exc}", file=sys.stderr)
        return 2
    if args.plot is not None:
        plot(rows, args.plot, reference=0.91)
    plot_name = args.plot.name if args.plot is not None else None
    markdown = to_markdown(
        rows,
        _command(),
        plot_name,
        args.threads,
        holdout=args.holdout,
        dev_set=args.dev_set,
        seen=seen,
        support=args.takes,
    )
    _publish(markdown, args.report, args.section)
    return 0


def _encoder(args: argparse.Namespace, _paths: AppPaths) -> int:
    import json

    from metavoice_app.core.bench.encoder import run, to_markdown
    from metavoice_app.core.bench.judge import JudgeUnavailableError
    from metavoice_app.core.model.folder import ModelLoadError
    from metavoice_app.core.speaker.bundle import load_tools
    from metavoice_app.core.train.speaker_encoder import CONFIG, load_encoder

    shared = shared_data_or_say(args, "bench encoder")
    if shared is None:
        return 2
    if (args.encoder / CONFIG).is_file():
        encoder = load_encoder(args.encoder)
        training = json.loads((args.encoder / CONFIG).read_text(encoding="utf-8"))["training"]
        described = f"{training.get('steps')} steps on {training.get('speakers')} speakers"
    else:
        try:
            tools, problem = load_tools(args.encoder), ""
        except ModelLoadError as exc:
            tools, problem = None, f": {exc}"
        if tools is None:
            print(
                f"metavoice bench encoder: {args.encoder} is neither an encoder folder nor a "
                f"model with an attached encoder{problem}.",
                file=sys.stderr,
            )
            return 2
        encoder, described = tools.encoder, f"the one attached to {args.encoder}"
    try:
        rows = run(encoder, shared, with_reference=not args.no_reference)
    except JudgeUnavailableError as exc:
        print(f"metavoice bench encoder: {exc}", file=sys.stderr)
        return 2
    _publish(to_markdown(rows, _command(), described), args.report, "encoder")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = subparsers.add_parser(
        "bench",
        help="measure synthesis and adaptation speed and quality",
        description="Measure speed and quality.",
    )
    suites = bench.add_subparsers(dest="suite", metavar="SUITE", required=True)
    tts = suites.add_parser(
        "tts",
        help="naturalness (NISQA-TTS), intelligibility (Whisper WER), delivery and speed",
        description="Needs the bench setup: bash scripts/setup.sh bench (Whisper, NISQA-TTS; "
        "its weights are read from the shared folder's judges/).",
    )
    tts.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    tts.add_argument("--shared", type=Path, help="shared data folder")
    tts.add_argument("--corpus", type=Path, help="training corpus, to prove sentences unseen")
    tts.add_argument("--sentences", type=int, default=100, help="held-out prompts")
    tts.add_argument(
        "--skip", type=int, default=0, help="held-out prompts to pass over (a tuning slice)"
    )
    tts.add_argument("--hard", type=int, default=100, help="hard (test-other) sentences")
    tts.add_argument(
        "--hard-skip",
        type=int,
        default=0,
        help="hard sentences to pass over (a tuning slice: --hard-skip 60 --hard 40)",
    )
    tts.add_argument("--voices", nargs="+", help="model voices to test (default: four)")
    tts.add_argument(
        "--variants",
        nargs="+",
        default=["model"],
        help="post-filter variants side by side: model (the model's own), off, "
        "fit=DIR (the post-filter fitted into another copy of the same model), or "
        "overrides such as strength=1.25,pitch_range=1",
    )
    tts.add_argument(
        "--no-references",
        action="store_true",
        help="leave out flite, festival and the real recordings (for quick ablations)",
    )
    tts.add_argument("--section", default=None, help="report section (default: tts)")
    tts.add_argument("--threads", type=int, default=2)
    add_device_option(tts, default="cpu, the speed the benchmarks report")
    tts.add_argument("--report", type=Path, help="update this markdown file's tts section")
    tts.set_defaults(handler=_tts)
    align = suites.add_parser(
        "align",
        help="phone-boundary error of the forced aligner",
        description="Compare the aligner's phone boundaries with the "
        "engines' own timings on synthetic corpus utterances.",
    )
    align.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    align.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    align.add_argument("--utterances", type=int, default=200)
    align.add_argument("--threads", type=int, default=2)
    align.add_argument(
        "--sources",
        nargs="+",
        metavar="VOICE",
        help="only speakers of these sources or voices (e.g. ones left out of training)",
    )
    align.add_argument("--report", type=Path, help="update this markdown file's align section")
    runs_on_cpu_only(align)
    align.set_defaults(handler=_align)
    dub = suites.add_parser("dub", help="render time and timing accuracy of dubbing")
    dub.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    dub.add_argument("--shared", type=Path, help="shared data folder")
    dub.add_argument("--minutes", type=float, default=10.0, help="length of the subtitle track")
    dub.add_argument("--threads", type=int, default=2)
    dub.add_argument("--report", type=Path, help="update this markdown file's dub section")
    runs_on_cpu_only(dub)
    dub.set_defaults(handler=_dub)
    adapt = suites.add_parser(
        "adapt",
        help="few-shot adaptation: meta init vs baseline",
        description="Needs the bench extra (resemblyzer, whisper).",
    )
    adapt.add_argument("--meta", type=Path, help="meta-trained model folder")
    adapt.add_argument(
        "--baseline",
        type=Path,
        help="baseline model folder (ordinary multi-speaker training)",
    )
    adapt.add_argument(
        "--model", type=Path, help="any other model folder (e.g. a base model before meta-training)"
    )
    adapt.add_argument(
        "--label", default="base model", help="the --model folder's name in the table"
    )
    adapt.add_argument("--shared", type=Path, help="shared data folder")
    adapt.add_argument(
        "--dev-set",
        choices=("vctk", "test-other"),
        default="vctk",
        help="the 4 VCTK dev speakers, or the 10 held-out LibriSpeech test-other speakers",
    )
    adapt.add_argument("--steps", type=int, nargs="+", default=[0, 5, 10, 20, 50, 100])
    adapt.add_argument(
        "--params",
        nargs="+",
        choices=PARAM_SETS,
        help="what to adapt, one or several to compare (default: what each model was "
        "meta-trained to adapt, else cln)",
    )
    adapt.add_argument("--threads", type=int, default=2)
    adapt.add_argument(
        "--holdout",
        action="store_true",
        help="measure the wizard's recipe: the last take held out for early stopping, the "
        "voice it keeps judged, one adaptation for each --steps budget (use a separate "
        "--section)",
    )
    adapt.add_argument(
        "--exemplars",
        choices=("on", "off", "both"),
        default="on",
        help="exemplar refinement from the takes (the app's default: on), or both to compare",
    )
    adapt.add_argument(
        "--no-statistics-baseline",
        action="store_true",
        help="leave out the non-learned baseline (the default voice with its statistics "
        "moved to the takes)",
    )
    adapt.add_argument(
        "--takes",
        type=int,
        choices=range(1, 6),
        default=5,
        metavar="N",
        help="recordings to learn from, 1-5 (default 5): each speaker's first N; the queries "
        "stay the same (a first sketch is made from the takes recorded so far)",
    )
    adapt.add_argument("--plot", type=Path, help="draw similarity vs steps to this PNG")
    adapt.add_argument("--report", type=Path, help="update this markdown file's section")
    adapt.add_argument(
        "--section", default="adapt", help="the report section to replace (default: adapt)"
    )
    runs_on_cpu_only(adapt)
    adapt.set_defaults(handler=_adapt)
    encoder = suites.add_parser(
        "encoder",
        help="speaker encoder: equal error rate on unseen speakers",
        description="Compare our speaker encoder with Resemblyzer on the VCTK dev speakers.",
    )
    encoder.add_argument(
        "--encoder",
        type=Path,
        required=True,
        help="encoder folder (from train encoder) or a model folder with one attached",
    )
    encoder.add_argument("--shared", type=Path, help="shared data folder")
    encoder.add_argument(
        "--no-reference", action="store_true", help="skip Resemblyzer (no bench extra needed)"
    )
    encoder.add_argument("--report", type=Path, help="update this markdown file's encoder section")
    runs_on_cpu_only(encoder)
    encoder.set_defaults(handler=_encoder)
