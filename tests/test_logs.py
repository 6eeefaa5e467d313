from __future__ import annotations

import logging
from pathlib import Path

from metavoice_app.core.logs import LOG_FILE_NAME, MAX_LOG_BYTES, setup_logging


def test_log_file_rotates(tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)
    logger = logging.getLogger("metavoice_app.test")
    line = "x" * 1000
    for _ in range(MAX_LOG_BYTES // 1000 + 50):
        logger.info(line)
    assert log_file == tmp_path / LOG_FILE_NAME
    assert (tmp_path / f"{LOG_FILE_NAME}.1").exists()
    assert log_file.stat().st_size < MAX_LOG_BYTES


def test_repeated_setup_does_not_duplicate_lines(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    log_file = setup_logging(tmp_path)
    logging.getLogger("metavoice_app.test").info("only once")
    assert log_file.read_text(encoding="utf-8").count("only once") == 1
