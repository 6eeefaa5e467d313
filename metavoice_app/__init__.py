"""MetaVoice Studio: few-shot voice cloning on the desktop.

The package is split in two so the engine can run headless (CLI, CI, a render
farm) and the GUI can never leak model math into widgets:

- ``metavoice_app.core``: the engine. It never imports Qt.
- ``metavoice_app.gui``: Qt windows, widgets and workers that drive the engine.
"""

__version__ = "0.1.0"
