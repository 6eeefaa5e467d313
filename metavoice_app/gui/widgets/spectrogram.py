"""Waveform above a log-mel spectrogram, with a playhead; click to seek.

The view only displays: the log-mel matrix is computed by the engine in a
worker and handed over ready to draw. Colours, the hidden autoscale button and
axes shown only with data come from :mod:`metavoice_app.gui.plots`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

FREQUENCY_TICKS_HZ = (100, 250, 500, 1000, 2000, 4000, 7000)


class SpectrogramView(QWidget):
    seek_requested = Signal(float)  # seconds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Waveform and spectrogram")
        self.wave_plot = pg.PlotWidget()
        self.wave_plot.setFixedHeight(90)
        self.wave_plot.hideAxis("left")
        self.wave_plot.setMouseEnabled(x=False, y=False)
        self.wave_curve = self.wave_plot.plot(pen=pg.mkPen((90, 150, 230), width=1))
        self.spec_plot = pg.PlotWidget()
        self.spec_plot.setLabel("bottom", "time", units="s")
        self.spec_plot.setLabel("left", "frequency (Hz)")
        self.spec_plot.setMouseEnabled(x=False, y=False)
        self.spec_plot.setXLink(self.wave_plot)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.spec_plot.addItem(self.image)
        self.playheads = [
            pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen((230, 80, 60), width=2)) for _ in range(2)
        ]
        self.wave_plot.addItem(self.playheads[0])
        self.spec_plot.addItem(self.playheads[1])
        for plot in (self.wave_plot, self.spec_plot):
            plot.scene().sigMouseClicked.connect(lambda event, p=plot: self._clicked(p, event))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.wave_plot)
        layout.addWidget(self.spec_plot, stretch=1)
        self.duration = 0.0

    def show_audio(
        self,
        audio: np.ndarray,
        sample_rate: int,
        mel_db: np.ndarray,
        band_hz: np.ndarray,
        hop_seconds: float,
    ) -> None:
        """Draw ``audio`` and its ``(frames, bands)`` log-mel; ``band_hz`` is each band's
        centre frequency, used to label the (mel-spaced) frequency axis in Hz."""
        self.duration = len(audio) / sample_rate
        step = max(1, len(audio) // 4000)  # a few thousand points draw fast and look the same
        times = np.arange(0, len(audio), step) / sample_rate
        self.wave_curve.setData(times, audio[::step])
        self.image.setImage(mel_db, autoLevels=True)
        frames, bands = mel_db.shape
        self.image.setRect(0.0, 0.0, frames * hop_seconds, float(bands))
        ticks = [
            (float(np.interp(hz, band_hz, np.arange(bands))), f"{hz:g}")
            for hz in FREQUENCY_TICKS_HZ
            if band_hz[0] <= hz <= band_hz[-1]
        ]
        self.spec_plot.getAxis("left").setTicks([ticks])
        self.spec_plot.setXRange(0, max(self.duration, 1e-3), padding=0)
        self.spec_plot.setYRange(0, bands, padding=0)
        self.set_playhead(0.0)

    def clear(self) -> None:
        self.image.clear()
        self.image.sigImageChanged.emit()  # clear() does not say so; the axes follow it
        self.wave_curve.setData([], [])
        self.duration = 0.0
        self.set_playhead(0.0)

    def set_playhead(self, seconds: float) -> None:
        for line in self.playheads:
            line.setValue(seconds)

    def _clicked(self, plot: pg.PlotWidget, event: object) -> None:
        if self.duration <= 0:
            return
        point = plot.getPlotItem().vb.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        seconds = float(np.clip(point.x(), 0.0, self.duration))
        self.set_playhead(seconds)
        self.seek_requested.emit(seconds)
