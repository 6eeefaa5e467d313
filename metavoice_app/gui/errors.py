"""Showing an unexpected error: a plain sentence first, the technical details one click away."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str, details: str) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent
    )
    if details:
        box.setDetailedText(details)
    box.setInformativeText("The details are also in the log file (Help > Open Log Folder).")
    box.open()
    return box
