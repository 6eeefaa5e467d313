"""The synthesis post-filter: what it does to frames, how it is stored, fitted and used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import shared_data

from metavoice_app.core.bench.tts import Variant, parse_variant
from metavoice_app.core.features import world
from metavoice_app.core.features.delivery import measure, summarise
from metavoice_app.core.features.postfilter import PostFilter, PostFilterError, VoiceDelivery
from metavoice_app.core.model.checkpoint import ModelLoadError, read_info, write_postfilter
from metavoice_app.core.synth.engine import SpeechEngine
from metavoice_app.core.text.frontend import TextFrontend

GAINS = tuple(1.0 + 0.1 * i for i in range(world.N_MCEP - 1))


def _frames(n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frames = rng.normal(size=(n, world.FEATURE_DIM))
    frames[:, world.LF0] = np.log(120.0) + 0.1 * rng.normal(size=n)
    frames[:, world.VUV] = rng.uniform(size=n)
    return frames


def test_envelope_spread_is_scaled_around_the_sentence_mean() -> None:
    frames = _frames()
    out = PostFilter(envelope_gain=GAINS).apply(frames)
    envelope = slice(1, world.N_MCEP)
    np.testing.assert_allclose(out[:, envelope].mean(0), frames[:, envelope].mean(0))
    np.testing.assert_allclose(
        out[:, envelope].std(0), frames[:, envelope].std(0) * np.asarray(GAINS), rtol=1e-9
    )
    # loudness (coefficient 0), voicing and aperiodicity are left alone
    for column in (0, world.VUV, world.BAP):
        np.testing.assert_array_equal(out[:, column], frames[:, column])
    # strength 0 turns the envelope correction off; 2 squares the gains
    np.testing.assert_allclose(PostFilter(envelope_gain=GAINS, strength=0.0).apply(frames), frames)
    squared = PostFilter(envelope_gain=GAINS, strength=2.0).apply(frames)
    np.testing.assert_allclose(
        squared[:, envelope].std(0), frames[:, envelope].std(0) * np.asarray(GAINS) ** 2
    )


def test_pitch_range_widens_around_the_voiced_mean() -> None:
    frames = _frames()
    postfilter = PostFilter(pitch_range=1.5, voicing_threshold=0.3)
    out = postfilter.apply(frames)
    voiced = frames[:, world.VUV] > 0.3
    centre = frames[voiced, world.LF0].mean()
    np.testing.assert_allclose(out[:, world.LF0] - centre, 1.5 * (frames[:, world.LF0] - centre))
    # the threshold decides voicing when vocoded
    params = world.decode(out, postfilter.voicing_threshold)
    assert np.array_equal(params.f0 > 0, voiced)


def test_identity_changes_nothing() -> None:
    frames = _frames()
    assert PostFilter().is_identity
    np.testing.assert_array_equal(PostFilter().apply(frames), frames)
    assert PostFilter().apply(frames[:0]).shape == (0, world.FEATURE_DIM)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"envelope_gain": [1.0] * 5}, "envelope_gain has 5 values"),
        ({"envelope_gain": [float("nan")] * 39}, "envelope_gain values"),
        ({"envelope_gain": [1e6] * 39}, "envelope_gain values"),
        ({"strength": 9}, "strength"),
        ({"pitch_range": 0}, "pitch_range"),
        ({"voicing_threshold": 1.0}, "voicing_threshold"),
        ({"duration_scale": float("inf")}, "duration_scale"),
        ({"duration_scale": "slow"}, "not a number"),
        ({"min_phone_frames": 0}, "min_phone_frames must be a whole number from 1"),
        ({"min_phone_frames": 40}, "min_phone_frames must be a whole number from 1"),
        ({"min_phone_frames": 2.5}, "min_phone_frames must be a whole number, not 2.5"),
        ({"sharpen": 1}, "unknown post-filter settings"),
    ],
)
def test_stored_values_are_checked(data: dict[str, object], message: str) -> None:
    with pytest.raises(PostFilterError, match=message):
        PostFilter.from_dict(data)


def test_round_trip_through_the_model_folder(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    before = read_info(folder)
    assert before.postfilter.is_identity
    wanted = PostFilter(GAINS, 1.25, 1.4, 0.6, 1.2)
    write_postfilter(folder, wanted, {"speakers": ["x"]})
    after = read_info(folder)
    assert after.postfilter == PostFilter.from_dict(wanted.to_dict())
    assert after.postfilter.duration_scale == 1.2
    # the weights, and so the model id voices are tied to, are unchanged
    assert after.model_id == before.model_id
    data = json.loads((folder / "config.json").read_text())
    data["synthesis"]["postfilter"]["pitch_range"] = -1
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="unusable post-filter: pitch_range"):
        read_info(folder)


def test_engine_applies_the_models_post_filter(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    text = "Hello there, this is a test of the engine."
    plain = SpeechEngine(folder, device="cpu").speak(text).audio
    write_postfilter(folder, PostFilter(GAINS, duration_scale=1.5), {})
    engine = SpeechEngine(folder, device="cpu")
    filtered = engine.speak(text).audio
    # slower by the duration scale (sentence gaps and rounding aside), and not the same audio
    assert 1.3 < len(filtered) / len(plain) < 1.7
    engine.postfilter = PostFilter()
    np.testing.assert_array_equal(engine.speak(text).audio, plain)


def test_speech_sounds_get_the_post_filters_minimum_length(tiny_model_dir: Path) -> None:
    from metavoice_app.core.model.acoustic import Controls

    engine = SpeechEngine(tiny_model_dir, device="cpu")
    handle = engine.voice(None)
    sentence = engine.frontend.prepare("Strict consonants, then a pause.").sentences[0]
    ids = torch.tensor([sentence.ids])
    speech = ids > 2
    plain = engine.model.predict_durations(ids, handle.speaker)
    floored = engine.model.predict_durations(ids, handle.speaker, min_frames=10)
    assert int(floored[speech].min()) == 10
    assert torch.equal(floored[~speech], plain[~speech])  # silence and pauses as predicted
    assert torch.equal(floored, torch.maximum(plain, torch.where(speech, 10, plain)))
    assert int(plain[speech].min()) < 10  # else the floor below would change nothing
    text = "Strict consonants, then a pause."
    before = len(engine.speak(text).audio)
    engine.postfilter = PostFilter(min_phone_frames=10)
    assert len(engine.speak(text).audio) > before
    # a faster reading lowers the floor with it: speed 2 gets 5 frames, not 10
    assert PostFilter(min_phone_frames=10).phone_floor(2.0) == 5
    assert PostFilter(min_phone_frames=10).phone_floor(0.5) == 20
    fast = len(engine.speak(text, controls=Controls(speed=2.0)).audio)
    fixed_floor = PostFilter(min_phone_frames=10)
    object.__setattr__(fixed_floor, "phone_floor", lambda _speed: 10)
    engine.postfilter = fixed_floor
    assert fast < len(engine.speak(text, controls=Controls(speed=2.0)).audio)
    assert PostFilter.from_dict(PostFilter(min_phone_frames=4).to_dict()).min_phone_frames == 4
    assert not PostFilter(min_phone_frames=4).is_identity


def test_benchmark_variants_override_the_models_post_filter(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    voice = read_info(folder).voices[0].id
    model = PostFilter(GAINS, 1.0, 1.6, 0.7, 1.3)
    own = {voice: VoiceDelivery(1.2, 0.9, 0.6)}
    write_postfilter(folder, model, {}, own)
    info = read_info(folder)
    model = info.postfilter  # as stored
    assert parse_variant("model", info) == Variant(model, own)
    off = parse_variant("off", info)
    # without a post-filter the voice keeps its pitch range and pace, not its threshold
    assert off.postfilter.is_identity and off.deliveries == {voice: VoiceDelivery(1.2, 0.9)}
    varied = parse_variant("strength=1.5,pitch_range=1", info)
    assert (varied.postfilter.strength, varied.postfilter.pitch_range) == (1.5, 1.0)
    assert varied.postfilter.envelope_gain == model.envelope_gain and varied.deliveries == own
    floored = parse_variant("min_phone_frames=5", info).postfilter
    assert floored.min_phone_frames == 5 and floored.strength == model.strength
    pooled = parse_variant("own_voicing=0", info)
    assert pooled.postfilter == model and pooled.deliveries == {voice: VoiceDelivery(1.2, 0.9)}
    with pytest.raises(ValueError, match="use model, off, fit=DIR, or key=value"):
        parse_variant("sharpness=2", info)

    # another fit of the same model, side by side with the model's own
    refit = tmp_path / "refit"
    shutil.copytree(folder, refit)
    write_postfilter(
        refit, PostFilter(GAINS, 1.0, 1.1, 0.5, 1.0, 5), {}, {voice: VoiceDelivery(1.0, 1.1, 0.4)}
    )
    other = parse_variant(f"fit={refit}", info)
    assert other == Variant(
        read_info(refit).postfilter, {voice: VoiceDelivery(1.0, 1.1, 0.4)}, own_refiner=False
    )
    assert other.postfilter.min_phone_frames == 5 and other.postfilter != model
    # a post-filter fitted for other weights is refused
    config = json.loads((refit / "config.json").read_text())
    config["model_id"] = "0" * 64
    (refit / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="another model"):
        parse_variant(f"fit={refit}", info)
    # a folder that holds no model is named, as the command line reports it
    with pytest.raises(ValueError, match="is not a model folder"):
        parse_variant(f"fit={tmp_path / 'nowhere'}", info)


def test_delivery_measures_real_speech(flite_speech) -> None:
    frontend = TextFrontend()
    text = "The birch canoe slid on the smooth planks."
    audio = flite_speech(text)
    found = measure(audio, text, frontend)
    assert found is not None
    assert 0.4 < found.voiced_share < 1.0
    assert 5.0 < found.phones_per_second < 25.0
    assert 0.0 < found.pitch_range_st < 10.0
    # the same speech twice as fast is measured about twice as fast
    faster = measure(audio[::2], text, frontend)  # half the samples, read at the same rate
    assert faster is not None
    assert 1.6 < faster.phones_per_second / found.phones_per_second < 2.4
    # leading and trailing silence do not slow the measured rate
    padded = np.concatenate([np.zeros(16000, np.float32), audio, np.zeros(16000, np.float32)])
    again = measure(padded, text, frontend)
    assert again is not None
    assert again.phones_per_second == pytest.approx(found.phones_per_second, rel=0.05)
    assert measure(np.zeros(16000, np.float32), text, frontend) is None
    summary = summarise([found, None, again])
    assert summary is not None and summary.clips == 2


@pytest.mark.skipif(shared_data() is None, reason="the shared data folder is not present")
def test_hard_set_is_the_held_out_test_other_speakers() -> None:
    from metavoice_app.core.bench.tts import hard_recordings, speaker_recordings

    shared = shared_data()
    assert shared is not None
    hard = hard_recordings(shared, 1000)
    assert len(hard) == 100
    assert all("librispeech_test-other" in str(path) for path, _ in hard)
    assert hard_recordings(shared, 40, skip=60) == hard[60:]  # the hard tuning slice
    assert len(speaker_recordings(shared, "vcc2016-SF1")) == 20
    assert speaker_recordings(shared, "flite-slt-00") == []


def test_fit_restores_the_recordings_spread(
    tiny_model_dir: Path, tmp_path: Path, flite_speech
) -> None:
    import soundfile as sf
    import torch
    from conftest import TINY_SENTENCES

    from metavoice_app.core.features.postfilter import VOICING_LIMITS
    from metavoice_app.core.train.corpus.real import RealClip, RealSpeaker
    from metavoice_app.core.train.postfilter import THRESHOLDS, fit

    clips = []
    for index, text in enumerate(TINY_SENTENCES[:4]):
        path = tmp_path / f"{index}.wav"
        sf.write(path, flite_speech(text), 16000)
        clips.append(RealClip(path, text))
    # recordings of the speaker behind the tiny model's voice flite-slt-00, and of nobody
    speakers = [
        RealSpeaker("flite", "slt-00", "f", tuple(clips)),
        RealSpeaker("vcc2016", "XX9", None, tuple(clips)),
    ]
    engine = SpeechEngine(tiny_model_dir, device="cpu")
    result = fit(engine, speakers, per_speaker=4, threads=1)
    assert [s.voice for s in result.speakers] == ["flite-slt-00"]
    postfilter = result.postfilter
    # the voice gets its own delivery, and the model's is the median over voices
    own = result.voices["flite-slt-00"]
    assert (postfilter.pitch_range, postfilter.duration_scale) == (
        own.pitch_range,
        own.duration_scale,
    )
    assert postfilter.voicing_threshold in THRESHOLDS
    assert own.voicing_threshold is not None
    assert VOICING_LIMITS[0] <= own.voicing_threshold <= VOICING_LIMITS[1]
    assert 0.5 <= postfilter.duration_scale <= 2.0
    stats = result.speakers[0]
    # after the post-filter the model's sentences vary as much as the recordings do
    handle = engine.voice("flite-slt-00")
    corrected = []
    for text in stats.texts:
        ids = [torch.tensor([s.ids]) for s in engine.frontend.prepare(text).sentences]
        frames = torch.cat([handle.model.synthesize(i, handle.speaker) for i in ids]).numpy()
        corrected.append(postfilter.apply(frames)[:, 1 : world.N_MCEP].var(axis=0))
    np.testing.assert_allclose(
        np.mean(corrected, axis=0), np.mean(stats.real_var, axis=0), rtol=1e-3
    )
    with pytest.raises(ValueError, match="none of the given speakers"):
        fit(engine, speakers[1:], per_speaker=2, threads=1)
    # with a floor under every speech sound the model is read as it will speak, longer,
    # so less slowing is fitted, and the record keeps the floor
    floored = fit(engine, speakers, per_speaker=4, threads=1, min_phone_frames=10)
    assert floored.postfilter.min_phone_frames == 10
    assert floored.voices["flite-slt-00"].duration_scale < own.duration_scale


def test_built_in_voices_speak_at_their_speakers_pace(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    text = "Hello there, this is a test of the engine."
    before = SpeechEngine(folder, device="cpu")
    first, second = before.voice_ids()[:2]
    lengths = {v: len(before.speak(text, voice=v).audio) for v in (first, second)}
    write_postfilter(folder, PostFilter(), {}, {first: VoiceDelivery(1.0, 1.5)})
    engine = SpeechEngine(folder, device="cpu")
    assert engine.info.voice_delivery == {first: VoiceDelivery(1.0, 1.5)}
    assert 1.3 < len(engine.speak(text, voice=first).audio) / lengths[first] < 1.7
    assert len(engine.speak(text, voice=second).audio) == lengths[second]
    data = json.loads((folder / "config.json").read_text())
    data["synthesis"]["voices"] = {"nobody-00": {"pitch_range": 1.0}}
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="names voices the model lacks"):
        read_info(folder)


def test_a_cloned_voice_speaks_at_its_own_pace(tiny_model_dir: Path) -> None:
    from metavoice_app.core.features.postfilter import VoiceDelivery
    from metavoice_app.core.model.voice import SPEAKER

    engine = SpeechEngine(tiny_model_dir, device="cpu")
    tensors = {SPEAKER: engine.speaker_vector()[0]}
    text = "Hello there, this is a test of the engine."
    own = engine.speak(text, voice=engine.voice_from_tensors("me", tensors)).audio
    slower = engine.voice_from_tensors("me", tensors, VoiceDelivery(1.0, 1.5))
    assert 1.3 < len(engine.speak(text, voice=slower).audio) / len(own) < 1.7
    # the voice's delivery replaces the model's pitch range and pace, not its envelope
    model = PostFilter(GAINS, 1.25, 1.7, 0.6, 1.1)
    mine = model.for_voice(VoiceDelivery(1.2, 0.9))
    assert (mine.pitch_range, mine.duration_scale) == (1.2, 0.9)
    assert (mine.envelope_gain, mine.strength, mine.voicing_threshold) == (GAINS, 1.25, 0.6)
    assert model.for_voice(None) is model
    # a voice's own voicing threshold, where fitted, replaces the model's
    assert model.for_voice(VoiceDelivery(1.2, 0.9, 0.8)).voicing_threshold == 0.8
    with pytest.raises(PostFilterError, match="pitch_range"):
        VoiceDelivery(pitch_range=50.0)
    with pytest.raises(PostFilterError, match="voicing_threshold"):
        VoiceDelivery(voicing_threshold=0.995)
    assert VoiceDelivery.measured(1.0, 1.0, 0.995).voicing_threshold == 0.99
    # a voice whose model speech is voiced with high confidence where its speaker is not
    # (the default voice's fit) keeps a threshold above 0.98
    assert VoiceDelivery.measured(1.0, 1.0, 0.987).voicing_threshold == 0.987


def test_a_voice_delivery_round_trips_with_and_without_its_voicing_threshold() -> None:
    from metavoice_app.core.features.postfilter import VoiceDelivery

    for delivery in (VoiceDelivery(1.2, 0.9), VoiceDelivery(1.2, 0.9, 0.75)):
        assert VoiceDelivery.from_dict(json.loads(json.dumps(delivery.to_dict()))) == delivery
    # a profile or model folder from before voices had their own threshold still reads
    assert VoiceDelivery.from_dict({"pitch_range": 1.1}).voicing_threshold is None
    with pytest.raises(PostFilterError, match="not numeric"):
        VoiceDelivery.from_dict({"voicing_threshold": "high"})
    with pytest.raises(PostFilterError, match="holds pitch_range"):
        VoiceDelivery.from_dict({"voicing": 0.7})


def test_the_voicing_threshold_is_matched_to_the_recordings_voiced_share() -> None:
    from metavoice_app.core.features.delivery import Delivery, Spoken, matched_voicing

    vuv = np.linspace(0.0, 1.0, 1001)  # speech frames' voicing probabilities
    # vocoded at 0.5, half the frames are voiced, but the audio reads 5 points more voiced
    spoken = Spoken([Delivery(0.55, 10.0, 2.0)], [vuv], 0.5)
    real = [Delivery(0.40, 10.0, 2.0), Delivery(0.30, 10.0, 2.0)]  # 35 % voiced
    # 30 % of the frames voiced reads as the recordings' 35 %
    assert matched_voicing(real, spoken) == pytest.approx(0.70, abs=1e-3)
    # a voice that reads like its recordings keeps the threshold it was vocoded at
    assert matched_voicing([Delivery(0.55, 10.0, 2.0)], spoken) == pytest.approx(0.5, abs=1e-3)
    # too little speech to tell
    assert matched_voicing(real, Spoken([Delivery(0.55, 10.0, 2.0)], [vuv[:50]], 0.5)) is None
    assert matched_voicing([], spoken) is None
