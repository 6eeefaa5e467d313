"""One look for every pyqtgraph plot in a window, applied from the outside.

pyqtgraph draws with its own colours (black background, grey axes), shows an
autoscale "A" button that means nothing to a user, and keeps axes with numbers on
a plot that has nothing in it yet. :func:`style_plots` gives every plot under a
widget the theme's colours, hides the button, keeps axes hidden while a plot is
empty, and puts legends in the top-right corner, which the app's curves (losses
that fall, voice maps padded at the top) leave free. It is applied when the window
is built and whenever the theme changes, so each page only draws its data.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

AXES = ("left", "bottom", "right", "top")
LEGEND_OFFSET = (-10, 10)  # pixels from the top-right corner of the plot area


def theme_colors() -> tuple[QColor, QColor]:
    """(background, foreground) for plots, from the application's palette."""
    palette = QApplication.palette()
    return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.WindowText)


class _AxesWhileData:
    """Shows a plot's axes only while one of its items holds data: an empty plot with
    numbered axes looks like a broken chart. Remembers which axes the plot wanted."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.wanted = [name for name in AXES if plot.getAxis(name).isVisible()]
        for item in plot.listDataItems():
            item.sigPlotChanged.connect(self.update)
        for item in plot.items:
            if isinstance(item, pg.ImageItem):
                item.sigImageChanged.connect(self.update)
        self.update()

    def has_data(self) -> bool:
        for item in self.plot.items:
            if isinstance(item, pg.ImageItem) and item.image is not None:
                return True
            if isinstance(item, pg.PlotDataItem | pg.ScatterPlotItem):
                x, _y = item.getData()
                if x is not None and len(x):
                    return True
        return False

    def update(self, *_args: object) -> None:
        visible = self.has_data()
        for name in self.wanted:
            self.plot.showAxis(name, visible)


def style_plot(widget: pg.PlotWidget) -> None:
    background, foreground = theme_colors()
    widget.setBackground(background)
    plot: pg.PlotItem = widget.getPlotItem()
    plot.hideButtons()
    plot.setMenuEnabled(False)
    if not hasattr(plot, "_axes_while_data"):
        plot._axes_while_data = _AxesWhileData(plot)
    for name in AXES:
        axis = plot.getAxis(name)
        axis.setPen(foreground)
        axis.setTextPen(foreground)
        label = axis.labelText
        if label:
            axis.setLabel(label, units=axis.labelUnits, color=foreground.name())
    legend = plot.legend
    if legend is not None:
        legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=LEGEND_OFFSET)
        translucent = QColor(background)
        translucent.setAlpha(200)
        legend.setBrush(translucent)
        legend.setLabelTextColor(foreground)
        for _sample, text in legend.items:  # labels drawn already keep their old colour
            text.setText(text.text, color=foreground)


def style_plots(root: QWidget) -> None:
    """Style every plot under ``root`` and make later plots start in the same colours."""
    background, foreground = theme_colors()
    pg.setConfigOptions(background=background, foreground=foreground)
    for widget in root.findChildren(pg.PlotWidget):
        style_plot(widget)
