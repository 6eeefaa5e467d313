"""The Help window (F1): the keys of the window it belongs to, then the user guide.

The guide is the "Using the app" section of the README, read from the checkout or
the bundle (the packaging spec ships README.md beside ``resources/``), so the help
and the README never tell two stories.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from metavoice_app.core.paths import APP_NAME, resources_dir

GUIDE_HEADING = "## Using the app"
# Keys that belong to widgets rather than menu actions, as (keys, what they do).
WIDGET_KEYS = (
    ("Ctrl+Enter", "Speak: speak the text"),
    ("Tab", "Speak: leave the text box"),
    ("Space", "Clone: start or stop recording a take"),
    ("Delete", "Voices: delete the selected voice (to the library's trash)"),
    ("Ctrl+Z", "Voices: undo the last delete"),
)


def readme_path() -> Path:
    return resources_dir().parent / "README.md"


def user_guide(readme: Path) -> str:
    """The README's user guide section as Markdown ('' when the README is missing)."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(rf"^{re.escape(GUIDE_HEADING)}\n(.*?)(?=^## )", text, re.M | re.S)
    return match.group(1).strip() if match else ""


def keys_markdown(actions: list[QAction]) -> str:
    """A table of every key: the actions' own shortcuts (so it cannot drift from them),
    then the keys that widgets handle."""
    rows = [
        (
            action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
            action.text().replace("&", "").rstrip("…"),
        )
        for action in actions
        if not action.shortcut().isEmpty()
    ]
    rows += list(WIDGET_KEYS)
    lines = ["| Keys | What they do |", "|---|---|"]
    lines += [f"| {keys} | {what} |" for keys, what in rows]
    return "## Keys\n\n" + "\n".join(lines)


class HelpDialog(QDialog):
    def __init__(
        self, actions: list[QAction], readme: Path | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} Help")
        self.resize(720, 640)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Help")
        self.browser.setOpenExternalLinks(True)
        guide = user_guide(readme or readme_path())
        if not guide:
            guide = "The user guide is in the README that came with the app."
        self.browser.setMarkdown(keys_markdown(actions) + "\n\n## Using the app\n\n" + guide)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
