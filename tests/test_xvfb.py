"""The app opens on a real X server (Xvfb), not only on Qt's offscreen platform."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.xvfb


@pytest.fixture
def x_display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def _distinct_colours(image: QImage) -> int:
    step_x, step_y = max(1, image.width() // 64), max(1, image.height() // 64)
    return len(
        {
            image.pixel(x, y)
            for x in range(0, image.width(), step_x)
            for y in range(0, image.height(), step_y)
        }
    )


def test_window_renders_on_xvfb(x_display: str, tmp_path: Path, repo_root: Path) -> None:
    env = dict(os.environ, DISPLAY=x_display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts" / "screenshots.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    for name in ("voices", "clone", "speak", "dub", "about"):
        image = QImage(str(tmp_path / f"{name}.png"))
        assert not image.isNull(), f"{name}.png was not written"
        assert _distinct_colours(image) > 5, f"{name}.png looks blank"
    screen = QImage(str(tmp_path / "screen.png"))
    assert (screen.width(), screen.height()) == (1280, 800)
    assert _distinct_colours(screen) > 5, "nothing was drawn on the X screen"
