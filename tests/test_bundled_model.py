"""The models that ship in resources/: the default, and the meta-trained one beside it."""

from __future__ import annotations

import numpy as np

from metavoice_app.core.adapt.adapter import AdaptConfig, adaptation_rule
from metavoice_app.core.adapt.update import UpdateRule
from metavoice_app.core.model.checkpoint import read_info
from metavoice_app.core.speaker.voicemap import layout
from metavoice_app.core.synth.engine import SpeechEngine, bundled_model_dir


def test_the_default_model_speaks_and_maps_its_voices() -> None:
    engine = SpeechEngine(bundled_model_dir(), device="cpu")
    audio = engine.speak("Hello there.").audio
    assert len(audio) > 4000 and np.abs(audio).max() > 0.01
    tools = engine.speaker_tools
    assert tools is not None and len(tools.voice_prints) > 100
    assert not tools.memory_start  # the encoder serves the meter and the map
    assert len(layout(tools.voice_prints)) == len(tools.voice_prints)
    assert adaptation_rule(AdaptConfig(), engine.info) == ("cln", UpdateRule())


def test_the_meta_trained_model_adapts_as_it_was_meta_trained() -> None:
    meta_info = read_info(bundled_model_dir().parent / "meta")
    default = read_info(bundled_model_dir())
    record = meta_info.training["meta"]
    assert meta_info.training["init"].startswith("meta:") and meta_info.training["meta_steps"] > 0
    params, rule = adaptation_rule(AdaptConfig(), meta_info)
    assert params == record["params"] and rule.optimizer == record["inner_optimizer"]
    assert rule.learning_rate == record["inner_lr"]
    assert "meta" not in default.training
    assert meta_info.config == default.config and meta_info.model_id != default.model_id
