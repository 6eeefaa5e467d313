"""The naturalness judge: NISQA-TTS, the published predictor of listeners' naturalness
ratings (Mittag and Moeller, Interspeech 2020), for benchmarks only.

Its weights (CC BY-NC-SA) live in the shared folder (``judges/nisqa_tts/``) and never
in the app, the bundle or ``resources/``; its code is the ``nisqa`` package
(``scripts/setup.sh bench`` installs it). Clips are scored the way the shared folder's
reference scorer does it (written as wav files and read back by NISQA's own loader),
so the numbers here and that script's agree.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from metavoice_app.core.bench.judge import JudgeUnavailableError

WEIGHTS = Path("judges") / "nisqa_tts" / "nisqa_tts.tar"


def weights_path(shared_data: Path) -> Path:
    """Where the judge's weights are: ``shared/judges`` beside ``shared/data``."""
    return shared_data.parent / WEIGHTS


class NaturalnessJudge:
    """Mean-opinion-score predictions (1 to 5) for 16 kHz mono clips."""

    def __init__(self, shared_data: Path) -> None:
        self.weights = weights_path(shared_data)
        if not self.weights.is_file():
            raise JudgeUnavailableError(
                f"the naturalness judge's weights are missing ({self.weights})"
            )
        try:
            import pandas
            from nisqa.NISQA_model import nisqaModel
        except ImportError as exc:
            raise JudgeUnavailableError(
                "the naturalness judge needs the bench setup: bash scripts/setup.sh bench "
                "(nisqa with pandas and librosa)"
            ) from exc
        self._pandas: Any = pandas
        self._model_class: Any = nisqaModel

    def score(self, clips: list[np.ndarray], sample_rate: int = 16000) -> list[float]:
        """One predicted naturalness per clip, in the order given."""
        if not clips:
            return []
        with tempfile.TemporaryDirectory(prefix="metavoice-nisqa-") as tmp:
            folder = Path(tmp)
            files = []
            for index, clip in enumerate(clips):
                path = folder / f"{index:05d}.wav"
                sf.write(path, np.asarray(clip, dtype=np.float32), sample_rate, subtype="PCM_16")
                files.append(str(path))
            table = folder / "files.csv"
            self._pandas.DataFrame({"deg": files}).to_csv(table, index=False)
            args = {
                "mode": "predict_csv",
                "pretrained_model": str(self.weights),
                "csv_file": str(table),
                "csv_deg": "deg",
                "data_dir": "",
                "output_dir": None,
                "num_workers": 0,
                "bs": 1,
                "ms_channel": None,
                "tr_bs_val": 1,
                "tr_num_workers": 0,
            }
            with contextlib.redirect_stdout(io.StringIO()):
                frame = self._model_class(args).predict()
            by_file = dict(zip(frame["deg"], frame["mos_pred"], strict=True))
            return [float(by_file[f]) for f in files]
