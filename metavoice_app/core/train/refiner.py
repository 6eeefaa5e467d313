"""Train a model's envelope refiner (:mod:`metavoice_app.core.model.refiner`) on real
speakers' recordings, with the acoustic model frozen.

Two resumable stages, both under a work folder:

1. pairs: for each real training voice of the model (VCC2016 and the LibriSpeech
   training speakers; never the adaptation dev sets or the held-out test-other
   speakers), each recording is trimmed, levelled and analysed, force-aligned to its
   text by the model's aligner, and read by the model at that phone timing. The real and
   the predicted frames of the same sentence, and each frame's phone, are stored per
   voice (``pairs/VOICE.npz``; a voice already there is not redone). The last
   :data:`TUNE_CLIPS` clips of each VCC2016 speaker are kept apart to watch training.
2. training: an L1 loss between the refined and the real envelope (the model's own loss
   on its frames), on random stretches of the pairs; the refiner is checkpointed to
   ``refiner.safetensors`` in the work folder every few hundred steps with its step count
   and resumes from it, then written into the model folder.

The model is run without any refiner while pairs are made, so a retrained refiner learns
from the model's own frames, never from an older refiner's.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save

from metavoice_app.core.adapt.adapter import AdaptationError
from metavoice_app.core.adapt.clone import learn_voice
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.takes import Take
from metavoice_app.core.atomic import atomic_write_bytes
from metavoice_app.core.audio.checks import check_take
from metavoice_app.core.audio.io import AudioFileError, load_audio
from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
from metavoice_app.core.features import world
from metavoice_app.core.features.exemplars import frame_phones
from metavoice_app.core.model.acoustic import AcousticModel
from metavoice_app.core.model.checkpoint import ModelInfo
from metavoice_app.core.model.refiner import (
    ENVELOPE,
    REFINER_FILE,
    EnvelopeRefiner,
    refiner_from_state,
    save_refiner,
)
from metavoice_app.core.model.voice import SPEAKER, with_voice
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.text.frontend import TextError, TextFrontend, utterance_phones
from metavoice_app.core.text.phones import phone_ids
from metavoice_app.core.train.config import RefinerTraining
from metavoice_app.core.train.corpus.real import RealClip, RealSpeaker, voice_id

Progress = Callable[[str], None]

TUNE_CLIPS = 30  # per VCC2016 speaker, kept out of training to watch it
MIN_CONFIDENCE = -3.0  # alignments less sure than this are of audio that says other words
CLIP_SECONDS = (0.8, 16.0)
CHECKPOINT_EVERY = 250


@dataclass
class Pairs:
    """Every voice's pairs, concatenated: normalised model frames, normalised real
    envelopes, frame phones, and the (start, length) of each clip for training and for
    watching it."""

    predicted: torch.Tensor  # (T, F)
    real: torch.Tensor  # (T, N_MCEP - 1)
    phones: torch.Tensor  # (T,)
    train: list[tuple[int, int]]
    tune: list[tuple[int, int]]
    voices: int


def _kept_apart_from(speaker: RealSpeaker) -> int:
    """Index of a voice's first clip kept apart to watch training (its clip count when
    none is: only VCC2016 speakers have clips enough to spare)."""
    clips = len(speaker.clips)
    return clips - TUNE_CLIPS if speaker.source == "vcc2016" and clips > 2 * TUNE_CLIPS else clips


def _read_clips(
    model: AcousticModel, speaker_vector: torch.Tensor, clips: list[tuple[RealClip, bool]]
) -> dict[str, np.ndarray] | None:
    """Real and predicted frames of the usable ``(clip, kept apart)`` recordings, read by
    ``model`` in the voice ``speaker_vector`` at each recording's own phone timing."""
    frontend = TextFrontend()
    real_all, predicted_all, phones_all, lengths, tune = [], [], [], [], []
    for clip, kept_apart in clips:
        try:
            ids = torch.tensor([phone_ids(list(utterance_phones(clip.text, frontend)))])
            wav = load_audio(clip.path)
        except (TextError, AudioFileError):
            continue
        if not CLIP_SECONDS[0] <= len(wav) / world.SAMPLE_RATE <= CLIP_SECONDS[1]:
            continue
        clean = normalize_loudness(trim_silence(wav))
        real = world.recording_features(clean)
        if ids.shape[1] >= len(real):
            continue
        durations, confidence = model.force_align(ids, torch.from_numpy(real)[None])
        if confidence < MIN_CONFIDENCE:
            continue
        predicted = model.synthesize(ids, speaker_vector, durations=durations[None]).numpy()
        n = min(len(predicted), len(real))
        real_all.append(real[:n])
        predicted_all.append(predicted[:n])
        phones_all.append(frame_phones(ids, durations[None])[:n].astype(np.int16))
        lengths.append(n)
        tune.append(kept_apart)
    if not lengths:
        return None
    return {
        "real": np.concatenate(real_all).astype(np.float32),
        "predicted": np.concatenate(predicted_all).astype(np.float32),
        "phones": np.concatenate(phones_all),
        "lengths": np.array(lengths),
        "tune": np.array(tune),
    }


def _voice_pairs(
    model: AcousticModel, speaker_vector: torch.Tensor, speaker: RealSpeaker
) -> dict[str, np.ndarray] | None:
    """One built-in voice's real and predicted frames for its usable recordings."""
    tune_from = _kept_apart_from(speaker)
    return _read_clips(
        model, speaker_vector, [(c, i >= tune_from) for i, c in enumerate(speaker.clips)]
    )


def _save_pairs(dest: Path, pairs: dict[str, np.ndarray]) -> None:
    partial = dest.with_suffix(".partial.npz")
    np.savez(partial, allow_pickle=False, **pairs)
    partial.replace(dest)


def make_pairs(
    model: AcousticModel,
    info: ModelInfo,
    speakers: list[RealSpeaker],
    work: Path,
    progress: Progress,
) -> None:
    """Stage 1: each of the model's real voices' pairs into ``work/pairs`` (resumable),
    read without any refiner (the model's own refiner is detached meanwhile)."""
    own = model.refiner
    model.attach_refiner(None)
    try:
        _make_pairs(model, info, speakers, work, progress)
    finally:
        model.attach_refiner(own)


def _make_pairs(
    model: AcousticModel,
    info: ModelInfo,
    speakers: list[RealSpeaker],
    work: Path,
    progress: Progress,
) -> None:
    known = {v.id: i for i, v in enumerate(info.voices)}
    folder = work / "pairs"
    folder.mkdir(parents=True, exist_ok=True)
    todo = [s for s in speakers if voice_id(s) in known]
    for number, speaker in enumerate(todo, 1):
        voice = voice_id(speaker)
        dest = folder / f"{voice}.npz"
        if dest.exists():
            continue
        vector = model.speaker_vectors(torch.tensor([known[voice]]))
        pairs = _voice_pairs(model, vector, speaker)
        if pairs is not None:
            _save_pairs(dest, pairs)
        progress(f"pairs: {voice} ({number} of {len(todo)})")


def _take(clip: RealClip) -> Take:
    audio = load_audio(clip.path)
    return Take(clip.path, clip.text, normalize_loudness(trim_silence(audio)), check_take(audio))


def make_clone_pairs(
    engine: SpeechEngine,
    speakers: list[RealSpeaker],
    work: Path,
    settings: RefinerTraining,
    progress: Progress,
) -> None:
    """Stage 1, clones (resumable): the same pairs as a cloned voice's frames would give.

    A clone is spoken by the model adapted to a few takes, and its frames differ from a
    built-in voice's (the refiner trained on built-in voices alone left clones' naturalness
    where it was). So each speaker with more training clips than takes (the VCC2016 ones)
    can be cloned ``settings.clone_draws`` times as the wizard clones a person, from
    ``settings.clone_takes`` of its training clips drawn at random (the app's adaptation
    recipe, without exemplar tables, which are made after the refiner), and the clone reads
    ``settings.clone_clips`` other training clips and ``settings.clone_tune`` of the
    kept-apart ones (``pairs/clone-VOICE-DRAW.npz``). Run without the model's refiner.
    """
    folder = work / "pairs"
    folder.mkdir(parents=True, exist_ok=True)
    known = {v.id for v in engine.info.voices}
    # Speakers with more training clips than takes (the VCC2016 ones; the LibriSpeech
    # training speakers have one clip each)
    cloneable = [
        s for s in speakers if voice_id(s) in known and _kept_apart_from(s) > settings.clone_takes
    ]
    config = AdaptConfig(exemplars=False, similarity_every=0, seed=settings.seed)
    for number, speaker in enumerate(cloneable, 1):
        voice = voice_id(speaker)
        tune_from = _kept_apart_from(speaker)
        for draw in range(settings.clone_draws):
            dest = folder / f"clone-{voice}-{draw}.npz"
            if dest.exists():
                continue
            # The draw depends only on the seed, the voice and the draw number, so a
            # resumed run picks the same takes.
            rng = np.random.default_rng([settings.seed, draw, zlib.crc32(voice.encode())])
            order = rng.permutation(tune_from)
            takes_at, read_at = order[: settings.clone_takes], order[settings.clone_takes :]
            read_at = read_at[: settings.clone_clips]
            tune_at = rng.permutation(np.arange(tune_from, len(speaker.clips)))
            tune_at = tune_at[: settings.clone_tune]
            try:
                takes = [_take(speaker.clips[int(i)]) for i in takes_at]
                adapted = learn_voice(engine, takes, config)
            except (AudioFileError, AdaptationError) as exc:
                progress(f"clone pairs: {voice} draw {draw} skipped ({exc})")
                continue
            model = with_voice(engine.model, adapted.tensors)
            model.attach_refiner(None)
            vector = adapted.tensors[SPEAKER].float()[None]
            clips = [(speaker.clips[int(i)], False) for i in read_at]
            clips += [(speaker.clips[int(i)], True) for i in tune_at]
            pairs = _read_clips(model, vector, clips)
            if pairs is not None:
                _save_pairs(dest, pairs)
            progress(
                f"clone pairs: {voice} draw {draw + 1} of {settings.clone_draws} "
                f"({number} of {len(cloneable)}; {adapted.steps} steps)"
            )


def load_pairs(work: Path, model: AcousticModel) -> Pairs:
    """Stage 1's pairs, normalised by the model's feature statistics."""
    mean, std = model.feature_mean.numpy(), model.feature_std.numpy()
    predicted, real, phones = [], [], []
    train: list[tuple[int, int]] = []
    tune: list[tuple[int, int]] = []
    start = 0
    files = [
        path
        for path in sorted((work / "pairs").glob("*.npz"))
        if not path.name.endswith(".partial.npz")  # one cut short by a crash
    ]
    for path in files:
        with np.load(path) as data:
            predicted.append(((data["predicted"] - mean) / std).astype(np.float32))
            real.append(((data["real"] - mean) / std)[:, ENVELOPE].astype(np.float32))
            phones.append(data["phones"].astype(np.int64))
            for length, kept in zip(data["lengths"], data["tune"], strict=True):
                (tune if kept else train).append((start, int(length)))
                start += int(length)
    if not train:
        raise ValueError(f"no training pairs under {work / 'pairs'}")
    return Pairs(
        torch.from_numpy(np.concatenate(predicted)),
        torch.from_numpy(np.concatenate(real)),
        torch.from_numpy(np.concatenate(phones)),
        train,
        tune,
        len(files),
    )


def _batch(
    pairs: Pairs, settings: RefinerTraining, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random stretches of random training clips, padded, with a mask of real frames."""
    size = settings.segment_frames
    predicted = torch.zeros(settings.batch, size, pairs.predicted.shape[1])
    real = torch.zeros(settings.batch, size, pairs.real.shape[1])
    phones = torch.zeros(settings.batch, size, dtype=torch.long)
    mask = torch.zeros(settings.batch, size, 1)
    for row, pick in enumerate(rng.integers(0, len(pairs.train), settings.batch)):
        start, length = pairs.train[pick]
        if length > size:
            start += int(rng.integers(0, length - size))
            length = size
        predicted[row, :length] = pairs.predicted[start : start + length]
        real[row, :length] = pairs.real[start : start + length]
        phones[row, :length] = pairs.phones[start : start + length]
        mask[row, :length] = 1.0
    return predicted, real, phones, mask


@torch.no_grad()
def envelope_error(
    refiner: EnvelopeRefiner | None, pairs: Pairs, clips: list[tuple[int, int]] | None = None
) -> float:
    """Mean absolute error (normalised units) of the envelope on some clips of the pairs
    (by default the kept-apart ones): the refiner's, or the model's own with ``None``."""
    total = count = 0.0
    for start, length in pairs.tune if clips is None else clips:
        predicted = pairs.predicted[start : start + length][None]
        real = pairs.real[start : start + length][None]
        if refiner is None:
            refined = predicted[..., ENVELOPE]
        else:
            refined = refiner(predicted, pairs.phones[start : start + length][None])
        total += float((refined - real).abs().sum())
        count += real.numel()
    return total / count if count else float("nan")


def train(
    pairs: Pairs,
    n_phones: int,
    settings: RefinerTraining,
    checkpoint: Path,
    progress: Progress,
) -> EnvelopeRefiner:
    """Stage 2, resuming from ``checkpoint`` when it is there."""
    torch.manual_seed(settings.seed)
    refiner = EnvelopeRefiner(
        n_phones, pairs.predicted.shape[1], settings.channels, settings.kernel, settings.layers
    )
    step = 0
    if checkpoint.exists():
        state = load_file(str(checkpoint))
        step = int(state.pop("step").item())
        refiner.load_state_dict(state)
        progress(f"resuming at step {step}")
    refiner.train()
    optimizer = torch.optim.AdamW(refiner.parameters(), settings.learning_rate, betas=(0.8, 0.99))
    # The rate falls linearly to zero, so the refiner kept is a settled one rather than
    # wherever the last noisy steps left it (runs differing only in their seed differed by a
    # few points of WER on the tuning slice without it).
    resumed_at = step
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: max(0.0, 1.0 - (resumed_at + i) / settings.steps)
    )
    rng = np.random.default_rng(settings.seed + step)
    started = time.monotonic()
    while step < settings.steps:
        predicted, real, phones, mask = _batch(pairs, settings, rng)
        error = ((refiner(predicted, phones) - real).abs() * mask).sum()
        loss = error / (mask.sum() * real.shape[-1])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(refiner.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        step += 1
        if step % CHECKPOINT_EVERY == 0 or step == settings.steps:
            state = {k: v.detach().clone() for k, v in refiner.state_dict().items()}
            state["step"] = torch.tensor(step)
            atomic_write_bytes(checkpoint, save(state))
            refiner.eval()
            error_now = envelope_error(refiner, pairs)
            refiner.train()
            progress(
                f"step {step} of {settings.steps}: loss {loss.item():.4f}, "
                f"kept-apart error {error_now:.4f} ({time.monotonic() - started:.0f} s)"
            )
    return refiner.eval()


def train_refiner(
    model_dir: Path,
    speakers: list[RealSpeaker],
    work: Path,
    settings: RefinerTraining,
    threads: int = 2,
    progress: Progress = lambda _m: None,
) -> tuple[float, float]:
    """Both stages, then the refiner into ``model_dir``; returns the kept-apart envelope
    error without and with it."""
    torch.set_num_threads(threads)
    engine = SpeechEngine(model_dir, "cpu")
    model, info = engine.model, engine.info
    make_pairs(model, info, speakers, work, progress)
    make_clone_pairs(engine, speakers, work, settings, progress)
    pairs = load_pairs(work, model)
    progress(f"{pairs.voices} voices, {len(pairs.train)} clips to learn from")
    refiner = train(pairs, info.config.n_phones, settings, work / REFINER_FILE, progress)
    before, after = envelope_error(None, pairs), envelope_error(refiner, pairs)
    refiner_from_state(refiner.state_dict(), info.config)  # what the app will accept
    save_refiner(refiner, model_dir)
    return before, after
