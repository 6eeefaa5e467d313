"""Shared fixtures: every test gets its own METAVOICE_HOME and an offscreen Qt."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Before pytest-qt creates the QApplication: no screen is needed unless a test asks for Xvfb.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from metavoice_app.core.paths import HOME_ENV, AppPaths

REPO_ROOT = Path(__file__).resolve().parents[1]
HARD_EXIT_ENV = "METAVOICE_TEST_HARD_EXIT"
_session_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _session_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Under scripts/test.sh, end the process with pytest's own status once every report
    is written, skipping interpreter finalisation: a fresh-clone run passed every test and
    then aborted while garbage-collecting native extension objects at exit
    ("none_dealloc"), which would turn a green run red for a reason no test can see."""
    if os.environ.get(HARD_EXIT_ENV) == "1" and _session_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_session_status[-1])


@pytest.fixture(scope="session", autouse=True)
def _no_threads_left_at_exit():
    """Windows closed by tests may still be loading the model in a worker; wait for them."""
    yield
    from metavoice_app.gui.workers import Task

    assert Task.wait_all(60_000), "a background task did not finish"


class SilentSpeakers:
    """An output stream that accepts the player's callback and plays nowhere: speakers
    for a machine without a sound card."""

    active = False  # plays nothing, so it never has audio queued

    def __init__(self, **kwargs: object) -> None:
        self.callback = kwargs["callback"]

    def start(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def silent_speakers(monkeypatch: pytest.MonkeyPatch) -> None:
    import sounddevice

    monkeypatch.setattr(sounddevice, "OutputStream", SilentSpeakers)


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(autouse=True)
def app_paths(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> AppPaths:
    """Point the app at a fresh home folder so no test touches the real one.

    It lives outside ``tmp_path`` so tests can assert on exactly what they wrote there.
    """
    home = tmp_path_factory.mktemp("metavoice-home")
    monkeypatch.setenv(HOME_ENV, str(home))
    paths = AppPaths.from_env()
    paths.ensure()
    return paths


@pytest.fixture(scope="session")
def flite_speech(tmp_path_factory: pytest.TempPathFactory):
    """A function that makes real speech (16 kHz float32) with flite, or skips."""
    import shutil
    import subprocess

    import soundfile as sf

    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (apt-get install flite)")
    folder = tmp_path_factory.mktemp("flite")

    def speak(text: str, voice: str = "slt"):
        path = folder / f"{abs(hash((text, voice)))}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(path)], check=True)
        wav, rate = sf.read(str(path), dtype="float32")
        assert rate == 16000
        return wav

    return speak


def shared_data() -> Path | None:
    """The shared training data beside the checkout, if present."""
    from metavoice_app.commands.common import default_shared_data

    return default_shared_data()


def librispeech_tree(root: Path) -> Path:
    """A shared data folder holding two LibriSpeech speakers: 7 in test-other (held out of
    training) and 8 in a training split; the model voices made from them are libri-7 and
    libri-8."""
    folder = root / "speech" / "librispeech_untranscribed"
    folder.mkdir(parents=True)
    rows = [
        "librispeech_test-other/7/1.flac\t7\tsome words\n",
        "librispeech_train-clean/8/1.flac\t8\tother words\n",
    ]
    (folder / "metadata.whisper_base.tsv").write_text("".join(rows), encoding="utf-8")
    return root


def rename_voices(model_dir: Path, names: dict[str, str]) -> None:
    """Give a model folder's voices other ids, everywhere its config names them."""
    config = model_dir / "config.json"
    text = config.read_text(encoding="utf-8")
    for old, new in names.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    config.write_text(text, encoding="utf-8")


TINY_SENTENCES = [
    "Please call Stella and ask her to bring these things with her.",
    "The rainbow is a division of white light into many beautiful colors.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her.",
    "When the sunlight strikes raindrops in the air, they act as a prism.",
    "These take the shape of a long round arch, with its path high above.",
]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real corpus: two flite pseudo-speakers reading three sentences each."""
    import shutil

    from metavoice_app.core.train.corpus.build import CorpusConfig, build
    from metavoice_app.core.train.corpus.engines import EngineVoice

    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (apt-get install flite)")
    root = tmp_path_factory.mktemp("tiny-corpus")
    text = root / "sentences.txt"
    text.write_text("\n".join(TINY_SENTENCES) + "\n", encoding="utf-8")
    config = CorpusConfig(
        out=root / "corpus",
        text_file=text,
        engine_voices=(EngineVoice("flite-slt", "flite", "slt"),),
        speakers_per_voice={"flite": 2},
        utterances_per_speaker=3,
        jobs=1,
    )
    build(config)
    return root / "corpus"


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model briefly trained on the tiny corpus, exported as a model folder."""
    from metavoice_app.core.model.config import ModelConfig
    from metavoice_app.core.train.base import BEST_DIR, Trainer
    from metavoice_app.core.train.config import TrainConfig

    out = tmp_path_factory.mktemp("tiny-training")
    config = TrainConfig(
        corpus=tiny_corpus,
        out=out,
        model=ModelConfig.tiny(),
        steps=40,
        batch_frames=2000,
        validate_every=20,
        holdout=1,
        learning_rate=3e-3,
        warmup_steps=5,
        device="cpu",
    )
    Trainer(config).run()
    return out / BEST_DIR


@pytest.fixture(scope="session")
def tiny_model_with_encoder(
    tiny_corpus: Path, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The tiny model with a briefly trained speaker encoder and voice memory attached."""
    import shutil

    from metavoice_app.core.train.speaker_encoder import EncoderTrainConfig, train_encoder
    from metavoice_app.core.train.speaker_tools import attach

    root = tmp_path_factory.mktemp("tiny-encoder")
    train_encoder(
        EncoderTrainConfig(corpus=tiny_corpus, out=root / "encoder", steps=3, speakers_per_batch=2)
    )
    model_dir = root / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    attach(model_dir, root / "encoder", tiny_corpus)
    return model_dir
