from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_data

from metavoice_app.core.text.frontend import TextFrontend
from metavoice_app.core.text.phones import PHONE_TO_ID
from metavoice_app.core.train.corpus import engines
from metavoice_app.core.train.corpus.build import (
    CorpusConfig,
    RealJob,
    build,
    load_sentences,
    plan,
    utterance_phones,
)
from metavoice_app.core.train.corpus.engines import EngineVoice, synthesize
from metavoice_app.core.train.corpus.labels import Segment, align_to_phones, segments_from_end_times
from metavoice_app.core.train.corpus.real import (
    DEV_SET,
    is_held_out,
    librispeech_speakers,
    vcc2016_speakers,
)
from metavoice_app.core.train.corpus.store import Corpus, CorpusError

FLITE_SLT = EngineVoice("flite-slt", "flite", "slt")
needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed")
SENTENCES = [
    "Please call Stella and ask her to bring these things with her.",
    "The rainbow is a division of white light into many beautiful colors.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her.",
]


def test_engine_labels_and_alignment() -> None:
    segments = segments_from_end_times(
        [("pau", 0.1), ("hh", 0.2), ("ax", 0.25), ("l", 0.3), ("ow", 0.5), ("pau", 0.6)]
    )
    assert [s.phone for s in segments] == ["pau", "HH", "AH", "L", "OW", "pau"]
    phones = ("sil", "HH", "AH0", "L", "OW1", "sil")
    durations, agreement = align_to_phones(phones, segments, 60)
    assert durations.tolist() == [10, 10, 5, 5, 20, 10]
    assert agreement == 1.0


def test_alignment_absorbs_engine_differences() -> None:
    phones = ("sil", "HH", "AH0", "L", "OW1", "sil")
    segments = [
        Segment("pau", 0, 0.1),
        Segment("HH", 0.1, 0.2),
        Segment("EH", 0.2, 0.25),
        Segment("L", 0.25, 0.3),
        Segment("W", 0.3, 0.35),
        Segment("OW", 0.35, 0.5),
    ]
    durations, agreement = align_to_phones(phones, segments, 55)
    assert durations.sum() == 55
    assert (durations >= 0).all()
    assert agreement == pytest.approx(3 / 4)


@needs_flite
def test_engine_speech_comes_with_timings() -> None:
    [speech] = synthesize(FLITE_SLT, [SENTENCES[0]])
    assert speech.wav.dtype == np.float32 and len(speech.wav) > 16000
    assert speech.segments[0].phone == "pau"
    assert abs(speech.segments[-1].end - len(speech.wav) / 16000) < 0.05


def test_missing_engine_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines.shutil, "which", lambda _name: None)
    with pytest.raises(engines.EngineUnavailableError, match="apt-get install festival"):
        synthesize(EngineVoice("festival-kal", "festival", "voice_kal_diphone"), ["Hello."])


@needs_flite
def test_small_corpus_build_labels_resume(tmp_path: Path) -> None:
    text_file = tmp_path / "sentences.txt"
    text_file.write_text("\n".join(SENTENCES) + "\nToo short.\n", encoding="utf-8")
    config = CorpusConfig(
        out=tmp_path / "corpus",
        text_file=text_file,
        engine_voices=(FLITE_SLT,),
        speakers_per_voice={"flite": 2},
        utterances_per_speaker=2,
        jobs=1,
    )
    progress: list[tuple[int, int, str]] = []
    corpus = build(config, progress=lambda d, t, m: progress.append((d, t, m)))
    speakers = corpus.speakers()
    assert [s.id for s in speakers] == ["flite-slt-00", "flite-slt-01"]
    assert progress[-1][:2] == (2, 2)
    frontend = TextFrontend()
    for speaker in speakers:
        features = corpus.features(speaker.id)
        assert len(speaker.utterances) == 2
        for utt in speaker.utterances:
            # The corpus is labelled with exactly what synthesis will produce.
            assert tuple(utt.phones) == utterance_phones(utt.text, frontend)
            assert all(p in PHONE_TO_ID for p in utt.phones)
            assert features[utt.id].shape == (utt.n_frames, 43)
            assert utt.ref_durations is not None and sum(utt.ref_durations) == utt.n_frames
            assert utt.ref_agreement is not None and utt.ref_agreement >= 0.9
    assert speakers[0].transform == {"f0_scale": 1.0, "formant_scale": 1.0, "rate": 1.0}
    assert speakers[1].transform != speakers[0].transform

    built = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "corpus").rglob("*.json")}
    progress.clear()
    build(config, progress=lambda d, t, m: progress.append((d, t, m)))
    assert progress == []  # nothing left to do: the second run resumed past everything
    assert built == {p.name: p.stat().st_mtime_ns for p in (tmp_path / "corpus").rglob("*.json")}


def test_corpus_of_another_format_is_refused(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path)
    corpus.create()
    (tmp_path / "corpus.json").write_text('{"format": 99}')
    with pytest.raises(CorpusError, match="format 99"):
        corpus.speakers()
    with pytest.raises(CorpusError, match="different format"):
        Corpus(tmp_path).create()


def test_not_a_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not a corpus folder"):
        Corpus(tmp_path).speakers()


@pytest.mark.skipif(shared_data() is None, reason="the shared data folder is not present")
def test_shared_prompts_phonemise_into_the_phone_set_and_match_flite() -> None:
    shared = shared_data()
    assert shared is not None
    frontend = TextFrontend()
    sentences = load_sentences(shared / "text" / "vctk_prompts.txt", frontend, random.Random(0))
    assert len(sentences) > 5000
    for text in sentences[:300]:
        assert all(p in PHONE_TO_ID for p in utterance_phones(text, frontend))
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    sample = sentences[:15]
    agreements = []
    for text, speech in zip(sample, synthesize(FLITE_SLT, sample), strict=True):
        phones = utterance_phones(text, frontend)
        n_frames = len(speech.wav) // 160 + 1
        agreements.append(align_to_phones(phones, speech.segments, n_frames)[1])
    assert float(np.mean(agreements)) > 0.9


@pytest.mark.skipif(shared_data() is None, reason="the shared data folder is not present")
def test_real_speakers_exclude_the_dev_set() -> None:
    shared = shared_data()
    assert shared is not None
    vcc = vcc2016_speakers(shared)
    libri = librispeech_speakers(shared)
    assert len(vcc) == 10 and all(len(s.clips) == 216 for s in vcc)
    assert len(libri) == 261
    assert all(DEV_SET not in str(c.path) for s in vcc + libri for c in s.clips)
    held_out = [s.name for s in libri if is_held_out(s)]
    assert len(held_out) == 10
    jobs = plan(CorpusConfig(out=Path("unused"), shared=shared, real_pseudo_speakers=2))
    assert len(jobs) == 10 * 3 + 251
    # the test-other speakers are the second adaptation dev set: never trained on
    ids = {j.speaker_id for j in jobs if isinstance(j, RealJob)}
    assert not ids & {f"libri-{name}" for name in held_out}
