"""``metavoice train``: build the corpus and train models."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from metavoice_app.commands.common import (
    add_device_option,
    default_shared_data,
    print_progress,
    runs_on_cpu_only,
    shared_data_or_say,
)
from metavoice_app.core.adapt.config import INNER_OPTIMIZERS, PARAM_SETS
from metavoice_app.core.features.postfilter import MAX_PHONE_FRAMES
from metavoice_app.core.meta.config import (
    ALGORITHMS,
    OUTER_PARAMS,
    SECOND_ORDER,
    MetaConfig,
    MetaTrainConfig,
)
from metavoice_app.core.paths import AppPaths
from metavoice_app.core.train.config import TRAIN_PARTS, RefinerTraining, TrainConfig


def _defaults(config: Any) -> dict[str, Any]:
    """A settings dataclass's plain defaults by field name, for its options' defaults:
    written once, in the settings."""
    return {
        f.name: f.default
        for f in dataclasses.fields(config)
        if f.default is not dataclasses.MISSING
    }


def _corpus(args: argparse.Namespace, paths: AppPaths) -> int:
    from metavoice_app.core.train.corpus.build import CorpusConfig, build
    from metavoice_app.core.train.corpus.engines import ENGINE_VOICES

    out = args.out or paths.cache_dir / "corpus"
    shared = None if args.no_real else args.shared or default_shared_data()
    text = None if args.no_synthetic else args.text
    if text is None and not args.no_synthetic and shared is not None:
        text = shared / "text" / "vctk_prompts.txt"
    if text is None and shared is None:
        print(
            "metavoice train corpus: nothing to build: give --text FILE for synthetic "
            "speakers and/or --shared DIR for real ones.",
            file=sys.stderr,
        )
        return 2
    if text is not None and not text.is_file():
        print(f"metavoice train corpus: no sentence file at {text}", file=sys.stderr)
        return 2
    voices = ENGINE_VOICES
    if args.engines:
        wanted = set(args.engines)
        voices = tuple(v for v in ENGINE_VOICES if v.engine in wanted or v.name in wanted)
    config = CorpusConfig(
        out=out,
        text_file=text,
        shared=shared,
        engine_voices=voices,
        speakers_per_voice={
            "flite": args.speakers_per_voice,
            "festival": args.speakers_per_voice,
            "espeak": max(1, args.speakers_per_voice // 2),
        },
        utterances_per_speaker=args.utterances,
        real_pseudo_speakers=args.real_pseudo_speakers,
        max_real_speakers=args.max_real_speakers,
        jobs=args.jobs,
        seed=args.seed,
    )
    print(f"building the corpus in {out}", file=sys.stderr)
    corpus = build(config, progress=print_progress)
    speakers = corpus.speakers()
    minutes = sum(s.n_frames for s in speakers) / 100 / 60
    print(
        f"corpus ready: {len(speakers)} speakers, "
        f"{sum(len(s.utterances) for s in speakers)} utterances, {minutes:.0f} minutes "
        f"({sum(s.real for s in speakers)} real or real-derived speakers)"
    )
    return 0


def _publish_model(source: Path, target: Path) -> None:
    """Replace the model folder ``target`` with a copy of ``source``."""
    import shutil

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)


def _base(args: argparse.Namespace, _paths: AppPaths) -> int:
    if args.default_voice and args.export is None:
        print(
            "metavoice train base: --default-voice names the exported model's voice; give "
            "--export too",
            file=sys.stderr,
        )
        return 2

    from metavoice_app.core.model.config import ModelConfig
    from metavoice_app.core.model.folder import ModelFolder, ModelLoadError
    from metavoice_app.core.train.base import BEST_DIR, StepReport, Trainer

    model = ModelConfig.tiny() if args.tiny else ModelConfig()
    config = TrainConfig(
        corpus=args.corpus,
        out=args.out,
        model=model,
        steps=args.steps,
        batch_frames=args.batch_frames,
        max_minutes=args.max_minutes,
        device=args.device or "auto",
        threads=args.threads,
        validate_every=args.validate_every,
        seed=args.seed,
        init_from=args.init_from,
        parts=args.parts,
        learning_rate=args.learning_rate,
        exclude=tuple(args.exclude),
    )

    def report(r: StepReport) -> None:
        losses = " ".join(f"{k}={v:.3f}" for k, v in r.losses.items())
        valid = f" validation={r.validation:.4f}" if r.validation is not None else ""
        print_progress(r.step, r.steps, f"{losses} ({r.frames_per_second:.0f} frames/s){valid}")

    trainer = Trainer(config)
    voices = [voice.id for voice in trainer.voices]
    if args.default_voice and args.default_voice not in voices:
        # said before training, not hours later at the export
        named = ", ".join(voices[:3]) + (", …" if len(voices) > 3 else "")
        print(
            f"metavoice train base: --default-voice {args.default_voice!r} is not one of the "
            f"corpus's {len(voices)} voices ({named}); nothing was trained",
            file=sys.stderr,
        )
        return 2
    trainer.run(report)
    best = args.out / BEST_DIR
    if not ModelFolder(best).exists():
        trainer.export(best)
    if args.export is not None:
        from metavoice_app.core.train.modelcard import write_model_card

        _publish_model(best, args.export)
        if args.default_voice:
            try:
                ModelFolder(args.export).set_default_voice(args.default_voice)
            except ModelLoadError as exc:
                print(f"metavoice train base: {exc}", file=sys.stderr)
                return 2
        write_model_card(args.export, args.corpus)
        print(f"exported the best weights to {args.export}")
    print(f"stopped at step {trainer.step}; best validation loss {trainer.best:.4f}")
    return 0


def _split(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.model.checkpoint import load_model
    from metavoice_app.core.train.corpus.split import SplitConfig, split_corpus
    from metavoice_app.core.train.corpus.store import Corpus

    model, info = load_model(args.model)
    config = SplitConfig(min_confidence=args.min_confidence)
    report = split_corpus(Corpus(args.corpus), model, info.model_id, config, print_progress)
    print(
        f"split {report.clips} clips of {report.speakers} speakers into {report.pieces} "
        f"pieces; {report.dropped} clips dropped for failed alignment"
    )
    return 0


def _align(args: argparse.Namespace, _paths: AppPaths) -> int:
    import torch

    from metavoice_app.core.model.checkpoint import load_model
    from metavoice_app.core.train.corpus.align import align_corpus
    from metavoice_app.core.train.corpus.store import Corpus

    if args.threads:
        torch.set_num_threads(args.threads)
    model, info = load_model(args.model)
    report = align_corpus(
        Corpus(args.corpus), model, info.model_id, args.min_confidence, print_progress
    )
    print(
        f"aligned {report.aligned} utterances of {report.speakers} speakers; "
        f"{report.rejected} left unaligned (confidence below {args.min_confidence})"
    )
    if report.awaiting_split:
        print(
            f"{report.awaiting_split} long-clip speakers were skipped: run `metavoice train "
            "split` on them first, then align again"
        )
    return 0


def _encoder(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.train.speaker_encoder import EncoderTrainConfig, train_encoder

    config = EncoderTrainConfig(
        corpus=args.corpus,
        out=args.out,
        steps=args.steps,
        speakers_per_batch=args.speakers,
        max_minutes=args.max_minutes,
        threads=args.threads,
        seed=args.seed,
    )
    train_encoder(
        config, lambda step, loss: print_progress(step, args.steps, f"GE2E loss {loss:.3f}")
    )
    print(f"speaker encoder in {args.out}")
    return 0


def _attach_encoder(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.train.speaker_tools import attach

    attach(args.model, args.encoder, args.corpus, memory_start=not args.keep_start)
    if args.keep_start:
        print(f"{args.model} now has a speaker encoder (similarity meter, voice map)")
    else:
        print(f"{args.model} now starts new voices from its voice memory")
    return 0


def _refit_memory(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.train.corpus.real import held_out_voices
    from metavoice_app.core.train.speaker_tools import refit_memory

    leave_out = set(args.leave_out)
    if args.held_out:
        shared = shared_data_or_say(args, "train refit-memory", " to find the held-out speakers")
        if shared is None:
            return 2
        leave_out |= set(held_out_voices(shared))
    if not leave_out:
        print(
            "metavoice train refit-memory: nothing to leave out: give --leave-out VOICE "
            "and/or --held-out.",
            file=sys.stderr,
        )
        return 2
    try:
        record, dropped = refit_memory(args.model, leave_out, memory_start=args.start)
    except (OSError, ValueError) as error:
        print(f"metavoice train refit-memory: {error}", file=sys.stderr)
        return 1
    if not dropped:
        print(f"none of those voices is in the voice memory of {args.model}; left as it was")
        return 0
    start = "starts new voices from it" if record.start else "keeps the model's start"
    print(
        f"voice memory of {args.model} refitted on {record.speakers} voices, "
        f"{len(dropped)} left out ({', '.join(sorted(dropped))}); "
        f"adaptation {start}"
    )
    return 0


def _postfilter(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.model.checkpoint import write_postfilter
    from metavoice_app.core.synth.engine import SpeechEngine
    from metavoice_app.core.train.modelcard import update_postfilter_section
    from metavoice_app.core.train.postfilter import default_speakers, fit

    shared = shared_data_or_say(args, "train postfilter")
    if shared is None:
        return 2
    engine = SpeechEngine(args.model, device="cpu")
    envelope_speakers, delivery_speakers = default_speakers(shared)
    result = fit(
        engine,
        envelope_speakers,
        per_speaker=args.per_speaker,
        strength=args.strength,
        threads=args.threads,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
        delivery_speakers=delivery_speakers,
        min_phone_frames=args.min_phone_frames,
    )
    write_postfilter(args.model, result.postfilter, result.record(), result.voices)
    update_postfilter_section(args.model)
    pf = result.postfilter
    own_voicing = sum(v.voicing_threshold is not None for v in result.voices.values())
    print(
        f"{args.model}: post-filter fitted on {len(result.speakers)} speakers, "
        f"{result.sentences} sentences: envelope gains {min(pf.envelope_gain):.2f} to "
        f"{max(pf.envelope_gain):.2f} (strength {pf.strength:g}), pitch range "
        f"x{pf.pitch_range:.2f}, voicing threshold {pf.voicing_threshold:.2f}, durations "
        f"x{pf.duration_scale:.2f}; {len(result.voices)} voices with their own pitch range "
        f"and pace, {own_voicing} with their own voicing threshold"
    )
    return 0


def _refiner(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.train.corpus.real import training_speakers
    from metavoice_app.core.train.modelcard import update_refiner_section
    from metavoice_app.core.train.refiner import train_refiner

    shared = shared_data_or_say(args, "train refiner")
    if shared is None:
        return 2
    speakers = training_speakers(shared)
    if not speakers:
        print(
            f"metavoice train refiner: no real speakers' recordings under {shared} "
            "(speech/vcc2016, speech/librispeech_untranscribed)",
            file=sys.stderr,
        )
        return 2
    before, after = train_refiner(
        args.model,
        speakers,
        args.work,
        RefinerTraining(steps=args.steps, clone_draws=args.clone_draws),
        threads=args.threads,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    update_refiner_section(args.model, before, after, args.steps, args.clone_draws)
    print(
        f"{args.model}: envelope refiner written; envelope error on the kept-apart clips "
        f"{before:.4f} without it, {after:.4f} with it. Refit the post-filter "
        "(metavoice train postfilter) or keep its gains: bench tts --variants decides."
    )
    return 0


def _meta(args: argparse.Namespace, _paths: AppPaths) -> int:
    from metavoice_app.core.meta.train import MetaReport, train_meta

    meta = MetaConfig(
        algorithm=args.algorithm,
        params=args.params,
        inner_steps=args.inner_steps,
        inner_lr=args.inner_lr,
        outer_lr=args.outer_lr,
        tasks_per_step=args.tasks,
        inner_optimizer=args.inner_optimizer,
        outer_params=args.outer_params,
        start_weight=args.start_weight,
    )
    config = MetaTrainConfig(
        corpus=args.corpus,
        init=args.init,
        out=args.out,
        meta=meta,
        steps=args.steps,
        support=args.support,
        query=args.query,
        real_fraction=args.real_fraction,
        max_minutes=args.max_minutes,
        device=args.device or "auto",
        seed=args.seed,
        threads=args.threads,
    )

    def report(r: MetaReport) -> None:
        print_progress(
            r.step,
            r.steps,
            f"query loss {r.query_before:.3f} -> "
            f"{r.query_after:.3f} after adaptation ({r.seconds_per_step:.1f} s)",
        )

    exported = train_meta(config, report)
    if args.export is not None and exported.exists():
        _publish_model(exported, args.export)
    print(f"meta-trained model in {exported}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    train = subparsers.add_parser(
        "train",
        help="build the training corpus and train models",
        description="Build the training corpus and train models.",
    )
    stages = train.add_subparsers(dest="stage", metavar="STAGE", required=True)
    corpus = stages.add_parser(
        "corpus",
        help="build the multi-speaker training corpus (resumable)",
        description="Synthesise sentences with flite, festival and eSpeak NG voices, turn "
        "them into pseudo-speakers, add the real speakers from the shared data folder, and "
        "store WORLD features with phone labels. Re-running resumes.",
    )
    corpus.add_argument("--out", type=Path, help="corpus folder (default: the app's cache)")
    corpus.add_argument(
        "--text", type=Path, help="sentences, one per line (default: the shared VCTK prompts)"
    )
    corpus.add_argument(
        "--shared",
        type=Path,
        help="shared data folder with speech/ and text/ (default: "
        "$METAVOICE_SHARED_DATA or ../shared/data beside the checkout)",
    )
    corpus.add_argument(
        "--engines",
        nargs="+",
        metavar="NAME",
        help="only these engines or voices (flite, festival, espeak, flite-slt…)",
    )
    corpus.add_argument(
        "--speakers-per-voice",
        type=int,
        default=22,
        help="pseudo-speakers per flite/festival voice; eSpeak gets half",
    )
    corpus.add_argument(
        "--utterances", type=int, default=20, help="sentences per synthetic speaker"
    )
    corpus.add_argument(
        "--real-pseudo-speakers",
        type=int,
        default=4,
        help="warped pseudo-speakers made from each VCC2016 speaker",
    )
    corpus.add_argument("--max-real-speakers", type=int, help="cap on real speakers (tests)")
    corpus.add_argument("--no-synthetic", action="store_true", help="skip engine voices")
    corpus.add_argument("--no-real", action="store_true", help="skip real speakers")
    corpus.add_argument("--jobs", type=int, default=2, help="worker processes")
    corpus.add_argument("--seed", type=int, default=0)
    runs_on_cpu_only(corpus)
    corpus.set_defaults(handler=_corpus)
    base = stages.add_parser(
        "base",
        help="train the multi-speaker base model (resumable)",
        description="Train the acoustic model on a corpus. State is checkpointed in --out "
        "every few minutes and on interruption; re-running resumes. The best weights by "
        "validation loss are kept in OUT/best.",
    )
    base_defaults = _defaults(TrainConfig)  # the options' defaults are the settings' own
    base.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    base.add_argument("--out", type=Path, required=True, help="training folder")
    base.add_argument(
        "--steps", type=int, default=base_defaults["steps"], help="total optimiser steps"
    )
    base.add_argument(
        "--batch-frames",
        type=int,
        default=base_defaults["batch_frames"],
        help="frames per batch (padded), trades memory for speed",
    )
    base.add_argument("--max-minutes", type=float, help="stop (and checkpoint) after this long")
    base.add_argument("--validate-every", type=int, default=base_defaults["validate_every"])
    base.add_argument("--threads", type=int, help="CPU threads for torch")
    add_device_option(base)
    base.add_argument("--tiny", action="store_true", help="a tiny model (tests, smoke runs)")
    base.add_argument("--export", type=Path, help="copy the best weights to this model folder")
    base.add_argument("--default-voice", help="with --export: the voice the app starts with")
    base.add_argument(
        "--init-from",
        type=Path,
        help="start from this model folder's weights (when --out has no state)",
    )
    base.add_argument(
        "--parts",
        choices=TRAIN_PARTS,
        default=base_defaults["parts"],
        help="aligner: train only the forced aligner's phone classifier (fast)",
    )
    base.add_argument(
        "--learning-rate",
        type=float,
        default=base_defaults["learning_rate"],
        help="peak learning rate",
    )
    base.add_argument(
        "--exclude",
        nargs="+",
        default=base_defaults["exclude"],
        metavar="VOICE",
        help="leave out speakers made from these voices or sources (e.g. festival)",
    )
    base.add_argument("--seed", type=int, default=base_defaults["seed"])
    base.set_defaults(handler=_base)
    align = stages.add_parser(
        "align",
        help="force-align the corpus utterances that have no engine timings",
        description="Give every utterance without trusted engine timings (the real "
        "speakers) phone durations from a trained model's aligner, so that the acoustic "
        "model trains on them with exact alignments. Utterances whose alignment is "
        "implausible are left without durations. Re-running with another model realigns.",
    )
    align.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    align.add_argument("--model", type=Path, required=True, help="trained model folder")
    align.add_argument(
        "--min-confidence",
        type=float,
        default=-4.0,
        help="leave utterances whose alignment path scores below this unaligned",
    )
    align.add_argument("--threads", type=int, help="CPU threads for torch")
    runs_on_cpu_only(align)
    align.set_defaults(handler=_align)
    split = stages.add_parser(
        "split",
        help="split long real clips at pauses with a trained model's aligner",
        description="Cut LibriSpeech clips longer than 6 s into 2-8 s pieces at pauses found "
        "by the model's aligner, and drop clips whose alignment fails. Resumable.",
    )
    split.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    split.add_argument("--model", type=Path, required=True, help="trained model folder")
    split.add_argument(
        "--min-confidence",
        type=float,
        default=-4.0,
        help="drop clips whose alignment path scores below this",
    )
    runs_on_cpu_only(split)
    split.set_defaults(handler=_split)
    encoder = stages.add_parser(
        "encoder",
        help="train the speaker encoder (GE2E) on every corpus speaker",
        description="Metric learning over speakers: 1.6 s crops of each speaker's WORLD "
        "features must sit nearer their own speaker's centroid than any other. Resumable.",
    )
    encoder.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    encoder.add_argument("--out", type=Path, required=True, help="encoder folder")
    encoder.add_argument("--steps", type=int, default=20_000)
    encoder.add_argument("--speakers", type=int, default=32, help="speakers per batch")
    encoder.add_argument("--max-minutes", type=float)
    encoder.add_argument("--threads", type=int)
    encoder.add_argument("--seed", type=int, default=0)
    runs_on_cpu_only(encoder)
    encoder.set_defaults(handler=_encoder)
    attach = stages.add_parser(
        "attach-encoder",
        help="add a speaker encoder and voice memory to a model folder",
        description="Embed the model's training speakers with the encoder and fit the voice "
        "memory that maps an embedding to a starting speaker vector for adaptation.",
    )
    attach.add_argument("--model", type=Path, required=True, help="model folder to extend")
    attach.add_argument("--encoder", type=Path, required=True, help="trained encoder folder")
    attach.add_argument("--corpus", type=Path, required=True, help="the model's corpus")
    attach.add_argument(
        "--keep-start",
        action="store_true",
        help="keep adaptation starting from the model's (meta-learned) starting vector; the "
        "encoder then serves the similarity meter and the voice map only",
    )
    runs_on_cpu_only(attach)
    attach.set_defaults(handler=_attach_encoder)
    refit = stages.add_parser(
        "refit-memory",
        help="fit a model's voice memory again without some voices (held-out dev speakers)",
        description="Refit the voice memory from the voice prints stored in the model folder, "
        "leaving out the voices given; no corpus is read and the weights, model id and saved "
        "voices are untouched. For a model trained before a dev speaker was held out.",
    )
    refit.add_argument("--model", type=Path, required=True, help="model folder to refit")
    refit.add_argument(
        "--leave-out", action="append", default=[], metavar="VOICE", help="a voice id to drop"
    )
    refit.add_argument(
        "--held-out",
        action="store_true",
        help="drop the voices of the dev speakers held out of training (found in --shared)",
    )
    refit.add_argument("--shared", type=Path, help="shared data folder (for --held-out)")
    refit.add_argument(
        "--start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="adaptation starts new voices from the memory's blend (default) or, with "
        "--no-start, from the model's own starting vector",
    )
    runs_on_cpu_only(refit)
    refit.set_defaults(handler=_refit_memory)
    postfilter = stages.add_parser(
        "postfilter",
        help="fit a model's synthesis post-filter on real speakers' recordings",
        description="Compare the model's frames with real recordings of its VCC2016 voices "
        "(their own texts) and store, in the model's config, the envelope gains that restore "
        "the real within-sentence variance and the voicing threshold, and for every real "
        "voice with recordings its speaker's pitch range, pace and voicing threshold. The "
        "weights, and so the "
        "voices made for the model, are untouched.",
    )
    postfilter.add_argument("--model", type=Path, required=True, help="model folder to fit")
    postfilter.add_argument("--shared", type=Path, help="shared data folder")
    postfilter.add_argument(
        "--per-speaker", type=int, default=20, help="recordings per speaker (default 20)"
    )
    postfilter.add_argument(
        "--strength",
        type=float,
        default=1.5,
        help="power of the envelope gains (1 restores the real spread, 0 turns it off; "
        "default 1.5, chosen on the tuning slice of bench tts)",
    )
    postfilter.add_argument(
        "--min-phone-frames",
        type=int,
        default=5,
        choices=range(1, MAX_PHONE_FRAMES + 1),
        metavar="N",
        help="every speech sound lasts at least N 10 ms frames (1 = as the model predicts; "
        "default 5, chosen on the tuning slice of bench tts)",
    )
    postfilter.add_argument("--threads", type=int, default=2)
    runs_on_cpu_only(postfilter)
    postfilter.set_defaults(handler=_postfilter)
    refiner = stages.add_parser(
        "refiner",
        help="train a model's envelope refiner on real speakers' recordings (resumable)",
        description="Read the recordings of the model's real training voices at their "
        "force-aligned timing and train a small network, the model frozen, that corrects "
        "the model's envelopes towards the real ones; write it beside the weights as "
        "refiner.safetensors. With --clone-draws, clones of the speakers with recordings "
        "enough, made from a few takes as the wizard makes them, are read too, so the "
        "refiner also learns the frames of cloned voices. The weights, and so the voices made for the model, are "
        "untouched. Pairs and checkpoints go to --work, from where a rerun resumes.",
    )
    refiner.add_argument("--model", type=Path, required=True, help="model folder to refine")
    refiner.add_argument("--shared", type=Path, help="shared data folder")
    refiner.add_argument(
        "--work", type=Path, required=True, help="folder for the pairs and checkpoints"
    )
    refiner.add_argument("--steps", type=int, default=RefinerTraining.steps, help="training steps")
    refiner.add_argument(
        "--clone-draws",
        type=int,
        default=RefinerTraining.clone_draws,
        help="clones made of each speaker with recordings enough to read pairs (default 0: none)",
    )
    refiner.add_argument("--threads", type=int, default=2)
    runs_on_cpu_only(refiner)
    refiner.set_defaults(handler=_refiner)
    meta_defaults = MetaConfig()  # the options' defaults are the settings' own
    run_defaults = _defaults(MetaTrainConfig)
    meta = stages.add_parser(
        "meta",
        help="meta-train the few-shot initialisation (resumable; torchrun for DDP)",
        description="Meta-learn where adaptation starts: episodes of one speaker each, a "
        "support set to adapt on and a query set to judge the adaptation. Run under torchrun "
        "(e.g. torchrun --nproc_per_node 2 -m metavoice_app train meta ...) to split each "
        "meta-batch's tasks across processes.",
    )
    meta.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    meta.add_argument("--init", type=Path, required=True, help="model folder to start from")
    meta.add_argument("--out", type=Path, required=True, help="meta-training folder")
    meta.add_argument("--algorithm", choices=ALGORITHMS, default=meta_defaults.algorithm)
    meta.add_argument(
        "--params",
        choices=PARAM_SETS,
        default=meta_defaults.params,
        help="what the inner loop adapts",
    )
    meta.add_argument("--inner-steps", type=int, default=meta_defaults.inner_steps)
    meta.add_argument("--inner-lr", type=float, default=meta_defaults.inner_lr)
    first_order = [a for a in ALGORITHMS if a not in SECOND_ORDER]
    meta.add_argument(
        "--inner-optimizer",
        choices=INNER_OPTIMIZERS,
        help="the inner loop's update rule, which the app's adapter then follows "
        f"(default: adam for {' and '.join(first_order)}, sgd for {' and '.join(SECOND_ORDER)})",
    )
    meta.add_argument("--outer-lr", type=float, default=meta_defaults.outer_lr)
    meta.add_argument(
        "--outer-params",
        choices=OUTER_PARAMS,
        default=meta_defaults.outer_params,
        help="what the outer loop updates: every weight; only what the inner loop adapts "
        "(keeps the pretrained shared weights; for starting from a trained model); or only "
        "the starting vector (keeps every weight, so the built-in voices sound the same)",
    )
    meta.add_argument(
        "--start-weight",
        type=float,
        default=meta_defaults.start_weight,
        help="weight of the query loss before adaptation in the outer objective, so the "
        "unadapted voice stays good too (default 0: only the adapted loss counts)",
    )
    meta.add_argument(
        "--tasks",
        type=int,
        default=meta_defaults.tasks_per_step,
        help="tasks (speakers) per meta-step",
    )
    meta.add_argument(
        "--support",
        type=int,
        default=run_defaults["support"],
        help="support utterances per task",
    )
    meta.add_argument(
        "--real-fraction",
        type=float,
        default=run_defaults["real_fraction"],
        help="share of tasks drawn from real speakers (default %(default)s; the app adapts "
        "to people)",
    )
    meta.add_argument(
        "--query", type=int, default=run_defaults["query"], help="query utterances per task"
    )
    meta.add_argument("--steps", type=int, default=run_defaults["steps"])
    meta.add_argument("--max-minutes", type=float)
    meta.add_argument("--threads", type=int)
    add_device_option(meta)
    meta.add_argument("--seed", type=int, default=run_defaults["seed"])
    meta.add_argument("--export", type=Path, help="copy the meta-trained model folder here")
    meta.set_defaults(handler=_meta)
