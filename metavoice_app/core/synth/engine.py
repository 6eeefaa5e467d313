"""The speech engine: the one object the CLI and the GUI use to speak text.

It loads a model folder (the bundled one by default), prepares text with the
front end, runs the acoustic model sentence by sentence, vocodes with WORLD
and joins the sentences with short pauses. :meth:`SpeechEngine.speak_stream`
hands out each sentence as soon as it is made (the first in growing pieces, so
playback starts after a fraction of its work), so long text can be played and
reported while the rest is still being made; :meth:`SpeechEngine.speak` is
built on it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from metavoice_app.core.device import resolve_device
from metavoice_app.core.features import world
from metavoice_app.core.features.exemplars import ExemplarError, Exemplars, frame_phones
from metavoice_app.core.features.postfilter import PostFilter, VoiceDelivery
from metavoice_app.core.model.acoustic import AcousticModel, Controls
from metavoice_app.core.model.checkpoint import ModelInfo, ModelLoadError, load_model
from metavoice_app.core.model.voice import SPEAKER, allowed_shapes, with_voice
from metavoice_app.core.paths import resources_dir
from metavoice_app.core.profiles.mvoice import SUFFIX, ProfileError, read_profile
from metavoice_app.core.progress import NO_PROGRESS, ProgressSink
from metavoice_app.core.speaker.bundle import SpeakerTools, load_tools
from metavoice_app.core.text.frontend import PreparedText, TextFrontend
from metavoice_app.core.text.g2p import PhoneSequence

log = logging.getLogger(__name__)

SENTENCE_GAP_S = 0.15
# voice_from_tensors' default: tables just read through this model's own refiner (never a
# refiner's id, which is hexadecimal)
CURRENT_REFINER = "current"


def bundled_model_dir() -> Path:
    return resources_dir() / "models" / "base"


def _refiner_record(recipe: dict[str, object]) -> str | None:
    """The refiner a profile's exemplar tables were read through (None: none, as for
    every profile made before refiners)."""
    record = recipe.get("refiner")
    return record if isinstance(record, str) else None


class VoiceNotFoundError(KeyError):
    """The requested voice is not one the model knows."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class VoiceHandle:
    """A voice ready to speak: the model to run (the base model, or a copy carrying a
    profile's adapted parameters) and the speaker vector."""

    name: str
    model: AcousticModel
    speaker: torch.Tensor  # (1, speaker_dim)
    # A cloned voice's own pitch range and pace (the model's post-filter does the rest)
    delivery: VoiceDelivery | None = None
    # A cloned voice's take frames, which put the person's spectral detail back
    exemplars: Exemplars | None = None


@dataclass
class SpeechResult:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    sentences: list[str]
    warnings: list[str] = field(default_factory=list)
    seconds_to_make: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass
class SentenceAudio:
    """One finished sentence's speech, as a :class:`SpeechStream` keeps it."""

    index: int  # from 0
    count: int  # sentences in the whole text
    text: str
    audio: np.ndarray  # float32 mono
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def spaced(self) -> np.ndarray:
        """The samples this sentence adds to the whole text's audio: the pause after the
        previous sentence (none before the first), then the sentence."""
        if self.index == 0:
            return self.audio
        return np.concatenate((sentence_gap(self.sample_rate), self.audio))


@dataclass
class SpeechPiece:
    """Speech handed out by a :class:`SpeechStream` as soon as it is made: a whole
    sentence, or for the first sentence of a text a part of it, so that playback starts
    while the rest of it is still being vocoded."""

    index: int  # the sentence, from 0
    count: int  # sentences in the whole text
    text: str  # the sentence's text
    audio: np.ndarray  # float32 mono: this piece's samples
    sample_rate: int
    first: bool  # the sentence's first piece
    complete: bool  # the sentence's last piece: with it the sentence is finished

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def spaced(self) -> np.ndarray:
        """The samples this piece adds to the whole text's audio: the pause after the
        previous sentence before a later sentence's first piece, then the piece. A player
        appending these as they arrive plays exactly what :meth:`SpeechStream.result` joins."""
        if self.index == 0 or not self.first:
            return self.audio
        return np.concatenate((sentence_gap(self.sample_rate), self.audio))


def sentence_gap(sample_rate: int) -> np.ndarray:
    """The silence between two sentences."""
    return np.zeros(int(SENTENCE_GAP_S * sample_rate), dtype=np.float32)


# One sentence's audio in pieces, each with whether it is the last; the flag says whether
# the sentence opens the text (the one whose first audio a listener waits for).
SentenceMaker = Callable[[PhoneSequence, bool], Iterator[tuple[np.ndarray, bool]]]


class SpeechStream(Iterator[SpeechPiece]):
    """Speech for one text, made as it is iterated (once): the first sentence in growing
    pieces, so its first audio comes after a fraction of its work, each later one whole.

    Every sentence finished is also kept, so a caller stopped half way (Ctrl+C, a Stop
    button) still has the finished sentences as one clip: :meth:`result`.
    """

    def __init__(
        self,
        prepared: PreparedText,
        make: SentenceMaker,
        sample_rate: int,
        started: float,
        growing: bool = True,
    ) -> None:
        self._prepared = prepared
        self._make = make
        self._growing = growing
        self._started = started
        self.sample_rate = sample_rate
        self.made: list[SentenceAudio] = []
        # the sentence being made: its pieces still to come and those handed out
        self._pieces: Iterator[tuple[np.ndarray, bool]] | None = None
        self._parts: list[np.ndarray] = []

    @property
    def count(self) -> int:
        return len(self._prepared.sentences)

    @property
    def warnings(self) -> list[str]:
        """What the front end changed or skipped in the text, known before any audio."""
        return self._prepared.warnings

    @property
    def progress(self) -> tuple[float, str]:
        """(fraction done, what is being made next), as :meth:`ProgressSink.report` takes them."""
        done = len(self.made)
        if done == self.count:
            return 1.0, "done"
        return done / self.count, f"sentence {done + 1} of {self.count}"

    def __next__(self) -> SpeechPiece:
        index = len(self.made)
        if index == self.count:
            raise StopIteration
        sentence = self._prepared.sentences[index]
        if self._pieces is None:
            self._pieces, self._parts = self._make(sentence, self._growing and index == 0), []
        audio, last = next(self._pieces)
        first = not self._parts
        self._parts.append(audio)
        if last:
            whole = np.concatenate(self._parts) if len(self._parts) > 1 else audio
            self.made.append(
                SentenceAudio(index, self.count, sentence.text, whole, self.sample_rate)
            )
            self._pieces, self._parts = None, []
        return SpeechPiece(index, self.count, sentence.text, audio, self.sample_rate, first, last)

    def result(self) -> SpeechResult:
        """The sentences finished so far joined with pauses: the whole text once the stream
        is exhausted, the finished part when it was stopped early."""
        pieces = [piece.spaced() for piece in self.made]
        return SpeechResult(
            np.concatenate(pieces) if pieces else np.zeros(0, np.float32),
            self.sample_rate,
            [piece.text for piece in self.made],
            self.warnings,
            time.perf_counter() - self._started,
        )


def pacing(postfilter: PostFilter, asked: Controls) -> tuple[Controls, int]:
    """The controls the model is run with for a listener's ``asked`` ones, and the floor
    under its speech sounds: the post-filter's duration scale slows the model to its
    speakers' real pace, and the floor shrinks with the speed asked for."""
    paced = dataclasses.replace(asked, speed=asked.speed / postfilter.duration_scale)
    return paced, postfilter.phone_floor(asked.speed)


class SpeechEngine:
    """Speaks text in any of the model's voices (or a given speaker vector)."""

    def __init__(self, model_dir: Path | None = None, device: str = "auto") -> None:
        self.model_dir = model_dir or bundled_model_dir()
        self.device = resolve_device(device)
        if not (self.model_dir / "config.json").exists():
            raise ModelLoadError(
                f"No speech model at {self.model_dir}. The bundled model may be missing from "
                "this installation; give another model folder with --model."
            )
        self.model: AcousticModel
        self.info: ModelInfo
        self.model, self.info = load_model(self.model_dir, self.device)
        # What corrects the model's frames before vocoding; the model folder's own, which a
        # benchmark may swap to compare variants.
        self.postfilter: PostFilter = self.info.postfilter
        self.frontend = TextFrontend()
        self._profiles: dict[tuple[str, int], VoiceHandle] = {}
        self._tools: tuple[SpeakerTools | None] | None = None

    @property
    def sample_rate(self) -> int:
        return world.SAMPLE_RATE

    @property
    def speaker_tools(self) -> SpeakerTools | None:
        """The model folder's speaker encoder and voice memory, loaded on first use."""
        if self._tools is None:
            self._tools = (load_tools(self.model_dir),)
        return self._tools[0]

    def loaded_speaker_tools(self) -> SpeakerTools | None:
        """The speaker tools if already loaded, without touching the disk (GUI thread)."""
        return None if self._tools is None else self._tools[0]

    def voice_ids(self) -> list[str]:
        return [v.id for v in self.info.voices]

    def voice_choices(self, voices_dir: Path) -> list[tuple[str, str]]:
        """(label, voice) for pickers: the library's profiles made for this model first,
        then the built-in voices. Each voice is a string that :meth:`voice` accepts."""
        from metavoice_app.core.profiles.library import VoiceLibrary

        choices = [
            (f"{entry.manifest.name} (your voice)", str(entry.path))
            for entry in VoiceLibrary(voices_dir).entries()
            if entry.manifest is not None and entry.manifest.base_model_id == self.info.model_id
        ]
        choices += [
            (f"{v.id} ({'real' if v.real else 'synthetic'} voice)", v.id) for v in self.info.voices
        ]
        return choices

    def voice(self, voice: str | Path | None = None) -> VoiceHandle:
        """A built-in voice by id (the default when ``None``) or a ``.mvoice`` profile file."""
        if voice is not None and (isinstance(voice, Path) or str(voice).endswith(SUFFIX)):
            path = Path(voice)
            key = (str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)
            if key not in self._profiles:  # one profile cached: bounded memory, fast reuse
                if not path.exists():
                    raise VoiceNotFoundError(f"no voice profile at {path}")
                profile = read_profile(path, self.info.model_id, allowed_shapes(self.model))
                manifest = profile.manifest
                self._profiles = {
                    key: self.voice_from_tensors(
                        manifest.name,
                        profile.tensors,
                        manifest.voice_delivery(),
                        _refiner_record(manifest.recipe),
                    )
                }
            return self._profiles[key]
        name = str(voice) if voice is not None else self.info.default_voice
        return VoiceHandle(
            name, self.model, self.speaker_vector(name), self.info.voice_delivery.get(name)
        )

    def misses_its_refiner(self, recipe: dict[str, object]) -> bool:
        """Whether a profile made for this model had its exemplar tables read through
        another envelope refiner than the model's (one made before the refiner was trained
        again): it speaks without the refiner (:meth:`voice_from_tensors`) until it is
        re-created from its takes."""
        return (
            bool(recipe.get("exemplar_refinement"))
            and _refiner_record(recipe) != self.model.refiner_id
        )

    def voice_from_tensors(
        self,
        name: str,
        tensors: dict[str, torch.Tensor],
        delivery: VoiceDelivery | None = None,
        read_through: str | None = CURRENT_REFINER,
    ) -> VoiceHandle:
        """A voice from adapted parameters (a profile's, or fresh from adaptation) and,
        where it was fitted, the person's delivery.

        A clone's exemplar tables hold the takes' residuals over the model's reading of
        them, so they only fit frames made the way that reading was: ``read_through`` is
        the id of the envelope refiner the reading went through (a profile's record; None
        for none). A voice whose tables were read through another refiner than this
        model's, such as one made before the model had one, speaks without the refiner,
        as it did when it was made."""
        if SPEAKER not in tensors:
            raise ProfileError(f"voice {name!r} has no speaker vector; it cannot be used")
        try:
            exemplars = Exemplars.from_tensors(tensors)
        except ExemplarError as exc:
            raise ProfileError(f"voice {name!r}: {exc}") from exc
        try:
            model = with_voice(self.model, tensors)
        except ValueError as exc:
            raise ProfileError(f"voice {name!r}: {exc}") from exc
        current = model.refiner_id
        if exemplars is not None and read_through != CURRENT_REFINER and read_through != current:
            log.info(
                "voice %r: exemplar tables read through another refiner (or none); speaking without this model's",
                name,
            )
            model.attach_refiner(None)
        speaker = tensors[SPEAKER].float().to(self.device)[None]
        return VoiceHandle(name, model, speaker, delivery, exemplars)

    def speaker_vector(self, voice: str | None = None) -> torch.Tensor:
        """The embedding of a built-in voice (the default voice when ``None``)."""
        voice_id = voice or self.info.default_voice
        try:
            index = self.info.voice_index(voice_id)
        except KeyError:
            raise VoiceNotFoundError(
                f"unknown voice {voice_id!r}; list the voices with `metavoice synth --list-voices`"
            ) from None
        return self.model.speaker_vectors(torch.tensor([index], device=self.device))

    def speak_stream(
        self,
        text: str,
        voice: str | Path | VoiceHandle | None = None,
        controls: Controls | None = None,
        growing: bool = True,
    ) -> SpeechStream:
        """Speech for ``text``, made one sentence at a time as the stream is iterated;
        with ``growing`` (for a listener) the first sentence comes in growing pieces, the
        same samples sooner.

        The text is prepared and the voice loaded here, so text that cannot be spoken
        (``TextError``) or an unknown voice fails before any audio is made.
        """
        started = time.perf_counter()
        prepared: PreparedText = self.frontend.prepare(text)
        handle = voice if isinstance(voice, VoiceHandle) else self.voice(voice)
        postfilter = self.postfilter.for_voice(handle.delivery, handle.exemplars is not None)
        paced, floor = pacing(postfilter, controls or Controls())
        return SpeechStream(
            prepared,
            functools.partial(self._sentence_pieces, handle, paced, floor, postfilter),
            self.sample_rate,
            started,
            growing,
        )

    def _sentence_pieces(
        self,
        handle: VoiceHandle,
        controls: Controls,
        floor: int,
        postfilter: PostFilter,
        sentence: PhoneSequence,
        opening: bool,
    ) -> Iterator[tuple[np.ndarray, bool]]:
        """One sentence's audio, in growing pieces when it opens the text (else whole),
        each with whether it is the last: the only place the model and the vocoder are
        run. Either way the samples are the same."""
        ids = torch.tensor([sentence.ids], device=self.device)
        durations = handle.model.predict_durations(ids, handle.speaker, controls.speed, floor)
        features = handle.model.synthesize(ids, handle.speaker, controls, durations=durations)
        frames = features.float().cpu().numpy()
        if handle.exemplars is not None:
            frames = handle.exemplars.refine(frames, frame_phones(ids, durations))
        if opening:
            yield from postfilter.vocode_growing(frames)
        else:
            yield postfilter.vocode(frames), True

    def speak(
        self,
        text: str,
        voice: str | Path | VoiceHandle | None = None,
        controls: Controls | None = None,
        progress: ProgressSink = NO_PROGRESS,
    ) -> SpeechResult:
        """Speech for the whole of ``text`` at once: :meth:`speak_stream` run to its end
        (each sentence whole, as no one is listening yet), so both give the same audio.
        Raises ``TextError`` for text that cannot be spoken; ``progress`` is told before
        each sentence and at the end, and a cancel raises
        :class:`~metavoice_app.core.progress.Cancelled` between sentences (a caller that
        keeps the finished sentences iterates :meth:`speak_stream` itself)."""
        stream = self.speak_stream(text, voice, controls, growing=False)
        progress.report(*stream.progress)
        for _piece in stream:  # one a sentence: nothing grows here
            progress.report(*stream.progress)
        return stream.result()
