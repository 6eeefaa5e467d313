"""Adapting the model to a new voice from a few takes.

Which parameters change is a choice with trade-offs (similarity, naturalness,
time, profile size):

- ``embedding``: only the speaker vector (128 numbers);
- ``cln``: the speaker vector and the decoder's conditional layer norms, the
  AdaSpeech recipe and the default (a few hundred thousand numbers, <1 MB);
- ``decoder``: the speaker vector, the whole decoder and its output layer (6.5 MB,
  more than a profile may hold: for comparison);
- ``lowrank``: the same steps, with the change to each of the decoder's attention and
  convolution weights kept as its best rank-8 approximation
  (:mod:`metavoice_app.core.model.voice`), so the voice fits a profile.

The takes are aligned once with the model's aligner, then the chosen
parameters take a few gradient steps on the acoustic losses, by the update rule
the model was meta-trained for (see :mod:`.update`; Adam for models that were
not meta-trained). One take can be held out to stop early when it stops
improving; runs are deterministic for a seed.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from metavoice_app.core.adapt.config import PARAM_SETS, AdaptConfig
from metavoice_app.core.adapt.takes import Take, take_features
from metavoice_app.core.adapt.update import InnerOptimizer, UpdateRule
from metavoice_app.core.features import world
from metavoice_app.core.features.delivery import matched_voicing, measure, measure_spoken, summarise
from metavoice_app.core.features.exemplars import ENVELOPE, Exemplars, frame_phones
from metavoice_app.core.features.postfilter import PostFilter, VoiceDelivery
from metavoice_app.core.features.warping import warped_onto
from metavoice_app.core.model.acoustic import AcousticModel, Batch, Controls, padding_mask
from metavoice_app.core.model.checkpoint import ModelInfo
from metavoice_app.core.model.voice import (
    SPEAKER,
    adaptable,
    allowed_shapes,
    compress,
    factor_names,
    factored,
    load_voice,
    with_voice,
)
from metavoice_app.core.progress import NO_PROGRESS, ProgressSink
from metavoice_app.core.synth.engine import pacing
from metavoice_app.core.text.frontend import TextFrontend, utterance_phones
from metavoice_app.core.text.phones import phone_ids

if TYPE_CHECKING:
    from metavoice_app.core.speaker.bundle import SpeakerTools

SPEAKER_INIT = "speaker_init"  # the model's (meta-learned) starting speaker vector
ACOUSTIC_LOSSES = ("features", "vuv", "duration", "pitch", "energy")


def acoustic_loss(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    """What adaptation (and meta-training's inner and outer loops) minimise: the
    acoustic losses summed; the aligner's own loss stays out."""
    return torch.stack([losses[k] for k in ACOUSTIC_LOSSES]).sum()


class HoldoutMonitor:
    """Early stopping on the held-out take, judged by its envelope-feature loss.

    The voice is in the spectral features; the take's duration, pitch and voicing losses
    measure one reading's prosody and swing from step to step, so on their sum the
    first step often looked best and the kept voice was barely adapted (the features
    loss falls steadily while the encoder's similarity climbs, on the dev speakers). Of
    the states within ``tolerance`` (relative) of the best loss so far the latest is
    kept, so more adaptation wins unless the held-out take measurably gets worse, and
    ``patience`` steps outside it stop the run.
    """

    def __init__(self, patience: int, tolerance: float = 0.005) -> None:
        self.patience = patience
        self.tolerance = tolerance
        self.best: float | None = None
        self.since_kept = 0

    def keep(self, loss: float) -> bool:
        """Whether the state that scored ``loss`` should replace the kept one."""
        if self.best is None or loss < self.best:
            self.best = loss
        if loss <= self.best * (1 + self.tolerance):
            self.since_kept = 0
            return True
        self.since_kept += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.since_kept >= self.patience


class AdaptationError(ValueError):
    """Adaptation cannot run on these takes; the message says why."""


@dataclass
class AdaptStep:
    """What adaptation reports after each step, as the detail of its progress: the
    wizard draws the loss curves and the similarity meter from it."""

    step: int
    steps: int
    loss: float
    holdout_loss: float | None
    eta_seconds: float
    # The speaker encoder's estimate (cosine to the takes), every few steps, where the
    # model has an encoder.
    similarity: float | None = None


@dataclass
class AdaptedVoice:
    # SPEAKER, the adapted model parameters and (where made) the exemplar tables
    tensors: dict[str, torch.Tensor]
    steps: int
    seconds: float
    final_loss: float
    holdout_loss: float | None
    # of ``seconds``, the WORLD analysis of the takes (the wizard does it while recording)
    analysis_seconds: float = 0.0
    recipe: dict[str, object] = field(default_factory=dict)
    # The speaker encoder's view, where the model has one: the final similarity
    # estimate, and the takes' embedding (a profile's place on the voice map).
    similarity: float | None = None
    voice_print: np.ndarray | None = None
    # step -> (tensors at that step, seconds since adaptation started), when asked for
    snapshots: dict[int, tuple[dict[str, torch.Tensor], float]] = field(default_factory=dict)
    # The person's pitch range and pace against the adapted model's, from the takes
    delivery: VoiceDelivery | None = None
    # of ``steps``, those taken ahead, before the held-out take was at hand (.ahead)
    steps_ahead: int = 0


@torch.no_grad()
def _phone_encodings(model: AcousticModel, batch: Batch) -> torch.Tensor:
    return model.phone_encodings(
        batch.phones, padding_mask(batch.phone_lengths, batch.phones.shape[1])
    )


def adapted_names(model: AcousticModel, preset: str) -> list[str]:
    if preset not in PARAM_SETS:
        raise AdaptationError(f"unknown parameter set {preset!r}; choose {', '.join(PARAM_SETS)}")
    names = [n for n, _ in model.named_parameters()]
    if preset == "embedding":
        return []
    if preset == "cln":
        return [n for n in names if n.startswith("decoder.") and ".norm" in n]
    return [n for n in names if adaptable(n)]


def stored_bytes(model: AcousticModel, params: str) -> int:
    """How many bytes a voice adapting ``params`` keeps of the model's parameters (half
    precision; the factored weights as their low-rank updates for ``lowrank``), before
    its exemplar tables."""
    shapes = allowed_shapes(model)
    total = 0
    for name in adapted_names(model, params):
        if params == "lowrank" and factored(name):
            total += sum(math.prod(shapes[f]) for f in factor_names(name)) * 2
        else:
            total += math.prod(shapes[name]) * 2
    return total


def adaptation_rule(config: AdaptConfig, info: ModelInfo) -> tuple[str, UpdateRule]:
    """The parameter set and update rule for adapting this model: the config's choices,
    else the model's meta-training record (meta-training before Adam inner loops
    existed used plain SGD), else fine-tuning defaults."""
    meta = info.training.meta
    record: dict[str, Any] = meta if isinstance(meta, dict) else {}
    default = UpdateRule()
    params = config.params or str(record.get("params", "cln"))
    rule = UpdateRule(
        optimizer=config.optimizer
        or str(record.get("inner_optimizer", "sgd" if record else default.optimizer)),
        learning_rate=config.learning_rate or float(record.get("inner_lr", default.learning_rate)),
        speaker_learning_rate=config.embedding_learning_rate
        or float(record.get("inner_speaker_lr", default.speaker_learning_rate)),
    )
    return params, rule


@dataclass
class TakeReading:
    """One take read by the adapted voice at the take's own timing: its phones and
    aligned durations ``(1, N)``, its real frames and the model's ``(T, FEATURE_DIM)``."""

    phones: torch.Tensor
    durations: torch.Tensor
    real: torch.Tensor
    said: torch.Tensor


@torch.no_grad()
def read_takes(
    model: AcousticModel, batches: list[Batch], speaker: torch.Tensor
) -> list[TakeReading]:
    """Every take of ``batches`` as the voice ``speaker`` says it with the take's timing."""
    readings = []
    for batch in batches:
        assert batch.durations is not None
        for row in range(batch.phones.shape[0]):
            length, frames = int(batch.phone_lengths[row]), int(batch.frame_lengths[row])
            phones = batch.phones[row : row + 1, :length]
            durations = batch.durations[row : row + 1, :length]
            said = model.synthesize(phones, speaker[None], durations=durations)[:frames]
            readings.append(TakeReading(phones, durations, batch.features[row, :frames], said))
    return readings


@torch.no_grad()
def takes_pace(
    model: AcousticModel, readings: list[TakeReading], speaker: torch.Tensor
) -> float | None:
    """How much slower the person speaks than the adapted model: the takes' phone
    durations over the model's predicted ones (speech phones only), or None without
    speech. Clones spoke about a third faster than the person; this puts the person's
    pace back."""
    real_frames = predicted_frames = 0.0
    for take in readings:
        speech = take.phones > 2  # not padding, silence or a pause
        real_frames += float(take.durations[speech].sum())
        predicted = model.predict_durations(take.phones, speaker[None])
        predicted_frames += float(predicted[speech].sum())
    if real_frames <= 0 or predicted_frames <= 0:
        return None
    return real_frames / predicted_frames


# One take's frames for exemplar refinement: the phone id of each frame, the voice's
# frames and the real frames paired with them, ``(T, FEATURE_DIM)`` each.
ExemplarPairs = tuple[np.ndarray, np.ndarray, np.ndarray]


@torch.no_grad()
def spoken_pairs(
    model: AcousticModel, readings: list[TakeReading], speaker: torch.Tensor, postfilter: PostFilter
) -> list[ExemplarPairs]:
    """Each take's text said by the voice as it speaks new text (its own durations at the
    voice's pace), every frame paired with the take's real frames by warping the two
    envelopes onto each other.

    At synthesis the tables are searched with frames made this way; a reading at the
    take's aligned timing is another kind of frame (the model at aligned durations lost
    three times the words on the dev speakers, docs/benchmarks.md, adapt-diagnosis), and
    the aligner, trained on the engine's voices, gives a quarter of real speech sounds a
    single frame, so an aligned pair often holds another sound's frame. Pairs made this
    way were ahead on both dev sets (14 speakers): similarity +0.006 / +0.008, WER -2.3 /
    -3.0 points, test-other naturalness +0.17 (docs/benchmarks.md, adapt-exemplar-pairs)."""
    paced, floor = pacing(postfilter, Controls())
    pairs = []
    for take in readings:
        durations = model.predict_durations(take.phones, speaker[None], paced.speed, floor)
        said = model.synthesize(take.phones, speaker[None], paced, durations=durations)
        frames = said.float().cpu().numpy()
        real = warped_onto(frames, take.real.float().cpu().numpy(), ENVELOPE)
        pairs.append((frame_phones(take.phones, durations), frames, real))
    return pairs


def exemplar_tensors(pairs: list[ExemplarPairs]) -> dict[str, torch.Tensor]:
    """The takes' frames paired with the voice's, as the tensors a voice carries for
    exemplar refinement (none when the takes hold no speech)."""
    exemplars = Exemplars.collect(pairs)
    return {} if exemplars is None else exemplars.to_tensors()


@dataclass(frozen=True)
class TakesMatch:
    """What the person's takes ask of the voice, measured the way the model's real
    voices were fitted to their speakers: the voicing threshold at which the voice is
    voiced as often as the takes, and the takes' pitch spread over the voice's."""

    voicing_threshold: float | None
    pitch_ratio: float | None


def match_takes(
    readings: list[TakeReading], takes: list[Take], postfilter: PostFilter, frontend: TextFrontend
) -> TakesMatch:
    """The voice's readings of the takes, vocoded at the model's voicing threshold and
    without its pitch widening, measured beside the takes themselves by one analysis
    (:func:`~metavoice_app.core.features.delivery.measure`, the judge's own).

    The voicing threshold follows
    :func:`~metavoice_app.core.features.delivery.matched_voicing`: the model's is fitted
    to its real speakers pooled, and people differ from that by 15 points of voiced share
    either way. The pitch ratio compares the same words at the same timing. It once came
    from the takes' Harvest F0, which on noisy takes marks noise as voiced with erratic
    pitch: the spread read 1.1-1.3x the judge's on clean takes and up to 2.4x on noisy
    ones, and those clones overshot the person's pitch range by two thirds."""
    flat = dataclasses.replace(postfilter, pitch_range=1.0)
    said = [
        (take.text, reading.said.float().cpu().numpy().astype(np.float64))
        for reading, take in zip(readings, takes, strict=True)
    ]
    # DIO releases the GIL: the takes are measured while their readings are vocoded.
    with ThreadPoolExecutor(1) as pool:
        measured = pool.submit(lambda: [measure(t.audio, t.text, frontend) for t in takes])
        spoken = measure_spoken(said, flat, frontend)
        real = [m for m in measured.result() if m is not None]
    recorded, voiced = summarise(real), summarise(spoken.delivery)
    pitch = None
    if recorded is not None and voiced is not None and voiced.pitch_range_st > 0:
        _, pitch = recorded.ratio_to(voiced)
    return TakesMatch(matched_voicing(real, spoken), pitch)


def measured_delivery(pace: float | None, matched: TakesMatch) -> VoiceDelivery | None:
    """The measured values as a voice's delivery, kept within what the post-filter allows."""
    if pace is None or matched.pitch_ratio is None:
        return None
    return VoiceDelivery.measured(matched.pitch_ratio, pace, matched.voicing_threshold)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class SupportSteps:
    """Adaptation's gradient steps on the support takes, which need nothing from the
    held-out take: the wizard takes them while the person reads the last sentence
    (:meth:`advance`, in the background), and :meth:`Adapter.finish` replays those and
    takes the rest. The state after each step taken ahead is kept so that the held-out
    take can judge every step afterwards; the steps and the voice kept are the same as
    when they are taken one by one with the held-out take at hand."""

    def __init__(
        self,
        config: AdaptConfig,
        model: AcousticModel,
        params: str,
        rule: UpdateRule,
        names: list[str],
        speaker: torch.nn.Parameter,
        optimizer: InnerOptimizer,
        takes: list[Take],
        features: list[np.ndarray],
        batch: Batch,
        learned_rates: bool,
        analysis_seconds: float,
        seconds: float,
    ) -> None:
        self.config = config
        self.model = model
        self.params = params
        self.rule = rule
        self.names = names
        self.speaker = speaker
        self.optimizer = optimizer
        self.takes = takes
        self.features = features
        self.batch = batch
        self.learned_rates = learned_rates
        self.analysis_seconds = analysis_seconds
        self.seconds = seconds  # of work so far
        self._stepping = 0.0  # of which taking steps
        self.fast = {n: p for n, p in model.named_parameters() if n in names}
        self.fast[SPEAKER] = speaker
        self.encoded = _phone_encodings(model, batch)
        self.losses: list[float] = []  # the support loss of each step taken
        # the adapted tensors before any step and after each step taken ahead
        self.states: list[dict[str, torch.Tensor]] = []

    @property
    def done(self) -> int:
        return len(self.losses)

    @property
    def step_seconds(self) -> float:
        """The time one step takes, as measured so far (for the time left)."""
        return self._stepping / self.done if self.done else 0.0

    def losses_of(self, batch: Batch, encoded: torch.Tensor | None) -> dict[str, torch.Tensor]:
        vector = self.speaker[None].expand(batch.phones.shape[0], -1)
        return self.model.losses(batch, speaker=vector, align=False, encoded=encoded)

    def step(self) -> None:
        """One step on the support takes, from the state the model is in."""
        started = time.perf_counter()
        loss = acoustic_loss(self.losses_of(self.batch, self.encoded))
        grads = torch.autograd.grad(loss, list(self.fast.values()))
        with torch.no_grad():
            updated = self.optimizer.step(
                {n: p.detach() for n, p in self.fast.items()},
                dict(zip(self.fast, grads, strict=True)),
            )
            for name, tensor in updated.items():
                self.fast[name].copy_(tensor)
        self.losses.append(float(loss.detach()))
        took = time.perf_counter() - started
        self.seconds += took
        self._stepping += took

    def advance(self, stop: threading.Event, progress: ProgressSink = NO_PROGRESS) -> None:
        """Take the config's steps ahead, keeping each state, until they are all taken or
        ``stop`` is set (checked between steps); a cancel raises
        :class:`~metavoice_app.core.progress.Cancelled` between steps."""
        if self.done != max(0, len(self.states) - 1):
            raise RuntimeError("steps taken one by one cannot be continued ahead")
        if not self.states:
            self.states.append(self._state())
        while self.done < self.config.steps:
            progress.check_cancelled()
            if stop.is_set():
                break
            self.step()
            self.states.append(self._state())

    def show(self, step: int) -> bool:
        """Put the model in the state after ``step`` when that step was taken ahead (then
        True); False when it is still to be taken."""
        if step >= len(self.states):
            return False
        with torch.no_grad():
            for name, tensor in self.states[step].items():
                self.fast[name].copy_(tensor)
        return True

    def _state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in self.fast.items()}


class Adapter:
    def __init__(
        self,
        model: AcousticModel,
        info: ModelInfo,
        config: AdaptConfig,
        tools: SpeakerTools | None = None,
    ) -> None:
        self.base = model
        self.info = info
        self.config = config
        self.tools = tools
        self.device = next(model.parameters()).device
        self.frontend = TextFrontend()

    def initial_speaker(self, voice_print: np.ndarray | None = None) -> torch.Tensor:
        """The zero-shot starting point: the voice memory's blend of known voices for the
        takes' embedding when the model has one that starts adaptation, else the model's
        (meta-learned) starting vector."""
        if voice_print is not None and self.tools is not None and self.tools.memory_start:
            return self.tools.starting_vector(voice_print).to(self.device)
        return self.base.speaker_init.detach()

    def _similarity(
        self, model: AcousticModel, batch: Batch, speaker: torch.Tensor, voice_print: np.ndarray
    ) -> float:
        """The similarity meter: the speaker encoder's cosine between the takes and the
        first take of ``batch`` as the voice says it now (the take's own timing)."""
        assert self.tools is not None and batch.durations is not None
        length = int(batch.phone_lengths[0])
        with torch.no_grad():
            features = model.synthesize(
                batch.phones[:1, :length],
                speaker.detach()[None],
                durations=batch.durations[:1, :length],
            )
        return self.tools.similarity(voice_print, features.cpu().numpy())

    def _batch(self, takes: list[Take], features: list[np.ndarray], model: AcousticModel) -> Batch:
        items = []
        for take, feats in zip(takes, features, strict=True):
            ids = np.array(phone_ids(list(utterance_phones(take.text, self.frontend))))
            if len(feats) <= len(ids):
                raise AdaptationError(f"{take.path.name}: too short for its text")
            items.append((ids, feats))
        n_phones = max(len(p) for p, _ in items)
        n_frames = max(len(f) for _, f in items)
        batch = Batch(
            phones=torch.zeros(len(items), n_phones, dtype=torch.long),
            phone_lengths=torch.tensor([len(p) for p, _ in items]),
            features=torch.zeros(len(items), n_frames, world.FEATURE_DIM),
            frame_lengths=torch.tensor([len(f) for _, f in items]),
            speakers=torch.zeros(len(items), dtype=torch.long),
            durations=torch.zeros(len(items), n_phones, dtype=torch.long),
        )
        for row, (phones, feats) in enumerate(items):
            batch.phones[row, : len(phones)] = torch.from_numpy(phones)
            batch.features[row, : len(feats)] = torch.from_numpy(feats)
        batch = batch.to(self.device)
        with torch.no_grad():
            _, durations = model.align(batch)  # once: the aligner does not change here
        batch.durations = durations
        return batch

    def split(self, takes: list[Take]) -> tuple[list[Take], list[Take]]:
        """The takes learned from and the take held out to judge the steps (the last,
        when the config holds one out and there are at least three)."""
        held = 1 if self.config.holdout and len(takes) >= 3 else 0
        return takes[: len(takes) - held], takes[len(takes) - held :]

    def _analysed(self, takes: list[Take]) -> list[np.ndarray]:
        """The takes' WORLD features (cached ones reused). Harvest F0 is the slow part and
        releases the GIL: takes are analysed side by side on the threads torch may use
        (about 1.6x faster on 2 cores)."""
        if not takes:
            return []
        cache = self.config.cache_features
        with ThreadPoolExecutor(max(1, min(len(takes), torch.get_num_threads()))) as pool:
            return list(pool.map(lambda take: take_features(take, cache=cache), takes))

    def begin(self, support: list[Take]) -> SupportSteps:
        """Everything adaptation does before it needs the held-out take: the support
        takes analysed and aligned, the voice's start and its optimiser. The steps run
        in :meth:`finish`, or ahead of it (:meth:`SupportSteps.advance`)."""
        if not support:
            raise AdaptationError("there are no usable takes to learn the voice from")
        torch.manual_seed(self.config.seed)
        started = time.perf_counter()
        model = copy.deepcopy(self.base)
        # Evaluation mode still learns (gradients flow) but has no dropout noise, which a
        # handful of takes does not want; it also lets attention use the fused kernel
        # (dropout inside attention forced the slow one and cost a quarter of each step).
        model.eval()
        params, rule = adaptation_rule(self.config, self.info)
        names = adapted_names(model, params)
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name in names)
        features = self._analysed(support)
        analysis_seconds = time.perf_counter() - started
        # The start sees the support takes only: the held-out take judges the steps.
        start_print = self.tools.voice_print(features) if self.tools is not None else None
        speaker = torch.nn.Parameter(self.initial_speaker(start_print).clone())
        batch = self._batch(support, features, model)
        learned = {SPEAKER if n == SPEAKER_INIT else n: r for n, r in self.info.inner_rates.items()}
        optimizer = InnerOptimizer(rule, rule.rates(names, SPEAKER, learned))
        return SupportSteps(
            self.config,
            model,
            params,
            rule,
            names,
            speaker,
            optimizer,
            support,
            features,
            batch,
            bool(learned),
            analysis_seconds,
            time.perf_counter() - started,
        )

    def adapt(
        self,
        takes: list[Take],
        progress: ProgressSink = NO_PROGRESS,
        snapshot_steps: tuple[int, ...] = (),
    ) -> AdaptedVoice:
        """Fit a voice to ``takes``: :meth:`begin` on the support takes, then
        :meth:`finish` with the held-out one."""
        if not takes:
            raise AdaptationError("there are no usable takes to learn the voice from")
        support, held_out = self.split(takes)
        return self.finish(self.begin(support), held_out, progress, snapshot_steps)

    def finish(
        self,
        run: SupportSteps,
        held_out: list[Take],
        progress: ProgressSink = NO_PROGRESS,
        snapshot_steps: tuple[int, ...] = (),
    ) -> AdaptedVoice:
        """Take the steps (those :meth:`SupportSteps.advance` took ahead are replayed, not
        taken again), judging each on ``held_out`` to keep the best voice, then measure the
        kept voice and make its exemplar tables. Reports each step (an :class:`AdaptStep`
        as the detail); raises :class:`~metavoice_app.core.progress.Cancelled` before the
        next step once ``progress`` is cancelled. The voice is the same whether or not
        the steps were taken ahead.

        ``snapshot_steps`` keeps the voice as it was after those steps (0: before any
        step), so a benchmark can compare step counts in one run.
        """
        config = self.config
        if run.config != config:
            raise ValueError("these steps were taken with other settings")
        started = time.perf_counter()

        def clock() -> float:
            """Seconds of work on this voice so far, the steps taken ahead included."""
            return run.seconds + time.perf_counter() - started

        model, speaker, names, params = run.model, run.speaker, run.names, run.params
        held_features = self._analysed(held_out)
        analysis_seconds = run.analysis_seconds + clock() - run.seconds
        takes, features = run.takes + held_out, run.features + held_features
        voice_print = self.tools.voice_print(features) if self.tools is not None else None
        holdout_batch = self._batch(held_out, held_features, model) if held_out else None
        meter_batch = holdout_batch if holdout_batch is not None else run.batch
        # No preset adapts the text encoder, so its output is computed once per batch
        # (about 5 % of each step's time went into recomputing it).
        holdout_encoded = None if holdout_batch is None else _phone_encodings(model, holdout_batch)

        monitor = HoldoutMonitor(config.patience)
        kept_holdout, kept_state, kept_step = None, None, 0
        metered: tuple[int, float] | None = None  # the meter's last (step, estimate)
        loss_value = float("nan")
        step = 0
        snapshots: dict[int, tuple[dict[str, torch.Tensor], float]] = {}
        batches = [run.batch] + ([holdout_batch] if holdout_batch is not None else [])

        def judged_state() -> tuple[dict[str, torch.Tensor], float]:
            """The voice as it is now, with its exemplar tables, for a benchmark."""
            state = self._stored(self._snapshot(model, names, speaker), params)
            if config.exemplars:
                voiced, vector = with_voice(self.base, state), speaker.detach()
                readings = read_takes(voiced, batches, vector)
                pace = takes_pace(voiced, readings, vector)
                # the tables need only the snapshot's pace (pitch range does not change
                # frames; the kept voice's full delivery is measured once, at the end)
                paced = self.info.postfilter.for_voice(
                    None if pace is None else VoiceDelivery.measured(1.0, pace), exemplars=True
                )
                state.update(exemplar_tensors(spoken_pairs(voiced, readings, vector, paced)))
            return state, clock()

        if 0 in snapshot_steps:
            run.show(0)
            snapshots[0] = judged_state()
        for step in range(1, config.steps + 1):
            progress.check_cancelled()
            replayed = run.show(step)
            if not replayed:
                run.step()
            loss_value = run.losses[step - 1]
            if step in snapshot_steps:
                snapshots[step] = judged_state()
            holdout_value = None
            if holdout_batch is not None:
                with torch.no_grad():
                    held = run.losses_of(holdout_batch, holdout_encoded)
                holdout_value = float(acoustic_loss(held))
                if monitor.keep(float(held["features"])):
                    kept_holdout = holdout_value
                    kept_state, kept_step = self._snapshot(model, names, speaker), step
            similarity = None
            due = config.similarity_every and (
                step % config.similarity_every == 0 or step == config.steps
            )
            # for the meter only, and only while the person watches the steps being taken
            if progress.watched and voice_print is not None and due and not replayed:
                similarity = self._similarity(model, meter_batch, speaker, voice_print)
                metered = (step, similarity)
            progress.report(
                step / config.steps,
                f"step {step} of {config.steps}",
                AdaptStep(
                    step,
                    config.steps,
                    loss_value,
                    holdout_value,
                    # the steps still to take (those taken ahead are only judged)
                    run.step_seconds * (config.steps - max(step, len(run.states) - 1)),
                    similarity,
                ),
            )
            if holdout_batch is not None and monitor.exhausted:
                break
        tensors = self._stored(
            kept_state if kept_state is not None else self._snapshot(model, names, speaker), params
        )
        # Measure the voice that is kept, as it is stored, not the last step's.
        load_voice(model, tensors, self.base)
        kept_speaker = tensors[SPEAKER].to(self.device)
        readings = read_takes(model, batches, kept_speaker)
        pace = takes_pace(model, readings, kept_speaker)
        matched = match_takes(readings, takes, self.info.postfilter, self.frontend)
        delivery = measured_delivery(pace, matched)
        if config.exemplars:
            paced = self.info.postfilter.for_voice(delivery, exemplars=True)
            pairs = spoken_pairs(model, readings, kept_speaker, paced)
            tensors = {**tensors, **exemplar_tensors(pairs)}
        similarity = None
        if voice_print is not None:
            # The meter already judged the kept voice when it kept the last step (the
            # wizard's usual case): judging it again was 0.4 s of the person's wait.
            final_step = kept_step if kept_state is not None else step
            if metered is not None and metered[0] == final_step and params != "lowrank":
                similarity = metered[1]
            else:
                similarity = self._similarity(model, meter_batch, kept_speaker, voice_print)
        return AdaptedVoice(
            tensors=tensors,
            steps=step,
            seconds=clock(),
            analysis_seconds=analysis_seconds,
            final_loss=loss_value,
            holdout_loss=kept_holdout,
            snapshots=snapshots,
            similarity=similarity,
            voice_print=voice_print,
            delivery=delivery,
            steps_ahead=min(step, max(0, len(run.states) - 1)),
            recipe={
                "method": "fine-tuning",
                "params": params,
                "steps": step,
                "optimizer": run.rule.optimizer,
                "learning_rate": run.rule.learning_rate,
                "embedding_learning_rate": run.rule.speaker_learning_rate,
                "learned_rates": run.learned_rates,
                "support_takes": len(run.takes),
                "held_out_takes": len(held_out),
                "seed": config.seed,
                "base_init": self.info.training.init or "base",
                # the takes' pitch spread and durations over the adapted model's
                "measured_pitch_ratio": _rounded(matched.pitch_ratio),
                "measured_pace_ratio": _rounded(pace),
                "measured_voicing_threshold": _rounded(matched.voicing_threshold),
                "exemplar_refinement": config.exemplars,
                # what the exemplar tables were read through (see SpeechEngine.voice_from_tensors)
                "refiner": self.base.refiner_id,
            },
        )

    @staticmethod
    def _snapshot(
        model: AcousticModel, names: list[str], speaker: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        parameters = dict(model.named_parameters())
        tensors = {n: parameters[n].detach().clone().cpu().half() for n in names}
        tensors[SPEAKER] = speaker.detach().clone().cpu().float()
        return tensors

    def _stored(self, tensors: dict[str, torch.Tensor], params: str) -> dict[str, torch.Tensor]:
        """A snapshot as a profile stores it (compressed once, at the end, since the
        held-out take may keep a new snapshot at every step)."""
        return compress(tensors, self.base) if params == "lowrank" else tensors
