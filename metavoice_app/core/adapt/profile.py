"""What a voice profile says besides the voice: the consent record and the preview sentence
(the profile itself is written by :mod:`metavoice_app.core.adapt.clone`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from metavoice_app.core.profiles.mvoice import Consent

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
