"""Loading the speech engine once, in the background, for every area that needs it."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from metavoice_app.core.device import DeviceError
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.gui.workers import Task, TaskContext

log = logging.getLogger(__name__)


class EngineService(QObject):
    """Emits ``ready(engine)`` once the model is loaded, or ``failed(message)``."""

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, model_dir: Path | None, device: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_dir = model_dir
        self.device = device
        self.engine: SpeechEngine | None = None
        self.problem = ""
        self._task: Task | None = None

    def start(self) -> Task:
        def load(_ctx: TaskContext) -> SpeechEngine:
            try:
                engine = SpeechEngine(self.model_dir, device=self.device)
            except DeviceError as exc:  # e.g. CUDA chosen on a machine without a GPU
                log.warning("%s; loading the speech model on the CPU", exc)
                engine = SpeechEngine(self.model_dir, device="cpu")
            engine.frontend.prepare("Warm up the lexicon.")
            if engine.speaker_tools is not None:  # loaded here, off the GUI thread
                log.info("speaker encoder and voice memory loaded")
            return engine

        self._task = Task(load)
        self._task.succeeded.connect(self._loaded)
        self._task.failed.connect(self._failed)
        self._task.start()
        return self._task

    def _loaded(self, engine: SpeechEngine) -> None:
        self.engine = engine
        log.info(
            "speech model loaded from %s (%d voices)", engine.model_dir, len(engine.voice_ids())
        )
        self.ready.emit(engine)

    def _failed(self, message: str, _details: str) -> None:
        self.problem = message
        self.failed.emit(message)
