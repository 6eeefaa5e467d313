"""The About box: versions, compute device and data folders, for users and bug reports."""

from __future__ import annotations

from PySide6 import QtCore
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from metavoice_app.core.paths import APP_NAME, AppPaths
from metavoice_app.core.system_info import library_versions

DEVICE_PENDING = "detecting…"


class AboutDialog(QDialog):
    def __init__(self, paths: AppPaths, device_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        versions = library_versions()
        versions["Qt"] = QtCore.qVersion()

        title = QLabel(
            f"<h2>{APP_NAME} {versions['MetaVoice Studio']}</h2>"
            "<p>Few-shot voice cloning on your own computer: read five sentences, "
            "then type and hear your voice. Nothing leaves this machine.</p>"
        )
        title.setWordWrap(True)

        form = QFormLayout()
        self.device_label = QLabel(device_text)
        self.device_label.setAccessibleName("Compute device")
        self.device_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Compute device:", self.device_label)
        for name, version in versions.items():
            if name != "MetaVoice Studio":
                form.addRow(f"{name}:", QLabel(version))
        form.addRow("Voices:", QLabel(str(paths.voices_dir)))
        form.addRow("Logs:", QLabel(str(paths.logs_dir)))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.setToolTip("Copy these details to paste into a bug report")
        copy.clicked.connect(self.copy_details)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._form = form

    def set_device(self, text: str) -> None:
        self.device_label.setText(text)

    def details_text(self) -> str:
        lines = []
        for row in range(self._form.rowCount()):
            label = self._form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = self._form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and field is not None:
                label_widget, field_widget = label.widget(), field.widget()
                if isinstance(label_widget, QLabel) and isinstance(field_widget, QLabel):
                    lines.append(f"{label_widget.text()} {field_widget.text()}")
        return "\n".join(lines)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())
