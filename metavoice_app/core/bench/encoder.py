"""``metavoice bench encoder``: how well the speaker encoder tells unseen voices apart.

Every recording of the VCTK dev speakers (never trained on) is embedded by our
speaker encoder and, for reference, by Resemblyzer's pretrained one. Reported:
the equal error rate of same-or-different-speaker decisions over all pairs, and
the mean cosine of same- and different-speaker pairs. The voice memory's
starting point and the app's similarity meter rely on this separation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metavoice_app.core.audio.io import load_audio
from metavoice_app.core.audio.prep import normalize_loudness, trim_silence
from metavoice_app.core.bench.adapt import SpeakerJudge, dev_recordings
from metavoice_app.core.features import world
from metavoice_app.core.speaker.encoder import SpeakerEncoder
from metavoice_app.core.train.speaker_encoder import equal_error_rate


@dataclass
class EncoderRow:
    encoder: str
    eer: float
    same: float
    different: float
    recordings: int
    speakers: int


def score(name: str, embeddings: np.ndarray, labels: np.ndarray) -> EncoderRow:
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    cosine = unit @ unit.T
    upper = np.triu_indices(len(labels), k=1)
    same = (labels[:, None] == labels[None, :])[upper]
    return EncoderRow(
        name,
        equal_error_rate(unit, labels),
        float(cosine[upper][same].mean()),
        float(cosine[upper][~same].mean()),
        len(labels),
        len(set(labels.tolist())),
    )


def run(encoder: SpeakerEncoder, shared: Path, with_reference: bool = True) -> list[EncoderRow]:
    audio, labels = [], []
    for index, (_, items) in enumerate(dev_recordings(shared).items()):
        for path, _ in items:
            audio.append(normalize_loudness(trim_silence(load_audio(path))))
            labels.append(index)
    label_array = np.array(labels)
    ours = np.stack([encoder.embed(world.recording_features(a)) for a in audio])
    rows = [score("ours (GE2E, WORLD features)", ours, label_array)]
    if with_reference:
        judge = SpeakerJudge()
        rows.append(
            score("Resemblyzer (reference)", np.stack([judge.embed(a) for a in audio]), label_array)
        )
    return rows


def to_markdown(rows: list[EncoderRow], command: str, training: str) -> str:
    lines = [
        "## Speaker encoder (`metavoice bench encoder`)",
        "",
        f"Measured {dt.date.today().isoformat()} with `{command}`: every recording of the "
        f"{rows[0].speakers} unseen VCTK dev speakers ({rows[0].recordings} recordings), all "
        f"pairs. Encoder: {training}.",
        "",
        "| encoder | EER | same-speaker cosine | different-speaker cosine |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r.encoder} | {100 * r.eer:.1f}% | {r.same:.3f} | {r.different:.3f} |" for r in rows
    ]
    return "\n".join(lines) + "\n"
