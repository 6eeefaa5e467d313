"""Clone area: the record-and-clone wizard's widgets (behaviour lives in CloneController)."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from metavoice_app.core.adapt.wizard import STEP_NAMES
from metavoice_app.gui.pages.base import AreaPage
from metavoice_app.gui.widgets.waveform import WaveformStrip

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def _back_button() -> QPushButton:
    button = QPushButton("Back")
    button.setAccessibleName("Back")
    return button


def _big(label: QLabel, scale: float = 1.4) -> QLabel:
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def _meter(name: str) -> QProgressBar:
    meter = QProgressBar()
    meter.setRange(0, 100)
    meter.setTextVisible(False)
    meter.setMaximumHeight(14)
    meter.setAccessibleName(name)
    return meter


class MicrophoneStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Microphone")
        self.test_button = QPushButton("Test microphone")
        self.test_button.setCheckable(True)
        self.level = _meter("Microphone level")
        self.status = QLabel(
            "Speak a few words while testing: the bar should move into its "
            "upper half without staying at the end."
        )
        self.status.setWordWrap(True)
        self.next_button = QPushButton("Next")
        self.import_button = QPushButton("Use audio files instead…")
        form = QFormLayout()
        form.addRow("&Microphone:", self.device_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.level, stretch=1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)


class ConsentStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Your name")
        self.name_edit.setPlaceholderText("Your full name")
        self.statement = _big(QLabel())
        self.record_button = QPushButton("Record")
        self.record_button.setEnabled(False)
        self.confirm_button = QPushButton("Confirm in writing instead")
        self.confirm_button.setToolTip(
            "For cloning from existing recordings without a "
            "microphone: agree to the sentence above in writing."
        )
        self.confirm_button.setEnabled(False)
        self.status = QLabel("Type your name, then press Record and read the sentence aloud.")
        self.status.setWordWrap(True)
        self.next_button = QPushButton("Next")
        self.next_button.setEnabled(False)
        form = QFormLayout()
        form.addRow("Your &name:", self.name_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Read this sentence to record your consent:"))
        layout.addWidget(self.statement)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.record_button)
        buttons_row.addWidget(self.confirm_button)
        buttons_row.addStretch(1)
        layout.addLayout(buttons_row)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.back_button = _back_button()
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.next_button)
        layout.addLayout(row)


class PromptStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.counter = QLabel()
        self.prompt = _big(QLabel(), 1.8)
        self.prompt.setAccessibleName("Sentence to read")
        self.record_button = QPushButton("Record  (Space)")
        self.record_button.setAccessibleName("Record or stop")
        self.state = QLabel("Ready")
        self.elapsed = QLabel("0.0 s")
        self.level = _meter("Recording level")
        self.wave = pg.PlotWidget()
        self.wave.setFixedHeight(110)
        self.wave.hideAxis("left")
        self.wave.hideAxis("bottom")
        self.wave.setMouseEnabled(x=False, y=False)
        self.wave.setMenuEnabled(False)
        self.wave.setYRange(-1, 1)
        self.wave_curve = self.wave.plot(pen=pg.mkPen((90, 150, 230), width=1))
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleName("Take verdict")
        self.play_button = QPushButton("Play")
        self.retake_button = QPushButton("Retake")
        self.accept_button = QPushButton("Accept")
        self.import_button = QPushButton("Import audio files…")
        self.back_button = _back_button()
        for button in (self.play_button, self.retake_button, self.accept_button):
            button.setEnabled(False)
        # The voice the accepted takes already give, before any learning
        self.sketch_button = QPushButton("Hear a first sketch")
        self.sketch_button.setToolTip(
            "A rough first sketch of your voice from the sentences accepted so far, made "
            "before the voice is learned. It grows more like you with each take."
        )
        self.sketch_button.setEnabled(False)
        self.sketch_status = QLabel()
        self.sketch_status.setWordWrap(True)
        self.sketch_status.setAccessibleName("First sketch")
        layout = QVBoxLayout(self)
        layout.addWidget(self.counter)
        layout.addWidget(self.prompt)
        row = QHBoxLayout()
        row.addWidget(self.record_button)
        row.addWidget(self.state)
        row.addStretch(1)
        row.addWidget(self.elapsed)
        layout.addLayout(row)
        layout.addWidget(self.level)
        layout.addWidget(self.wave)
        layout.addWidget(self.verdict)
        sketch = QHBoxLayout()
        sketch.addWidget(self.sketch_button)
        sketch.addWidget(self.sketch_status, 1)
        layout.addLayout(sketch)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        for button in (self.play_button, self.retake_button, self.accept_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)

    def set_recording(self, recording: bool) -> None:
        self.record_button.setText("Stop  (Space)" if recording else "Record  (Space)")
        self.state.setText("● Recording" if recording else "Ready")
        self.state.setStyleSheet("color: #d03030; font-weight: bold;" if recording else "")


class TakeRow(QWidget):
    """One take in the review: its sentence, what the checks found, and its buttons."""

    def __init__(self, number: int, text: str, problem: str, kept: bool, prompt: bool) -> None:
        super().__init__()
        self.label = QLabel(f"{number}. {text}")
        self.label.setWordWrap(True)
        self.wave = WaveformStrip()
        self.problem = QLabel(problem)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d04040;")
        self.problem.setVisible(bool(problem))
        self.keep_box = QCheckBox("Use it anyway")
        self.keep_box.setChecked(kept)
        self.keep_box.setVisible(bool(problem))
        self.play_button = QPushButton("Play")
        self.rerecord_button = QPushButton("Record again")
        self.rerecord_button.setVisible(prompt)  # imported recordings have no sentence to read
        self.remove_button = QPushButton("Remove")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        row = QHBoxLayout()
        row.addWidget(self.label, stretch=1)
        for button in (self.play_button, self.rerecord_button, self.remove_button):
            row.addWidget(button)
        layout.addLayout(row)
        layout.addWidget(self.wave)
        layout.addWidget(self.problem)
        layout.addWidget(self.keep_box)


class ReviewStep(QWidget):
    """Every take before the voice is made: listen, record again, remove; name the voice."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.rows: list[TakeRow] = []
        self._rows_box = QWidget()
        self._rows_layout = QVBoxLayout(self._rows_box)
        self._rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows_box)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Voice name")
        self.name_edit.setPlaceholderText("A name for the new voice")
        self.back_button = _back_button()
        self.create_button = QPushButton("Create voice")
        self.create_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, stretch=1)
        form = QFormLayout()
        form.addRow("Voice &name:", self.name_edit)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.create_button)
        layout.addLayout(row)

    def set_rows(self, rows: list[TakeRow]) -> None:
        for old in self.rows:
            self._rows_layout.removeWidget(old)
            old.deleteLater()
        self.rows = rows
        for index, row in enumerate(rows):
            self._rows_layout.insertWidget(index, row)


class AdaptStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.device = QLabel()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Adaptation progress")
        self.status = QLabel("Learning your voice…")
        self.status.setWordWrap(True)
        # The similarity meter: the speaker encoder's cosine between your takes and the
        # voice as it is being learned (shown only for models with an encoder).
        self.similarity = QLabel()
        self.similarity_meter = QProgressBar()
        self.similarity_meter.setAccessibleName("Similarity to your takes")
        self.similarity_meter.setFormat("%v / 100")
        self.similarity.hide()
        self.similarity_meter.hide()
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setLabel("bottom", "step")
        self.curve_plot.setLabel("left", "loss")
        self.curve_plot.addLegend()
        self.loss_curve = self.curve_plot.plot(
            pen=pg.mkPen((90, 150, 230), width=2), name="training takes"
        )
        self.holdout_curve = self.curve_plot.plot(
            pen=pg.mkPen((230, 130, 60), width=2), name="held-out take"
        )
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry")
        self.details_button = QPushButton("Details…")
        self.back_button = _back_button()
        for button in (self.retry_button, self.details_button):
            button.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.device)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.similarity)
        layout.addWidget(self.similarity_meter)
        layout.addWidget(self.curve_plot, stretch=1)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.details_button)
        row.addWidget(self.retry_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)


class DoneStep(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.message = _big(QLabel())
        self.similarity = QLabel()
        self.similarity.setWordWrap(True)
        self.similarity.setAccessibleName("Similarity to your takes")
        self.play_problem = QLabel()  # why the preview could not be played, if it could not
        self.play_problem.setWordWrap(True)
        self.play_problem.setVisible(False)
        self.back_button = _back_button()
        self.play_button = QPushButton("Play the preview")
        self.speak_button = QPushButton("Speak with this voice")
        self.again_button = QPushButton("Clone another voice")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.similarity)
        layout.addWidget(self.play_problem)
        row = QHBoxLayout()
        for button in (self.back_button, self.play_button, self.speak_button, self.again_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)


class ClonePage(AreaPage):
    title = "Clone"
    summary = "Read a few sentences aloud and MetaVoice learns your voice."

    files_dropped = Signal(list)  # of Path: audio files dragged onto the page

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.start_over_button = QPushButton("Start over")
        self.start_over_button.setVisible(False)
        self.microphone = MicrophoneStep()
        self.consent = ConsentStep()
        self.prompts = PromptStep()
        self.review = ReviewStep()
        self.adapt = AdaptStep()
        self.done = DoneStep()
        self.steps = QStackedWidget()
        for step in (
            self.microphone,
            self.consent,
            self.prompts,
            self.review,
            self.adapt,
            self.done,
        ):
            self.steps.addWidget(step)
        self.step_label = QLabel()
        self.step_label.setAccessibleName("Wizard step")
        self.steps.currentChanged.connect(self._show_step)
        self._show_step(0)
        banner = QHBoxLayout()
        banner.addWidget(self.banner, stretch=1)
        banner.addWidget(self.start_over_button)
        self.content.addLayout(banner)
        self.content.addWidget(self.step_label)
        self.content.addWidget(self.steps, stretch=1)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        audio = [p for p in paths if p.suffix.lower() in AUDIO_SUFFIXES]
        if audio:
            self.files_dropped.emit(audio)
            event.acceptProposedAction()

    def _show_step(self, index: int) -> None:
        parts = [
            f"<b>{i + 1}. {name}</b>" if i == index else f"{i + 1}. {name}"
            for i, name in enumerate(STEP_NAMES)
        ]
        self.step_label.setText(" &nbsp;&rsaquo;&nbsp; ".join(parts))

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))
        self.start_over_button.setVisible(bool(text))
