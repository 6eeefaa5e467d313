"""The frame every area page shares: a heading, a one-line purpose, then content."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class AreaPage(QWidget):
    """Base class of the four area pages."""

    title = ""
    summary = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(f"{self.title} area")
        heading = QLabel(self.title)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        heading.setFont(font)
        purpose = QLabel(self.summary)
        purpose.setWordWrap(True)
        self.content = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(purpose)
        layout.addSpacing(12)
        layout.addLayout(self.content, stretch=1)

    @staticmethod
    def empty_state(text: str) -> QLabel:
        """A centred, wrapped message shown where a list or view has nothing yet."""
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
        return label
