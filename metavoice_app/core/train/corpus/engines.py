"""Speech from the Debian synthesisers, with the phone timings each engine reports.

flite prints segment end times with ``-psdur``; festival saves them with
``utt.save.segs``; eSpeak NG reports phoneme events through its C API. Each
voice is run on normalised text, so it reads exactly the words we label.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from metavoice_app.core.audio.io import resample
from metavoice_app.core.features.world import SAMPLE_RATE
from metavoice_app.core.text.espeak import espeak_engine
from metavoice_app.core.train.corpus.labels import (
    Segment,
    segments_from_end_times,
    segments_from_espeak,
)


@dataclass(frozen=True)
class EngineVoice:
    """A voice of one engine: ``engine`` is flite, festival or espeak."""

    name: str
    engine: str
    voice: str


@dataclass
class EngineSpeech:
    wav: np.ndarray  # float32, 16 kHz
    segments: list[Segment]


# flite's "kal" is an 8 kHz voice and "awb_time" speaks only times: both are left out.
ENGINE_VOICES: tuple[EngineVoice, ...] = (
    EngineVoice("flite-kal16", "flite", "kal16"),
    EngineVoice("flite-awb", "flite", "awb"),
    EngineVoice("flite-rms", "flite", "rms"),
    EngineVoice("flite-slt", "flite", "slt"),
    EngineVoice("festival-kal", "festival", "voice_kal_diphone"),
    EngineVoice("festival-ked", "festival", "voice_ked_diphone"),
    EngineVoice("festival-slt-hts", "festival", "voice_cmu_us_slt_arctic_hts"),
    EngineVoice("espeak-us", "espeak", "en-us"),
    EngineVoice("espeak-us-m3", "espeak", "en-us+m3"),
    EngineVoice("espeak-us-f2", "espeak", "en-us+f2"),
    EngineVoice("espeak-us-f4", "espeak", "en-us+f4"),
)


class EngineUnavailableError(RuntimeError):
    """A synthesiser is not installed."""


def engine_available(engine: str) -> bool:
    if engine == "espeak":
        try:
            espeak_engine()
        except Exception:
            return False
        return True
    return shutil.which(engine) is not None


def _read_wav(path: Path) -> np.ndarray:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return resample(data.mean(axis=1), rate, SAMPLE_RATE)


def _flite(voice: str, texts: list[str], workdir: Path) -> list[EngineSpeech]:
    results = []
    for index, text in enumerate(texts):
        wav_path = workdir / f"{index}.wav"
        done = subprocess.run(
            ["flite", "-voice", voice, "-psdur", "-t", text, "-o", str(wav_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        labels = []
        for item in done.stdout.split():
            name, _, end = item.rpartition(":")
            labels.append((name, float(end)))
        results.append(EngineSpeech(_read_wav(wav_path), segments_from_end_times(labels)))
    return results


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", " ").replace('"', " ") + '"'


def _festival(voice: str, texts: list[str], workdir: Path) -> list[EngineSpeech]:
    lines = [f"({voice})"]
    for index, text in enumerate(texts):
        lines += [
            f"(set! u (SynthText {_scheme_string(text)}))",
            f'(utt.save.wave u "{workdir / f"{index}.wav"}" \'riff)',
            f'(utt.save.segs u "{workdir / f"{index}.segs"}")',
        ]
    script = workdir / "batch.scm"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(
        ["festival", "-b", str(script)],
        capture_output=True,
        check=True,
        timeout=60 + 30 * len(texts),
    )
    results = []
    for index in range(len(texts)):
        labels = []
        for line in (workdir / f"{index}.segs").read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] != "#":
                labels.append((parts[2], float(parts[0])))
        results.append(
            EngineSpeech(_read_wav(workdir / f"{index}.wav"), segments_from_end_times(labels))
        )
    return results


def _espeak(voice: str, texts: list[str]) -> list[EngineSpeech]:
    engine = espeak_engine()
    results = []
    for text in texts:
        speech = engine.speak(text, voice)
        wav = speech.wav.astype(np.float32) / 32768.0
        segments = segments_from_espeak(speech.phonemes, len(speech.wav), speech.sample_rate)
        results.append(EngineSpeech(resample(wav, speech.sample_rate, SAMPLE_RATE), segments))
    return results


def synthesize(voice: EngineVoice, texts: list[str]) -> list[EngineSpeech]:
    """Speak each text with ``voice``; raises :class:`EngineUnavailableError` if missing."""
    if not engine_available(voice.engine):
        raise EngineUnavailableError(
            f"{voice.engine} is not installed (Debian: apt-get install "
            + {
                "flite": "flite",
                "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
                "espeak": "python package espeakng-loader",
            }[voice.engine]
            + ")"
        )
    if voice.engine == "espeak":
        return _espeak(voice.voice, texts)
    with tempfile.TemporaryDirectory(prefix="metavoice-engine-") as tmp:
        if voice.engine == "flite":
            return _flite(voice.voice, texts, Path(tmp))
        return _festival(voice.voice, texts, Path(tmp))
