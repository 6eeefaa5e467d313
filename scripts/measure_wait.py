"""The wizard's wait: from the last accepted take to the voice saved in the library.

The wizard analyses each take as it is accepted, so what the person waits for after the
last take is the clone pipeline itself: adaptation with the held-out take, the exemplar
tables, the similarity meter (the wizard watches the steps, so the meter runs), the preview
and the profile write. This runs that pipeline
(``core.adapt.clone.clone_voice``) on each VCTK dev speaker's first 5 recordings, analysed
beforehand as at accept (and their features cached beside them, as in the wizard's session
folder), and prints each wait; run it on a quiet machine:

    .venv/bin/python scripts/measure_wait.py --shared ../shared/data --threads 2 --repeat 3

With ``--ahead SECONDS`` the wizard's head start is simulated too: the steps on the first 4
takes begin (``core.adapt.ahead``) as the fourth take is accepted, and the last take is
accepted SECONDS later (the time the person takes to read, check and accept the last
sentence; nothing else runs meanwhile here, unlike in the wizard, where the last take's
checks share the cores); the wait is counted from then.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import threading
import time
from pathlib import Path

import soundfile as sf
import torch

from metavoice_app.core.adapt.ahead import LearningAhead
from metavoice_app.core.adapt.clone import clone_voice
from metavoice_app.core.adapt.config import PARAM_SETS, AdaptConfig
from metavoice_app.core.adapt.takes import Take, prepare_take, take_features
from metavoice_app.core.bench.adapt import dev_speakers
from metavoice_app.core.profiles.mvoice import Manifest
from metavoice_app.core.progress import ProgressSink
from metavoice_app.core.synth.engine import SpeechEngine


def _same_path(path: Path, _manifest: Manifest) -> Path:
    return path


def _session_takes(recorded: list[Take], folder: Path) -> list[Take]:
    """The takes as files in a session folder, named as the wizard names them."""
    folder.mkdir(parents=True)
    takes = []
    for index, take in enumerate(recorded):
        path = folder / f"{index + 1:02d}.wav"
        sf.write(path, take.audio, 16000)
        takes.append(prepare_take(path, take.text))
    return takes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dev-set", choices=("vctk", "test-other"), default="vctk")
    parser.add_argument(
        "--steps", type=int, default=AdaptConfig().steps, help="the most steps (the app's)"
    )
    parser.add_argument(
        "--params", choices=PARAM_SETS, default=AdaptConfig().params, help="what to adapt"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="clone each speaker this many times and keep the shortest wait (a shared "
        "machine's speed varies by 2x from minute to minute)",
    )
    parser.add_argument(
        "--ahead",
        type=float,
        default=None,
        metavar="SECONDS",
        help="learn ahead on the first takes, the last take accepted SECONDS after they began",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    engine = SpeechEngine(None, device="cpu")
    assert engine.speaker_tools is not None  # loaded at start-up in the app
    out = Path(tempfile.mkdtemp())
    waits = []
    config = AdaptConfig(steps=args.steps, params=args.params, cache_features=True)
    for speaker, (recorded, _queries) in dev_speakers(args.shared, 5, args.dev_set).items():
        takes = _session_takes(recorded, out / speaker)
        for take in takes:
            take_features(take, cache=True)  # done while the person records
            engine.frontend.prepare(take.text)  # and the take's words checked (screening)
        path = out / f"{speaker}.mvoice"
        tries, ahead_steps = [], 0
        for _ in range(max(1, args.repeat)):
            ahead = None
            if args.ahead is not None:
                ahead = LearningAhead(engine, [(t.path, t.text) for t in takes[:-1]], config)
                worker = threading.Thread(target=ahead.run)
                worker.start()
                time.sleep(args.ahead)  # the last sentence is read
            started = time.perf_counter()
            cloned = clone_voice(
                engine,
                [prepare_take(t.path, t.text) for t in takes],  # as the wizard loads them
                name=speaker,
                speaker_name=speaker,
                consent_recording=None,
                destination=functools.partial(_same_path, path),
                config=config,
                progress=ProgressSink(lambda _report: None),  # watched, as in the wizard
                ahead=ahead,
            )
            tries.append(time.perf_counter() - started)
            ahead_steps = cloned.voice.steps_ahead
            if ahead is not None:
                worker.join()
        waits.append(min(tries))
        print(
            f"{speaker}: wait {waits[-1]:.1f} s (tries {', '.join(f'{t:.1f}' for t in tries)}), "
            f"{ahead_steps} steps ahead, profile {path.stat().st_size / 1e6:.2f} MB"
        )
    print(f"mean wait {statistics.mean(waits):.1f} s over {len(waits)} speakers")


if __name__ == "__main__":
    main()
