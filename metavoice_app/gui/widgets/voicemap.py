"""The voice map: training voices as small grey (synthetic) or blue (real) dots, your
cloned voices as labelled orange points, placed by the speaker encoder. Clicking one
of your voices selects it in the library."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

TRAINING_REAL = (90, 150, 230, 160)
TRAINING_SYNTHETIC = (150, 150, 150, 120)
PROFILE = (230, 130, 60, 255)
# Room left above the highest point, as a share of the points' height: the legend sits
# there, so it never covers a voice.
LEGEND_ROOM = 0.35


class VoiceMapWidget(pg.PlotWidget):  # type: ignore[misc]
    profile_clicked = Signal(int)  # index into the profiles last shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Voice map")
        self.setToolTip(
            "Voices placed by how they sound to the speaker encoder: near points sound alike. "
            "Click one of your voices to select it."
        )
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setMouseEnabled(x=False, y=False)
        self.synthetic = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(*TRAINING_SYNTHETIC))
        self.real = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(*TRAINING_REAL))
        self.profiles = pg.ScatterPlotItem(size=12, pen=pg.mkPen("w"), brush=pg.mkBrush(*PROFILE))
        self.profiles.sigClicked.connect(self._clicked)
        self.legend = self.addLegend()
        self.legend.setColumnCount(3)
        for item, name in (
            (self.profiles, "your voices"),
            (self.real, "real training voices"),
            (self.synthetic, "synthetic training voices"),
        ):
            self.addItem(item)
            self.legend.addItem(item, name)
        self.labels: list[pg.TextItem] = []

    def show_voices(
        self,
        training: list[tuple[float, float, bool]],
        profiles: list[tuple[float, float, str]],
    ) -> None:
        """``training``: (x, y, real); ``profiles``: (x, y, name)."""
        for item, real in ((self.real, True), (self.synthetic, False)):
            points = [(x, y) for x, y, is_real in training if is_real == real]
            item.setData([x for x, _ in points], [y for _, y in points])
        self.profiles.setData(
            [x for x, _, _ in profiles],
            [y for _, y, _ in profiles],
            data=list(range(len(profiles))),
        )
        for label in self.labels:
            self.removeItem(label)
        self.labels = []
        for x, y, name in profiles:
            label = pg.TextItem(name, color=PROFILE[:3], anchor=(0, 1))
            label.setPos(x, y)
            self.addItem(label)
            self.labels.append(label)
        xs = [p[0] for p in training] + [p[0] for p in profiles]
        ys = [p[1] for p in training] + [p[1] for p in profiles]
        if xs:
            span = max(max(ys) - min(ys), 1e-6)
            self.setXRange(min(xs), max(xs), padding=0.08)
            self.setYRange(min(ys), max(ys) + LEGEND_ROOM * span, padding=0.08)

    def profile_names(self) -> list[str]:
        return [label.toPlainText() for label in self.labels]

    def _clicked(self, _item: object, points: list[pg.SpotItem], _event: object = None) -> None:
        if len(points):
            self.profile_clicked.emit(int(points[0].data()))
