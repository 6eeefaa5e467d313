"""The voice map: layout of speaker-encoder embeddings, and the Voices area drawing it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot

from metavoice_app.core.paths import AppPaths
from metavoice_app.core.profiles.mvoice import (
    Consent,
    Manifest,
    ProfileError,
    TensorSpec,
    read_profile,
    save_profile,
)
from metavoice_app.core.speaker.bundle import load_tools
from metavoice_app.core.speaker.voicemap import layout
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.gui.app import create_main_window
from metavoice_app.gui.main_window import Area


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def test_similar_voices_land_near_each_other() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(32), rng.standard_normal(32)
    prints = {
        "a1": _unit(a),
        "a2": _unit(a + 0.05 * rng.standard_normal(32)),
        "b1": _unit(b),
        "b2": _unit(b + 0.05 * rng.standard_normal(32)),
    }
    places = {k: np.array(v) for k, v in layout(prints).items()}
    near = np.linalg.norm(places["a1"] - places["a2"])
    far = np.linalg.norm(places["a1"] - places["b1"])
    assert near < far / 5
    assert layout(prints) == layout(dict(prints))  # deterministic
    assert layout({"only": prints["a1"]}) == {"only": (0.0, 0.0)}


def _manifest(voice_print: list[float] | None) -> Manifest:
    consent = Consent("Ada", "I, Ada, agree.", "2026-11-21T12:00:00+00:00")
    tensors = [TensorSpec("speaker", [16], "F32")]
    return Manifest("Ada", "id", tensors, consent, voice_print=voice_print)


def test_a_profiles_voice_print_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "ada.mvoice"
    save_profile(
        path, _manifest([0.6, 0.8]), {"speaker": torch.randn(16)}, np.zeros(1600, np.float32), 16000
    )
    assert read_profile(path).manifest.voice_print == [0.6, 0.8]
    for bad in ([float("nan")], [], [0.1] * 5000):
        with pytest.raises(ProfileError, match="voice print"):
            _manifest(bad).validate()


def test_attaching_an_encoder_records_each_training_voices_print(
    tiny_model_with_encoder: Path,
) -> None:
    tools = load_tools(tiny_model_with_encoder)
    assert tools is not None
    voices = {v.id for v in SpeechEngine(tiny_model_with_encoder).info.voices}
    assert tools.voice_prints and set(tools.voice_prints) <= voices
    for vector in tools.voice_prints.values():
        assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)


def test_the_voices_area_maps_cloned_and_training_voices(
    qtbot: QtBot, app_paths: AppPaths, tiny_model_with_encoder: Path
) -> None:
    engine = SpeechEngine(tiny_model_with_encoder)
    tools = engine.speaker_tools
    assert tools is not None
    width = len(next(iter(tools.voice_prints.values())))
    app_paths.voices_dir.mkdir(parents=True, exist_ok=True)
    for name, with_print in (("Ada", True), ("Old voice", False)):
        manifest = _manifest([1.0] + [0.0] * (width - 1) if with_print else None)
        manifest.name, manifest.base_model_id = name, engine.info.model_id
        save_profile(
            app_paths.voices_dir / f"{name}.mvoice",
            manifest,
            {"speaker": torch.randn(engine.model.config.speaker_dim)},
            np.zeros(1600, np.float32),
            16000,
        )
    window = create_main_window(app_paths, device_override="cpu", model_dir=tiny_model_with_encoder)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engines.engine is not None, timeout=60_000)
    page = window.voices_page
    assert not page.voice_map.isHidden()
    assert page.voice_map.profile_names() == ["Ada"]  # the one without a print is left out
    voice_map = page.voice_map
    assert len(voice_map.real.data) + len(voice_map.synthetic.data) == len(tools.voice_prints)
    assert "1 of your voices" in page.map_caption.text()
    # the legend names the three kinds of point, and covers none of them
    assert [label.text for _, label in voice_map.legend.items] == [
        "your voices",
        "real training voices",
        "synthetic training voices",
    ]
    window.show_area(Area.VOICES)
    qtbot.waitExposed(window)
    qtbot.wait(50)
    box = voice_map.legend.sceneBoundingRect()
    view = voice_map.getPlotItem().vb
    for item in (voice_map.real, voice_map.synthetic, voice_map.profiles):
        for x, y in zip(*item.getData(), strict=True):
            assert not box.contains(view.mapViewToScene(QPointF(x, y)))
    # clicking your voice's point selects it in the table
    page.table.clearSelection()
    (x,), (y,) = voice_map.profiles.getData()
    where = voice_map.mapFromScene(view.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(voice_map.viewport(), Qt.MouseButton.LeftButton, pos=where)
    entry = window.voices_controller.selected()
    assert entry is not None and entry.name == "Ada"
