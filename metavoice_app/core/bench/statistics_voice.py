"""The non-learned baseline a cloned voice must beat: a built-in voice whose statistics
are moved to the person's takes.

Nothing is trained. The default built-in voice reads the takes' texts; the mean and
spread of each coded envelope coefficient, of log-F0 over voiced frames, and the
speaking rate of that speech are compared with the takes', and every frame the voice
makes afterwards is shifted and scaled to the takes' values (the classic statistics
voice conversion). Adaptation that cannot beat this clearly has learned nothing about
the person beyond what five numbers per coefficient say; on one independent set such
a baseline (flite with moved statistics) was level with the adapted clones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

from metavoice_app.core.adapt.takes import Take
from metavoice_app.core.features import world
from metavoice_app.core.features.delivery import measure, summarise
from metavoice_app.core.model.acoustic import Controls
from metavoice_app.core.synth.engine import SpeechEngine, SpeechStream, VoiceHandle, pacing
from metavoice_app.core.text.g2p import PhoneSequence

MIN_STD = 1e-3
RATE_LIMITS = (0.5, 2.0)


@dataclass(frozen=True)
class FrameStatistics:
    """Per-coefficient mean and standard deviation of coded envelopes (all frames) and of
    log-F0 (voiced frames) over a set of sentences."""

    envelope_mean: npt.NDArray[np.float64]
    envelope_std: npt.NDArray[np.float64]
    lf0_mean: float
    lf0_std: float

    @classmethod
    def of(cls, frames: Sequence[npt.NDArray[np.floating]]) -> FrameStatistics:
        stacked = np.concatenate([np.asarray(f, dtype=np.float64) for f in frames])
        envelope = stacked[:, world.MCEP]
        voiced = stacked[stacked[:, world.VUV] > 0.5, world.LF0]
        if voiced.size < 3:
            raise ValueError("too few voiced frames to measure pitch statistics")
        return cls(
            envelope.mean(axis=0),
            np.maximum(envelope.std(axis=0), MIN_STD),
            float(voiced.mean()),
            max(float(voiced.std()), MIN_STD),
        )


def move(
    frames: npt.NDArray[np.floating],
    source: FrameStatistics,
    target: FrameStatistics,
    voicing_threshold: float,
) -> npt.NDArray[np.float64]:
    """Frames with ``source`` statistics shifted and scaled to ``target``'s."""
    out = np.array(frames, dtype=np.float64)
    out[:, world.MCEP] = (
        out[:, world.MCEP] - source.envelope_mean
    ) / source.envelope_std * target.envelope_std + target.envelope_mean
    voiced = out[:, world.VUV] > voicing_threshold
    out[voiced, world.LF0] = (
        out[voiced, world.LF0] - source.lf0_mean
    ) / source.lf0_std * target.lf0_std + target.lf0_mean
    return out


class StatisticsVoice:
    """The engine's default voice speaking with the takes' statistics and pace."""

    def __init__(
        self,
        engine: SpeechEngine,
        source: FrameStatistics,
        target: FrameStatistics,
        speed: float,
        seconds: float = 0.0,
    ) -> None:
        self.engine = engine
        self.handle: VoiceHandle = engine.voice(None)
        self.source, self.target, self.speed = source, target, speed
        self.seconds = seconds  # time taken to fit it

    @classmethod
    def fit(
        cls, engine: SpeechEngine, takes: Sequence[Take], features: Sequence[np.ndarray]
    ) -> StatisticsVoice:
        """Measure the default voice and the takes on the takes' own texts."""
        started = time.perf_counter()
        target = FrameStatistics.of(features)
        plain = cls(engine, target, target, 1.0)
        said: list[npt.NDArray[np.float64]] = []

        def unmoved(sentence: PhoneSequence) -> npt.NDArray[np.float32]:
            """The plain voice's audio, keeping its frames for the source statistics."""
            said.append(plain._frames(sentence))
            return world.synthesize(world.decode(said[-1], engine.postfilter.voicing_threshold))

        audio = [_spoken(engine, t.text, unmoved) for t in takes]
        person = summarise([measure(t.audio, t.text, engine.frontend) for t in takes])
        voice = summarise(
            [measure(a, t.text, engine.frontend) for a, t in zip(audio, takes, strict=True)]
        )
        rate = 1.0 if person is None or voice is None else person.ratio_to(voice)[0]
        return cls(
            engine,
            FrameStatistics.of(said),
            target,
            float(np.clip(rate, *RATE_LIMITS)),
            time.perf_counter() - started,
        )

    def _frames(self, sentence: PhoneSequence) -> npt.NDArray[np.float64]:
        """The default voice's frames for one sentence, through the model's post-filter
        (its floor under the speech sounds too, as the engine speaks)."""
        postfilter = self.engine.postfilter.for_voice(self.handle.delivery)
        controls, floor = pacing(postfilter, Controls(speed=self.speed))
        ids = torch.tensor([sentence.ids], device=self.engine.device)
        model, speaker = self.handle.model, self.handle.speaker
        durations = model.predict_durations(ids, speaker, controls.speed, floor)
        frames = model.synthesize(ids, speaker, controls, durations=durations)
        return postfilter.apply(frames.float().cpu().numpy())

    def _sentence_audio(self, sentence: PhoneSequence) -> npt.NDArray[np.float32]:
        threshold = self.engine.postfilter.voicing_threshold
        moved = move(self._frames(sentence), self.source, self.target, threshold)
        return world.synthesize(world.decode(moved, threshold))

    def speak(self, text: str) -> npt.NDArray[np.float32]:
        return _spoken(self.engine, text, self._sentence_audio)


def _spoken(
    engine: SpeechEngine,
    text: str,
    make: Callable[[PhoneSequence], npt.NDArray[np.float32]],
) -> npt.NDArray[np.float32]:
    """``text`` made sentence by sentence with ``make``, joined as the engine joins them."""

    def whole(sentence: PhoneSequence, _opening: bool) -> Iterator[tuple[np.ndarray, bool]]:
        yield make(sentence), True

    stream = SpeechStream(engine.frontend.prepare(text), whole, engine.sample_rate, 0.0, False)
    for _piece in stream:
        pass
    return stream.result().audio
