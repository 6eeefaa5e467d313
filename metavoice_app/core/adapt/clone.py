"""Cloning a voice: the one pipeline the wizard, ``metavoice adapt`` and ``bench adapt`` share.

Takes in; the adapter fits the voice, reporting each step and stopping when asked;
the preview is spoken in the new voice; the profile, with its consent record, is
written once, where the caller says (the library, or ``--out``). Nothing is written
until the voice is complete, so a cancel or a crash never leaves half a profile, and
the file is validated once, as it is written (:func:`save_profile` checks the manifest;
the tensors are this model's own, so their names and shapes cannot differ from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metavoice_app.core.adapt.adapter import (
    AdaptationCancelled,
    AdaptConfig,
    AdaptedVoice,
    Adapter,
    AdaptProgress,
)
from metavoice_app.core.adapt.profile import PREVIEW_TEXT, consent_record
from metavoice_app.core.adapt.screening import Screened, screen_takes
from metavoice_app.core.adapt.takes import Take, take_features
from metavoice_app.core.profiles.mvoice import Manifest, save_profile
from metavoice_app.core.synth.engine import SpeechEngine

Destination = Callable[[Manifest], Path]


def _never() -> bool:
    return False


@dataclass
class ClonedVoice:
    path: Path
    manifest: Manifest
    voice: AdaptedVoice
    preview: np.ndarray  # the preview as saved in the profile, to play it at once
    preview_rate: int
    # Why the voice is not where it was asked to go (then ``path`` is the fallback's).
    problem: str = ""


def learn_voice(
    engine: SpeechEngine,
    takes: list[Take],
    config: AdaptConfig,
    progress: Callable[[AdaptProgress], None] | None = None,
    cancelled: Callable[[], bool] = _never,
    snapshot_steps: tuple[int, ...] = (),
) -> AdaptedVoice:
    """Fit a voice to ``takes`` on the engine's model, with its speaker tools (the
    benchmark judges this voice without saving it)."""
    adapter = Adapter(engine.model, engine.info, config, engine.speaker_tools)
    return adapter.adapt(takes, progress, cancelled, snapshot_steps)


def check_takes(engine: SpeechEngine, takes: list[Take], cache: bool = False) -> list[Screened]:
    """What each take says and who says it (:mod:`.screening`); each take keeps its
    analysed features, so learning from it afterwards does not analyse it again."""
    for take in takes:
        take.features = take_features(take, cache=cache)
    return screen_takes(
        engine.model,
        engine.speaker_tools,
        [(take.text, take.features) for take in takes if take.features is not None],
        engine.frontend,
    )


def check_new_take(engine: SpeechEngine, take: Take, others: list[Take]) -> Screened:
    """The checks for a take just recorded, its speaker judged against the takes already
    kept (all analysed with the features cache, as in the wizard's own session folder)."""
    return check_takes(engine, [*others, take], cache=True)[-1]


def clone_voice(
    engine: SpeechEngine,
    takes: list[Take],
    *,
    name: str,
    speaker_name: str,
    consent_recording: Path | None,
    destination: Destination,
    config: AdaptConfig | None = None,
    progress: Callable[[AdaptProgress], None] | None = None,
    cancelled: Callable[[], bool] = _never,
    fallback: Destination | None = None,
) -> ClonedVoice:
    """Learn the voice in ``takes`` and save it as a profile at ``destination(manifest)``.

    ``consent_recording`` is the consent statement as recorded (None: confirmed in
    writing); its fingerprint goes into the profile. Raises :class:`AdaptationCancelled`
    if ``cancelled`` turns true before the profile is written. When the destination
    cannot be written (a full disk, a folder gone) and there is a ``fallback``, the voice
    is saved there instead and ``problem`` says why: a finished voice is not thrown away.
    """
    voice = learn_voice(engine, takes, config or AdaptConfig(), progress, cancelled)
    consent = consent_record(speaker_name, consent_recording)
    handle = engine.voice_from_tensors(name, voice.tensors, voice.delivery)
    preview = engine.speak(PREVIEW_TEXT, voice=handle)
    manifest = Manifest(
        name=name,
        base_model_id=engine.info.model_id,
        tensors=[],
        consent=consent,
        recipe=dict(voice.recipe),
        takes=len(takes),
        similarity=voice.similarity,
        voice_print=None if voice.voice_print is None else voice.voice_print.tolist(),
        delivery=None if voice.delivery is None else voice.delivery.to_dict(),
    )
    if cancelled():
        raise AdaptationCancelled
    path, problem = destination(manifest), ""
    try:
        save_profile(path, manifest, voice.tensors, preview.audio, preview.sample_rate)
    except OSError as exc:
        if fallback is None:
            raise
        path, problem = fallback(manifest), str(exc)
        save_profile(path, manifest, voice.tensors, preview.audio, preview.sample_rate)
    return ClonedVoice(path, manifest, voice, preview.audio, preview.sample_rate, problem)
