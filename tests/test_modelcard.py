"""The model card says how the model was trained, meta-trained and equipped."""

from __future__ import annotations

from dataclasses import asdict, replace
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
    training = replace(
        info.training,
        init="meta:fomaml",
        meta_steps=12,
        meta_hours=0.5,
        meta_ranks=1,
        meta=asdict(MetaConfig(outer_params="adapted", start_weight=0.5)),
    )
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
    training = replace(info.training, meta=asdict(MetaConfig(outer_params="start")))
    save_model(model, tmp_path / "m", info.voices, info.default_voice, training)
    card = write_model_card(tmp_path / "m").read_text()
    assert "moved only the starting vector" in card and "before it" not in card


def test_card_section_on_the_post_filter_is_replaced_in_place(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from metavoice_app.core.features.postfilter import PostFilter
    from metavoice_app.core.model.checkpoint import write_postfilter
    from metavoice_app.core.train.modelcard import update_postfilter_section

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    card = write_model_card(folder).read_text()
    assert "## Synthesis post-filter" not in card
    gains = tuple(1.0 + i / 10 for i in range(39))
    fitted = {"sentences": 200, "speakers": ["vcc2016-SF1", "vcc2016-TM1"]}
    write_postfilter(folder, PostFilter(gains, 1.0, 1.7, 0.7, 1.09), fitted)
    update_postfilter_section(folder)
    card = (folder / "MODEL_CARD.md").read_text()
    assert "200 real recordings of 2 VCC2016 voices" in card
    assert "pitch range x1.70" in card and "durations x1.09" in card
    assert "each of 0 real voices" in card
    # the rest of the card stays, and a refit replaces the section rather than adding one
    assert (
        card.index("## Training") < card.index("## Synthesis post-filter") < card.index("## Voices")
    )
    write_postfilter(folder, PostFilter(gains, 1.25, 1.5, 0.6, 1.0), fitted)
    update_postfilter_section(folder)
    card = (folder / "MODEL_CARD.md").read_text()
    assert card.count("## Synthesis post-filter") == 1 and "pitch range x1.50" in card
    assert "pitch range x1.70" not in card and "## Credits" in card
    assert "every speech sound" not in card
    # a floor under the speech sounds is told, and whether the paces were fitted with it
    write_postfilter(folder, PostFilter(gains, min_phone_frames=5), fitted)
    update_postfilter_section(folder)
    card = (folder / "MODEL_CARD.md").read_text()
    assert "every speech sound at least 5 frames (50 ms)" in card
    assert "set after the fit" in card
    write_postfilter(
        folder, PostFilter(gains, min_phone_frames=5), fitted | {"min_phone_frames": 5}
    )
    update_postfilter_section(folder)
    assert "the paces above were fitted with it" in (folder / "MODEL_CARD.md").read_text()
