"""A small waveform of a take, painted directly: the review lists up to 50 takes, and a
plot widget per row would cost far more than a strip of bars that only has to show
where the speech is, how loud it is, and whether it was cut off."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BINS = 160
COLOUR = QColor(90, 150, 230)


def peaks(audio: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The loudest sample magnitude in each of ``bins`` equal stretches of ``audio``."""
    samples = np.abs(np.asarray(audio, dtype=np.float32))
    if len(samples) == 0:
        return np.zeros(0, dtype=np.float32)
    edges = np.linspace(0, len(samples), min(bins, len(samples)) + 1).astype(int)
    return np.maximum.reduceat(samples, edges[:-1]).astype(np.float32)


class WaveformStrip(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.peaks = np.zeros(0, dtype=np.float32)
        self.setMinimumHeight(28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Waveform of the take")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(240, 32)

    def set_audio(self, audio: np.ndarray) -> None:
        self.peaks = peaks(audio)
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if not len(self.peaks):
            return
        painter = QPainter(self)
        width, height = self.width(), self.height()
        middle, step = height / 2, width / len(self.peaks)
        for index, peak in enumerate(np.clip(self.peaks, 0.0, 1.0)):
            half = max(0.5, float(peak) * middle)
            painter.fillRect(
                QRectF(index * step, middle - half, max(step - 0.5, 0.5), 2 * half), COLOUR
            )
        painter.end()
