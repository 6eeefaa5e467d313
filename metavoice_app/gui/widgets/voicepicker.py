"""The voice picker of Speak and Dub: type any part of a name to filter, pick from the list.

A model can hold hundreds of built-in voices with opaque names, so a plain drop-down is
a long scroll. The picker is an editable combo box whose typing only filters (anything
typed that names no voice is put back to the chosen voice's name), and the user's own
voices come first, set apart from the built-in ones by a separator.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit, QWidget

YOUR_VOICE = "(your voice)"


class VoicePicker(QComboBox):
    def __init__(self, name: str = "Voice", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        self.setEditable(True)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Type to search the voices…")
        self.setLineEdit(self.search)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(20)
        self.setToolTip("Type part of a voice's name to find it")
        completer = QCompleter(self.model(), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.search.editingFinished.connect(self._restore_text)

    def set_choices(self, choices: list[tuple[str, str]], current: str | None) -> None:
        """``choices``: (label, voice) with the user's voices first; selects ``current``
        when it is among them, else the first choice."""
        self.blockSignals(True)
        self.clear()
        own = [c for c in choices if c[0].endswith(YOUR_VOICE)]
        for label, voice in choices:
            self.addItem(label, voice)
        if own and len(own) < len(choices):
            self.insertSeparator(len(own))
        self.blockSignals(False)
        index = self.findData(current) if current is not None else -1
        self.setCurrentIndex(index if index >= 0 else 0)

    def voice(self) -> str | None:
        data = self.currentData()
        return None if data is None else str(data)

    def _restore_text(self) -> None:
        """Typing that matched no voice leaves the chosen voice as it was, and says so
        by showing its name again."""
        index = self.findText(self.currentText(), Qt.MatchFlag.MatchFixedString)
        if index >= 0 and self.itemData(index) is not None:
            self.setCurrentIndex(index)
        else:
            self.setEditText(self.itemText(self.currentIndex()))
