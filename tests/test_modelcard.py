"""The model card says how the model was trained, meta-trained and equipped."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from metavoice_app.core.meta.algorithms import MetaConfig
from metavoice_app.core.model.checkpoint import load_model, save_model
from metavoice_app.core.train.modelcard import write_model_card


def test_card_records_meta_training_and_the_encoder(
    tiny_model_with_encoder: Path, tmp_path: Path
) -> None:
    card = write_model_card(tiny_model_with_encoder).read_text()
    assert "speaker encoder and voice memory attached" in card
    assert "meta-training:" not in card

    model, info = load_model(tiny_model_with_encoder)
    folder = tmp_path / "meta"
    training = {
        **info.training,
        "init": "meta:fomaml",
        "meta_steps": 12,
        "meta_hours": 0.5,
        "meta_ranks": 1,
        "meta": asdict(MetaConfig(outer_params="adapted", start_weight=0.5)),
    }
    save_model(model, folder, info.voices, info.default_voice, training)
    card = write_model_card(folder).read_text()
    assert "meta-training: fomaml, 12 meta-steps" in card
    assert "5 adam steps at 0.002" in card
    assert "moved only those parameters" in card and "(weight 0.5) before it" in card
    assert "speaker encoder" not in card


def test_card_says_when_only_the_start_was_meta_learned(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    model, info = load_model(tiny_model_dir)
    training = {**info.training, "meta": asdict(MetaConfig(outer_params="start"))}
    save_model(model, tmp_path / "m", info.voices, info.default_voice, training)
    card = write_model_card(tmp_path / "m").read_text()
    assert "moved only the starting vector" in card and "before it" not in card
