"""Cloning a voice: the one pipeline the wizard, ``metavoice adapt`` and ``bench adapt`` share.

Takes in; the adapter fits the voice, reporting each step and stopping when asked;
the preview is spoken in the new voice; the profile, with its consent record, is
written once, where the caller says (the library, or ``--out``). Nothing is written
until the voice is complete, so a cancel or a crash never leaves half a profile, and
the file is validated once, as it is written (:func:`save_profile` checks the manifest;
the tensors are this model's own, so their names and shapes cannot differ from it).

The takes go into the voice library with the voice (:mod:`metavoice_app.core.profiles.takes`),
so that when the model is retrained the voice is re-created from them
(:func:`recreate_voice`) through this same pipeline, its id and consent record unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from metavoice_app.core.adapt.adapter import (
    AdaptationError,
    AdaptedVoice,
    Adapter,
    adaptation_rule,
    stored_bytes,
)
from metavoice_app.core.adapt.ahead import LearningAhead
from metavoice_app.core.adapt.config import AdaptConfig
from metavoice_app.core.adapt.profile import PREVIEW_TEXT, consent_record
from metavoice_app.core.adapt.screening import Screened, screen_takes
from metavoice_app.core.adapt.takes import Take, take_features
from metavoice_app.core.audio.checks import check_take
from metavoice_app.core.profiles.library import VoiceLibrary
from metavoice_app.core.profiles.mvoice import (
    ADAPTER,
    MEMBER_LIMITS,
    Manifest,
    ProfileError,
    read_profile,
    save_profile,
)
from metavoice_app.core.profiles.takes import MAX_CONSENT_BYTES, StoredTake, VoiceTakes, take_name
from metavoice_app.core.progress import NO_PROGRESS, ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine

Destination = Callable[[Manifest], Path]


@dataclass
class ClonedVoice:
    path: Path
    manifest: Manifest
    voice: AdaptedVoice
    preview: np.ndarray  # the preview as saved in the profile, to play it at once
    preview_rate: int
    # Why the voice is not where it was asked to go (then ``path`` is the fallback's).
    problem: str = ""
    # Why its takes could not be kept with it (the voice itself is saved all the same)
    takes_problem: str = ""


def learn_voice(
    engine: SpeechEngine,
    takes: list[Take],
    config: AdaptConfig,
    progress: ProgressSink = NO_PROGRESS,
    snapshot_steps: tuple[int, ...] = (),
    ahead: LearningAhead | None = None,
) -> AdaptedVoice:
    """Fit a voice to ``takes`` on the engine's model, with its speaker tools (the
    benchmark judges this voice without saving it); from the steps ``ahead`` took, when
    it took them on the same takes."""
    adapter = Adapter(engine.model, engine.info, config, engine.speaker_tools)
    if ahead is None:
        return adapter.adapt(takes, progress, snapshot_steps)
    support, held_out = adapter.split(takes)
    steps = ahead.take_over(engine, support, config) or adapter.begin(support)
    return adapter.finish(steps, held_out, progress, snapshot_steps)


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
    progress: ProgressSink = NO_PROGRESS,
    fallback: Destination | None = None,
    keep_takes_in: VoiceLibrary | None = None,
    remake: Manifest | None = None,
    ahead: LearningAhead | None = None,
) -> ClonedVoice:
    """Learn the voice in ``takes`` and save it as a profile at ``destination(manifest)``.

    ``consent_recording`` is the consent statement as recorded (None: confirmed in
    writing); its fingerprint goes into the profile. ``progress`` hears each adaptation
    step; once it is cancelled, :class:`~metavoice_app.core.progress.Cancelled` is raised
    at the next step or, at the latest, before the profile is written. When the destination
    cannot be written (a full disk, a folder gone) and there is a ``fallback``, the voice
    is saved there instead and ``problem`` says why: a finished voice is not thrown away.

    ``keep_takes_in``: the library that keeps the takes and the consent recording under
    the voice's id, to re-create it for a later model (``takes_problem`` says why not,
    when they could not be kept). ``remake``: the manifest of the voice being re-created,
    whose id, creation date and consent record the new profile keeps. ``ahead``: the
    wizard's head start on the steps (:mod:`.ahead`), used when it learned from these
    takes.
    """
    config = config or AdaptConfig()
    params, _ = adaptation_rule(config, engine.info)
    size = stored_bytes(engine.model, params)
    if size > MEMBER_LIMITS[ADAPTER]:  # told before the person waits for the steps
        raise AdaptationError(
            f"adapting the {params} parameters would keep {size / 2**20:.1f} MB of them, more "
            f"than the {MEMBER_LIMITS[ADAPTER] // 2**20} MB a voice profile may hold; adapt "
            "cln or lowrank instead"
        )
    voice = learn_voice(engine, takes, config, progress, ahead=ahead)
    consent = remake.consent if remake else consent_record(speaker_name, consent_recording)
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
    if remake is not None:
        manifest.id, manifest.created = remake.id, remake.created
        manifest.recipe["recreated"] = {
            "from_model": remake.base_model_id,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    progress.check_cancelled()
    path, problem = destination(manifest), ""
    try:
        save_profile(path, manifest, voice.tensors, preview.audio, preview.sample_rate)
    except OSError as exc:
        if fallback is None:
            raise
        path, problem = fallback(manifest), str(exc)
        save_profile(path, manifest, voice.tensors, preview.audio, preview.sample_rate)
    takes_problem = ""
    if keep_takes_in is not None:
        try:
            keep_takes_in.keep_takes(manifest.id, _stored(takes, consent_recording))
        except (ProfileError, OSError) as exc:
            takes_problem = (
                f"its recordings could not be kept with it ({exc}), so it cannot be "
                "re-created for a later model"
            )
    return ClonedVoice(
        path, manifest, voice, preview.audio, preview.sample_rate, problem, takes_problem
    )


def _stored(takes: list[Take], consent_recording: Path | None) -> VoiceTakes:
    """The takes as the library keeps them: the trimmed audio each was learned from, its
    text, and the consent recording byte for byte (unless too large to keep)."""
    consent = None
    if consent_recording is not None and consent_recording.stat().st_size <= MAX_CONSENT_BYTES:
        consent = consent_recording.read_bytes()
    return VoiceTakes([StoredTake(take.text, take.audio) for take in takes], consent)


def recreate_voice(
    engine: SpeechEngine,
    library: VoiceLibrary,
    path: Path,
    config: AdaptConfig | None = None,
    progress: ProgressSink = NO_PROGRESS,
) -> ClonedVoice:
    """Learn the library's voice at ``path`` again, on the engine's model (another model
    than it was made for, or the same one since its refiner was trained again), from the
    takes kept with it: the new profile replaces the old at the same place, with the same id,
    name and consent record; the old one is first copied to the library's trash (it
    still serves the model it was made for). Nothing changes if it is cancelled."""
    old = read_profile(path).manifest
    if old.base_model_id == engine.info.model_id and not engine.misses_its_refiner(old.recipe):
        raise ProfileError(f"'{old.name}' is already made for the model in use")
    stored = library.takes(old.id)
    if stored is None:
        raise ProfileError(
            f"'{old.name}' has no recordings kept with it, so it cannot be re-created; "
            "clone it again from its recordings"
        )
    folder = library.takes_folder(old.id)
    takes = [
        Take(folder / take_name(number), take.text, take.audio, check_take(take.audio))
        for number, take in enumerate(stored.takes, start=1)
    ]

    def destination(_manifest: Manifest) -> Path:
        library.set_aside(path, old.base_model_id)
        return path

    return clone_voice(
        engine,
        takes,
        name=old.name,
        speaker_name=old.consent.speaker_name,
        consent_recording=None,
        destination=destination,
        config=config,
        progress=progress,
        remake=old,
    )
