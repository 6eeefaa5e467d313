"""Light and dark themes that follow the system unless the user picks one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication


def _dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: QColor(37, 37, 41),
        QPalette.ColorRole.WindowText: QColor(230, 230, 232),
        QPalette.ColorRole.Base: QColor(27, 27, 30),
        QPalette.ColorRole.AlternateBase: QColor(45, 45, 50),
        QPalette.ColorRole.ToolTipBase: QColor(50, 50, 55),
        QPalette.ColorRole.ToolTipText: QColor(230, 230, 232),
        QPalette.ColorRole.Text: QColor(230, 230, 232),
        QPalette.ColorRole.Button: QColor(48, 48, 53),
        QPalette.ColorRole.ButtonText: QColor(230, 230, 232),
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Link: QColor(110, 170, 255),
        QPalette.ColorRole.Highlight: QColor(64, 128, 224),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.PlaceholderText: QColor(140, 140, 148),
    }
    for role, color in colors.items():
        palette.setColor(role, color)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 126))
    return palette


def system_prefers_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply ``system``, ``light`` or ``dark``; returns the scheme actually used."""
    app.setStyle("Fusion")
    dark = theme == "dark" or (theme == "system" and system_prefers_dark())
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    return "dark" if dark else "light"


MIN_ICON_CONTRAST = 50  # lightness steps (of 255) between an icon and its background


def _mean_lightness(pixmap: QPixmap) -> float | None:
    image = pixmap.toImage()
    values = [
        image.pixelColor(x, y).lightness()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 128
    ]
    return sum(values) / len(values) if values else None


def visible_icon(icon: QIcon, text: QColor, background: QColor, size: QSize) -> QIcon:
    """``icon`` as it is when it stands out from ``background``, else its shape in the
    ``text`` colour: some of the style's stock icons are drawn black, which vanishes on
    a dark window, while recolouring the others would lose their detail."""
    pixmap = QPixmap(icon.pixmap(size))
    lightness = _mean_lightness(pixmap)
    if lightness is None or abs(lightness - background.lightness()) >= MIN_ICON_CONTRAST:
        return icon
    painter = QPainter(pixmap)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(pixmap.rect(), text)
    painter.end()
    return QIcon(pixmap)
