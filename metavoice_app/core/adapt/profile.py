"""Turning an adapted voice into a ``.mvoice`` profile, with its consent record and preview."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from metavoice_app.core.adapt.adapter import AdaptedVoice
from metavoice_app.core.profiles.mvoice import Consent, Manifest, save_profile
from metavoice_app.core.synth.engine import SpeechEngine

CONSENT_TEMPLATE = (
    "I, {name}, agree that this recording may be used to create a synthetic copy of my voice."
)
PREVIEW_TEXT = "Hello! This is my new voice, made with MetaVoice Studio."


def consent_record(speaker_name: str, recording: Path | None = None) -> Consent:
    """The consent statement the speaker read (or asserted), with the recording's hash."""
    digest = hashlib.sha256(recording.read_bytes()).hexdigest() if recording else ""
    return Consent(
        speaker_name.strip(),
        CONSENT_TEMPLATE.format(name=speaker_name.strip()),
        datetime.now(UTC).isoformat(timespec="seconds"),
        digest,
    )


def save_voice(
    path: Path,
    engine: SpeechEngine,
    voice: AdaptedVoice,
    name: str,
    consent: Consent,
    takes: int,
) -> Manifest:
    """Render the preview in the new voice and write the profile atomically."""
    handle = engine.voice_from_tensors(name, voice.tensors, voice.delivery)
    preview = engine.speak(PREVIEW_TEXT, voice=handle)
    manifest = Manifest(
        name=name,
        base_model_id=engine.info.model_id,
        tensors=[],
        consent=consent,
        recipe=dict(voice.recipe),
        takes=takes,
        similarity=voice.similarity,
        voice_print=None if voice.voice_print is None else voice.voice_print.tolist(),
        delivery=None if voice.delivery is None else voice.delivery.to_dict(),
    )
    save_profile(path, manifest, voice.tensors, preview.audio, preview.sample_rate)
    return manifest
