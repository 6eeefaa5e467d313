"""Save a PNG of each area of the main window, of the About box, and of the whole screen.

Used for the screenshots in docs/ and by the test that opens the app on a real
X server (Xvfb). Run it on a display, e.g.:

    xvfb-run -a -s "-screen 0 1280x800x24" \\
        .venv/bin/python scripts/screenshots.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from metavoice_app.core.paths import HOME_ENV, AppPaths
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import Area

SAMPLE_TEXT = "Hello! This is MetaVoice Studio, speaking on your own computer."
SAMPLE_SUBTITLES = """1
00:00:01,000 --> 00:00:03,000
[Narrator] It was a quiet morning in the harbour.

2
00:00:03,500 --> 00:00:05,500
[Captain] Cast off the lines, we sail at noon!

3
00:00:06,000 --> 00:00:08,000
[Narrator] Nobody on the pier said a word.
"""


def _settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    args = parser.parse_args()
    if not os.environ.get(HOME_ENV):
        # A throwaway home: screenshots show a first start, not the user's library.
        os.environ[HOME_ENV] = tempfile.mkdtemp(prefix="metavoice-shots-")
    paths = AppPaths.from_env()
    paths.ensure()
    args.out.mkdir(parents=True, exist_ok=True)

    window = create_main_window(paths)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window.resize(1100, 700)
    window.show()
    deadline = time.monotonic() + 60
    while window.device_info is None and time.monotonic() < deadline:
        _settle(app, 0.1)
    if window.device_info is None:
        print("the compute device was not detected within 60 s", file=sys.stderr)
        return 1

    # Show the areas in use: a spoken clip with its spectrogram, a loaded subtitle file.
    deadline = time.monotonic() + 120
    while (
        window.engines.engine is None and not window.engines.problem and time.monotonic() < deadline
    ):
        _settle(app, 0.1)
    if window.engines.engine is not None:
        window.speak_page.text_edit.setPlainText(SAMPLE_TEXT)
        window.speak_controller.speak()
        while window.speak_page.history.count() == 0 and time.monotonic() < deadline:
            _settle(app, 0.1)
        window.player.stop()
        subtitles = Path(tempfile.mkdtemp(prefix="metavoice-shots-")) / "scene.srt"
        subtitles.write_text(SAMPLE_SUBTITLES, encoding="utf-8")
        window.dub_controller.load(subtitles)

    written = []
    for area in Area:
        window.show_area(area)
        _settle(app, 0.3)
        target = args.out / f"{area.name.lower()}.png"
        window.grab().save(str(target))
        written.append(target)
    window.show_area(Area.VOICES)
    about = window.show_about()
    _settle(app, 0.3)
    about.grab().save(str(args.out / "about.png"))
    written.append(args.out / "about.png")
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(args.out / "screen.png"))
    written.append(args.out / "screen.png")
    for path in written:
        print(path)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
