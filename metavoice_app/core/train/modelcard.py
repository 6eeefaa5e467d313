"""Writing MODEL_CARD.md for an exported model from what is known about it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from metavoice_app.core.atomic import atomic_write_text
from metavoice_app.core.features import world
from metavoice_app.core.features.postfilter import VoiceDelivery
from metavoice_app.core.model.checkpoint import load_model, read_info
from metavoice_app.core.model.refiner import REFINER_FILE
from metavoice_app.core.train.corpus.store import Corpus

CREDITS = """\
- Synthetic voices: flite (CMU; kal16, awb, rms, slt), festival (University of Edinburgh;
  kal and ked diphone voices, CMU ARCTIC slt HTS voice) and eSpeak NG.
- Sentences: CSTR VCTK Corpus prompts (Yamagishi, Veaux, MacDonald; University of Edinburgh),
  CC BY 4.0.
- Real speakers: Voice Conversion Challenge 2016 database (Toda, Chen, Saito, Villavicencio,
  Wester, Wu, Yamagishi), Open Data Commons Attribution License; LibriSpeech ASR corpus
  (Panayotov, Chen, Povey, Khudanpur), CC BY 4.0.
- Lexicon: the CMU Pronouncing Dictionary.
- The VCTK speakers p225-p228 are the adaptation development set and were never trained on.
"""


POSTFILTER_HEADING = "## Synthesis post-filter"
REFINER_HEADING = "## Envelope refiner"


def postfilter_section(folder: Path) -> list[str]:
    """The card's account of the post-filter in a model's config (none if it has none)."""
    info = read_info(folder)
    postfilter = info.postfilter
    if postfilter.is_identity:
        return []
    fitted = info.postfilter_fit
    gains = postfilter.envelope_gain
    return [
        POSTFILTER_HEADING,
        "",
        "Applied to the model's frames before vocoding (every voice, cloned ones too); the "
        "weights are untouched. Fitted by `metavoice train postfilter` on "
        f"{fitted.get('sentences')} real recordings of {len(fitted.get('speakers', []))} "
        "VCC2016 voices, read by the model with its own durations:",
        "",
        f"- envelope: each coded coefficient's deviation from the sentence mean scaled by "
        f"the real-to-predicted spread ratio ({min(gains):.2f} to {max(gains):.2f}, raised to "
        f"{postfilter.strength:g}), undoing the model's over-smoothing"
        if gains
        else "- envelope: as predicted",
        _voicing_line(postfilter.voicing_threshold, info.voice_delivery),
        f"- pitch range (around each sentence's mean) and phone durations fitted for each of "
        f"{len(info.voice_delivery)} real voices to its speaker's recordings; other voices "
        f"take the medians, pitch range x{postfilter.pitch_range:.2f} and durations "
        f"x{postfilter.duration_scale:.2f} (the model spoke faster, in a narrower range, "
        "than its real speakers)",
        *_floor_line(postfilter.min_phone_frames, fitted.get("min_phone_frames", 1)),
    ]


def _floor_line(floor: int, fitted_with: object) -> list[str]:
    if floor <= 1:
        return []
    paces = (
        "the paces above were fitted with it"
        if fitted_with == floor
        else "set after the fit, whose paces were measured without it"
    )
    return [
        f"- every speech sound at least {floor} frames ({10 * floor} ms) at normal speed "
        f"(fewer when faster speech is asked for); {paces}"
    ]


def _voicing_line(pooled: float, voices: dict[str, VoiceDelivery]) -> str:
    own = sorted(d.voicing_threshold for d in voices.values() if d.voicing_threshold is not None)
    if not own:
        return f"- voicing threshold {pooled:.2f}"
    return (
        f"- voicing threshold fitted for each of {len(own)} real voices to its speaker's "
        f"voiced share ({own[0]:.2f} to {own[-1]:.2f}, median {own[len(own) // 2]:.2f}); "
        f"other voices (and cloned voices without their own) {pooled:.2f}, the best of a "
        "short grid on the VCC2016 voices pooled"
    )


def _replace_section(folder: Path, heading: str, section: list[str]) -> Path:
    """Rewrite only one section of an existing card (the rest, such as the data table
    that needs the corpus, stays as written); a new one goes before the voices."""
    path = folder / "MODEL_CARD.md"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    if heading in lines:
        start = lines.index(heading)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        del lines[start:end]
    else:
        start = next((i for i, line in enumerate(lines) if line == "## Voices"), len(lines))
    if section:
        lines[start:start] = [*section, ""]
    atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path


def update_postfilter_section(folder: Path) -> Path:
    """Rewrite the card's post-filter section from the folder's config."""
    return _replace_section(folder, POSTFILTER_HEADING, postfilter_section(folder))


def update_refiner_section(
    folder: Path, before: float, after: float, steps: int, clone_draws: int = 0
) -> Path:
    """Write the card's envelope refiner section after training one."""
    size = (folder / REFINER_FILE).stat().st_size / 2**20
    clones = (
        f" Each VCC2016 speaker was also cloned {clone_draws} times from 5 of its clips, as "
        "the wizard clones a person, and each clone read other clips the same way, so the "
        "refiner learned cloned voices' frames too."
        if clone_draws
        else ""
    )
    section = [
        REFINER_HEADING,
        "",
        f"`{REFINER_FILE}` ({size:.1f} MB, float16): a small convolutional network, trained "
        f"for {steps} steps after the model with the model frozen, that corrects the model's "
        "coded envelopes (coefficients 1 and up) towards real ones. It learned from the "
        "recordings of the model's real training voices (VCC2016, LibriSpeech training "
        "speakers), each read by the model at its force-aligned phone timing, the real frames "
        f"analysed as the model's own training frames are (WORLD, `{world.RECORDING_F0}` F0)."
        f"{clones} Envelope error "
        "(mean absolute, normalised units) on the last clips of each VCC2016 speaker, kept "
        f"out of its training: {before:.4f} without it, {after:.4f} with it. It is not part "
        "of the weights, so the model id, and the voices made for it, are unchanged. "
        "Listening measures: docs/benchmarks.md (envelope refiner).",
    ]
    return _replace_section(folder, REFINER_HEADING, section)


def write_model_card(folder: Path, corpus_dir: Path | None = None, notes: str = "") -> Path:
    model, info = load_model(folder)
    config = info.config
    parameters = sum(p.numel() for p in model.parameters())
    training = info.training
    lines = [
        "# MetaVoice Studio base model",
        "",
        f"Model id `{info.model_id[:16]}…` (sha256 of `model.safetensors`). "
        f"{parameters / 1e6:.1f} M parameters, stored in float16 "
        f"({(folder / 'model.safetensors').stat().st_size / 2**20:.1f} MB).",
        "",
        "## What it is",
        "",
        "A non-autoregressive multi-speaker acoustic model of the FastSpeech2 family: "
        f"a {config.encoder_layers}-layer Transformer phone encoder, duration, pitch and energy "
        f"predictors, and a {config.decoder_layers}-layer Transformer decoder whose layer "
        f"norms are conditioned on a {config.speaker_dim}-dimensional speaker vector "
        f"(d_model {config.d_model}). It predicts 16 kHz WORLD vocoder features (40 coded "
        "envelope coefficients, log-F0, voicing, aperiodicity) every 10 ms; pyworld turns them "
        "into audio. Engine voices train on the engines' own phone timings; real recordings on "
        "forced alignments by the model's aligner, a frame-wise phone classifier read by "
        "monotonic alignment search.",
        "",
        "## Training",
        "",
        f"- steps: {training.steps}, epochs: {training.epochs}, "
        f"time: {training.hours} h on {training.device}",
        f"- best validation loss: {training.best_validation_loss}",
        f"- data: {training.utterances} utterances, {training.minutes_of_speech} minutes",
        "- few-shot initialisation: "
        + (training.init or "average training voice (no meta-learning yet)"),
        f"- default voice: `{info.default_voice}`",
    ]
    meta = training.meta
    if meta is not None:
        lines += [
            f"- meta-training: {meta.get('algorithm')}, {training.meta_steps} meta-steps "
            f"({training.meta_hours} h on {training.meta_ranks} process(es)), "
            f"{meta.get('tasks_per_step')} speakers per step; inner loop: {meta.get('params')}, "
            f"{meta.get('inner_steps')} {meta.get('inner_optimizer', 'sgd')} steps at "
            f"{meta.get('inner_lr')} (speaker vector {meta.get('inner_speaker_lr')}), which "
            "the app's adapter follows; the outer loop moved "
            + {
                "adapted": "only those parameters and the starting vector",
                "start": "only the starting vector (every other weight is the initial model's)",
            }.get(str(meta.get("outer_params")), "every weight")
            + (
                f", judged after adaptation and (weight {meta['start_weight']}) before it"
                if meta.get("start_weight")
                else ""
            ),
        ]
    memory = info.voice_memory
    if memory is not None:
        lines += [
            f"- speaker encoder and voice memory attached: {memory.prototypes} "
            f"prototypes fitted to {memory.speakers} training voices; adaptation starts "
            + (
                "from the memory's blend of known voices"
                if memory.start
                else "from the model's starting vector (the encoder serves the similarity "
                "meter and the voice map)"
            ),
        ]
    if corpus_dir is not None and (corpus_dir / "corpus.json").exists():
        speakers = Corpus(corpus_dir).speakers()
        by_source = Counter(s.source for s in speakers)
        minutes: dict[str, float] = {}
        for speaker in speakers:
            minutes[speaker.source] = minutes.get(speaker.source, 0.0) + speaker.n_frames / 6000
        lines += ["", "## Data", "", "| source | speakers | minutes |", "|---|---|---|"]
        lines += [
            f"| {source} | {count} | {minutes[source]:.0f} |"
            for source, count in sorted(by_source.items())
        ]
        lines += [
            "",
            "Pseudo-speakers change an engine or VCC2016 voice's pitch, vocal-tract "
            "length and rate (see docs/corpus.md).",
        ]
    section = postfilter_section(folder)
    lines += ["", *section] if section else []
    lines += [
        "",
        "## Voices",
        "",
        f"{len(info.voices)} built-in voices (`metavoice synth --list-voices`): "
        f"{sum(v.real for v in info.voices)} real or real-derived, "
        f"{sum(not v.real for v in info.voices)} from speech engines.",
        "",
        "## Credits",
        "",
        CREDITS.rstrip(),
        "",
        "## Intended use and limits",
        "",
        "English speech in the app's built-in voices and in voices people clone from "
        "their own recordings, with their consent. Synthesised audio is tagged as "
        "synthetic. The model is young: see docs/benchmarks.md for measured "
        "intelligibility and speed.",
    ]
    if notes:
        lines += ["", notes.strip()]
    path = folder / "MODEL_CARD.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
