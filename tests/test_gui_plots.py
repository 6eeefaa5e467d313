"""Plots follow the theme, hide pyqtgraph's autoscale button, show no axes while empty,
and keep legends off the curves; the sidebar's icons stay visible in either theme."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from metavoice_app.core.paths import AppPaths
from metavoice_app.core.settings import Settings, save_settings
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import MainWindow
from metavoice_app.gui.pages.clone import AdaptStep
from metavoice_app.gui.plots import style_plots
from metavoice_app.gui.theme import MIN_ICON_CONTRAST


@pytest.fixture
def window(qtbot: QtBot, app_paths: AppPaths) -> MainWindow:
    win = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(win)
    return win


def _lightness(color: object) -> int:
    return pg.mkColor(color).lightness()


def test_plots_and_sidebar_icons_follow_the_theme(window: MainWindow) -> None:
    plots = window.findChildren(pg.PlotWidget)
    assert len(plots) >= 4  # spectrogram (2), voice map, the clone wizard's
    for theme, dark in (("dark", True), ("light", False)):
        window.apply_settings(Settings(theme=theme))
        window_color = QApplication.palette().color(QPalette.ColorRole.Base)  # the sidebar's
        for plot in plots:
            background = _lightness(plot.backgroundBrush().color())
            assert (background < 100) == dark, (theme, plot)
            assert plot.getPlotItem().buttonsHidden  # no autoscale "A" button
            axis = plot.getPlotItem().getAxis("bottom")
            assert abs(_lightness(axis.textPen().color()) - background) > 100
        for row in range(window.nav.count()):
            image = window.nav.item(row).icon().pixmap(22, 22).toImage()
            opaque = [
                image.pixelColor(x, y).lightness()
                for x in range(image.width())
                for y in range(image.height())
                if image.pixelColor(x, y).alpha() > 128
            ]
            contrast = abs(np.mean(opaque) - window_color.lightness())
            assert opaque and contrast >= MIN_ICON_CONTRAST, (theme, row)


def test_a_theme_chosen_before_start_reaches_the_plots(qtbot: QtBot, app_paths: AppPaths) -> None:
    save_settings(Settings(theme="dark"), app_paths.settings_file)
    win = create_main_window(app_paths, device_override="cpu")
    qtbot.addWidget(win)
    assert _lightness(win.speak_page.view.spec_plot.backgroundBrush().color()) < 100


def test_empty_plots_show_no_axes_until_they_hold_data(window: MainWindow) -> None:
    view = window.speak_page.view
    assert not view.spec_plot.getPlotItem().getAxis("bottom").isVisible()
    assert not view.spec_plot.getPlotItem().getAxis("left").isVisible()
    assert not view.wave_plot.getPlotItem().getAxis("bottom").isVisible()
    audio = np.sin(np.linspace(0, 200, 16000)).astype(np.float32)
    mel = np.random.default_rng(0).normal(size=(200, 80)).astype(np.float32)
    view.show_audio(audio, 16000, mel, np.linspace(50, 7600, 80), 0.005)
    assert view.spec_plot.getPlotItem().getAxis("bottom").isVisible()
    assert view.spec_plot.getPlotItem().getAxis("left").isVisible()
    view.clear()
    assert not view.spec_plot.getPlotItem().getAxis("bottom").isVisible()
    assert not view.wave_plot.getPlotItem().getAxis("bottom").isVisible()


def test_the_loss_legend_covers_no_point_of_the_curves(qtbot: QtBot) -> None:
    step = AdaptStep()
    qtbot.addWidget(step)
    step.resize(700, 420)
    style_plots(step)
    step.show()
    qtbot.waitExposed(step)
    steps = np.arange(1, 41)
    step.loss_curve.setData(steps, 2.0 * np.exp(-steps / 10) + 0.3)
    step.holdout_curve.setData(steps[::5], 2.1 * np.exp(-steps[::5] / 10) + 0.35)
    qtbot.wait(50)
    plot = step.curve_plot.getPlotItem()
    assert plot.getAxis("left").isVisible()
    box = plot.legend.sceneBoundingRect()
    for curve in (step.loss_curve, step.holdout_curve):
        for x, y in zip(*curve.getData(), strict=True):
            assert not box.contains(plot.vb.mapViewToScene(QPointF(x, y))), (x, y)
