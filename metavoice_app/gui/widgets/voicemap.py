"""The voice map: training voices as small grey (synthetic) or blue (real) dots, your
cloned voices as labelled orange points, placed by the speaker encoder."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

TRAINING_REAL = (90, 150, 230, 160)
TRAINING_SYNTHETIC = (150, 150, 150, 120)
PROFILE = (230, 130, 60, 255)


class VoiceMapWidget(pg.PlotWidget):  # type: ignore[misc]
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Voice map")
        self.setToolTip(
            "Voices placed by how they sound to the speaker encoder: near points sound alike. "
            "Orange: your voices; blue: real training speakers; grey: synthetic ones."
        )
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setMouseEnabled(x=False, y=False)
        self.training = pg.ScatterPlotItem(size=6, pen=None)
        self.profiles = pg.ScatterPlotItem(size=12, pen=pg.mkPen("w"), brush=pg.mkBrush(*PROFILE))
        self.addItem(self.training)
        self.addItem(self.profiles)
        self.labels: list[pg.TextItem] = []

    def show_voices(
        self,
        training: list[tuple[float, float, bool]],
        profiles: list[tuple[float, float, str]],
    ) -> None:
        """``training``: (x, y, real); ``profiles``: (x, y, name)."""
        self.training.setData(
            [x for x, _, _ in training],
            [y for _, y, _ in training],
            brush=[
                pg.mkBrush(*(TRAINING_REAL if real else TRAINING_SYNTHETIC))
                for *_, real in training
            ],
        )
        self.profiles.setData([x for x, _, _ in profiles], [y for _, y, _ in profiles])
        for label in self.labels:
            self.removeItem(label)
        self.labels = []
        for x, y, name in profiles:
            label = pg.TextItem(name, color=PROFILE[:3], anchor=(0, 1))
            label.setPos(x, y)
            self.addItem(label)
            self.labels.append(label)

    def profile_names(self) -> list[str]:
        return [label.toPlainText() for label in self.labels]
