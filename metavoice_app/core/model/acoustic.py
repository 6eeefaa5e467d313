"""The acoustic model: phones and a speaker vector in, WORLD feature frames out.

FastSpeech2 family, non-autoregressive: a Transformer phone encoder; duration,
pitch and energy predictors (one value per phone) that give explicit speed,
pitch and energy controls; a length regulator; and a Transformer decoder whose
layer norms are conditioned on the speaker. A frame-wise phone classifier
(:mod:`.aligner`) trains beside it on the engine-timed corpus and force-aligns
recordings whose timings are unknown: real speakers, and a new voice's takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from metavoice_app.core.features.world import LF0, VUV
from metavoice_app.core.model.aligner import (
    Aligner,
    durations_to_attention,
    frame_labels,
    hard_durations,
    phone_scores,
)
from metavoice_app.core.model.config import ModelConfig
from metavoice_app.core.model.layers import FFTBlock, VariancePredictor, sinusoidal_positions
from metavoice_app.core.model.refiner import ENVELOPE as REFINED
from metavoice_app.core.model.refiner import EnvelopeRefiner

ENERGY = 0  # the 0th envelope coefficient tracks loudness


@dataclass
class Batch:
    """Padded training data; ``features`` are raw (the model normalises them)."""

    phones: torch.Tensor  # (B, N) long, 0 = padding
    phone_lengths: torch.Tensor  # (B,)
    features: torch.Tensor  # (B, T, F)
    frame_lengths: torch.Tensor  # (B,)
    speakers: torch.Tensor  # (B,) long
    # Known phone durations in frames (engine timings), or -1 where the aligner decides.
    durations: torch.Tensor | None = None

    def known_durations(self) -> torch.Tensor:
        """Per utterance: are its phone durations given (True) or left to the aligner?"""
        if self.durations is None:
            return torch.zeros(self.phones.shape[0], dtype=torch.bool, device=self.phones.device)
        return self.durations[:, 0] >= 0

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.phones.to(device),
            self.phone_lengths.to(device),
            self.features.to(device),
            self.frame_lengths.to(device),
            self.speakers.to(device),
            None if self.durations is None else self.durations.to(device),
        )


@dataclass
class Controls:
    """User controls at synthesis time."""

    speed: float = 1.0  # >1 is faster
    pitch_semitones: float = 0.0
    energy: float = 0.0  # offset in standard deviations of the phone energy


def padding_mask(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """True at padding positions."""
    return torch.arange(max_length, device=lengths.device)[None, :] >= lengths[:, None]


class AcousticModel(nn.Module):
    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    # The envelope refiner applied to synthesised frames (:mod:`.refiner`), if the model
    # folder has one; set by :meth:`attach_refiner`, never part of the weights.
    refiner: EnvelopeRefiner | None = None

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.phone_embedding = nn.Embedding(config.n_phones, d, padding_idx=0)
        self.encoder = nn.ModuleList(
            FFTBlock(d, config.n_heads, config.ffn_dim, config.ffn_kernel, config.dropout)
            for _ in range(config.encoder_layers)
        )
        self.speaker_embedding = nn.Embedding(config.n_speakers, config.speaker_dim)
        nn.init.normal_(self.speaker_embedding.weight, std=0.1)
        self.speaker_to_hidden = nn.Linear(config.speaker_dim, d)
        variance = (d, config.variance_channels, config.variance_kernel, config.dropout)
        self.duration_predictor = VariancePredictor(*variance)
        self.pitch_predictor = VariancePredictor(*variance)
        self.energy_predictor = VariancePredictor(*variance)
        self.pitch_embedding = nn.Conv1d(1, d, 3, padding=1)
        self.energy_embedding = nn.Conv1d(1, d, 3, padding=1)
        self.decoder = nn.ModuleList(
            FFTBlock(
                d,
                config.n_heads,
                config.ffn_dim,
                config.ffn_kernel,
                config.dropout,
                speaker_dim=config.speaker_dim,
            )
            for _ in range(config.decoder_layers)
        )
        self.output = nn.Linear(d, config.feature_dim)
        self.aligner = Aligner(
            config.feature_dim, config.n_phones, config.aligner_channels, config.dropout
        )
        self.register_buffer("feature_mean", torch.zeros(config.feature_dim))
        self.register_buffer("feature_std", torch.ones(config.feature_dim))
        # Where adaptation to a new voice starts; meta-training learns it.
        self.speaker_init = nn.Parameter(torch.zeros(config.speaker_dim))

    def attach_refiner(self, refiner: EnvelopeRefiner | None) -> None:
        """Correct every synthesised sentence's envelope with ``refiner`` (None: stop).

        It is held beside the model, outside its module tree, so the model's state dict,
        its weights file and the id profiles are tied to stay exactly the model's; it
        follows the model to its device here, and into copies (a voice's adapted copy)."""
        if refiner is not None:
            refiner = refiner.to(self.feature_mean.device).eval()
        object.__setattr__(self, "refiner", refiner)

    @property
    def refiner_id(self) -> str | None:
        """The attached refiner's file id (None without one): what a profile's exemplar
        tables record they were read through."""
        return None if self.refiner is None else self.refiner.file_id

    # Normalisation -----------------------------------------------------------------------
    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-dimension statistics of the training features; voicing stays 0/1."""
        mean, std = mean.clone().float(), std.clone().float().clamp(min=1e-3)
        mean[VUV], std[VUV] = 0.0, 1.0
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(std)

    def normalize(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.feature_mean) / self.feature_std

    def denormalize(self, output: torch.Tensor) -> torch.Tensor:
        features = output * self.feature_std + self.feature_mean
        features[..., VUV] = torch.sigmoid(output[..., VUV])
        return features

    # Shared pieces -----------------------------------------------------------------------
    def phone_encodings(self, phones: torch.Tensor, text_pad: torch.Tensor) -> torch.Tensor:
        """The text encoder's output, before the speaker is added: it depends on the
        phones alone, so adaptation (which changes only the speaker and the decoder)
        computes it once per batch instead of at every step."""
        h = self.phone_embedding(phones) * math.sqrt(self.config.d_model)
        h = h + sinusoidal_positions(h.shape[1], h.shape[2], h.device)[None]
        for block in self.encoder:
            h = block(h, text_pad)
        return h

    def encode(
        self,
        phones: torch.Tensor,
        text_pad: torch.Tensor,
        speaker: torch.Tensor,
        encoded: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Speaker-aware phone encodings (``encoded``: :meth:`phone_encodings` of these
        phones, already computed)."""
        h = self.phone_encodings(phones, text_pad) if encoded is None else encoded
        return h + self.speaker_to_hidden(speaker)[:, None, :]

    def decode(
        self,
        h: torch.Tensor,
        attention: torch.Tensor,
        frame_pad: torch.Tensor,
        speaker: torch.Tensor,
    ) -> torch.Tensor:
        """Expand phones to frames by ``attention`` (B, T, N) and decode to normalised features."""
        x = torch.bmm(attention, h)
        x = x + sinusoidal_positions(x.shape[1], x.shape[2], x.device)[None]
        for block in self.decoder:
            x = block(x, frame_pad, speaker)
        out: torch.Tensor = self.output(x)
        return out

    def _add_variance(
        self, h: torch.Tensor, pitch: torch.Tensor, energy: torch.Tensor
    ) -> torch.Tensor:
        return (
            h
            + self.pitch_embedding(pitch[:, None, :]).transpose(1, 2)
            + self.energy_embedding(energy[:, None, :]).transpose(1, 2)
        )

    def speaker_vectors(self, speakers: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.speaker_embedding(speakers)
        return out

    # Alignment ---------------------------------------------------------------------------
    def phone_log_probs(self, batch: Batch) -> torch.Tensor:
        """The aligner's ``(batch, frames, n_phones)`` phone log-probabilities."""
        frame_pad = padding_mask(batch.frame_lengths, batch.features.shape[1])
        out: torch.Tensor = self.aligner(self.normalize(batch.features), frame_pad)
        return out

    def align(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-frame scores of each text phone ``(B, T, N)`` and the forced-alignment
        durations of each utterance in ``batch``."""
        scores = phone_scores(self.phone_log_probs(batch), batch.phones)
        return scores, hard_durations(scores, batch.phone_lengths, batch.frame_lengths)

    @torch.no_grad()
    def force_align(
        self, phones: torch.Tensor, features: torch.Tensor
    ) -> tuple[torch.Tensor, float]:
        """Frames per phone for one recording ``(1, T, F)`` of known phones ``(1, N)``, and
        the mean log-probability of the chosen path (near 0: confident; very low: the
        audio probably does not say these phones)."""
        batch = Batch(
            phones,
            torch.tensor([phones.shape[1]], device=phones.device),
            features,
            torch.tensor([features.shape[1]], device=phones.device),
            torch.zeros(1, dtype=torch.long, device=phones.device),
        )
        scores, durations = self.align(batch)
        hard = durations_to_attention(durations, features.shape[1])
        confidence = float((scores * hard).sum() / features.shape[1])
        return durations[0], confidence

    def aligner_loss(self, batch: Batch, log_probs: torch.Tensor | None = None) -> torch.Tensor:
        """Frame-wise cross-entropy of the aligner against the known durations."""
        if log_probs is None:
            log_probs = self.phone_log_probs(batch)
        known = batch.known_durations()
        if batch.durations is None or not bool(known.any()):
            return log_probs.new_zeros(())
        frames = batch.features.shape[1]
        labels = frame_labels(batch.durations, batch.phones, frames)
        frame_pad = padding_mask(batch.frame_lengths, frames)
        use = ((~frame_pad) & known[:, None]).float()
        picked = torch.gather(log_probs, 2, labels[..., None])[..., 0]
        return -(picked * use).sum() / use.sum().clamp(min=1.0)

    # Training ----------------------------------------------------------------------------
    def forward(
        self,
        batch: Batch,
        speaker: torch.Tensor | None = None,
        align: bool = True,
    ) -> dict[str, torch.Tensor]:
        """The training losses (so ``torch.func.functional_call`` can run the model)."""
        return self.losses(batch, speaker, align)

    def losses(
        self,
        batch: Batch,
        speaker: torch.Tensor | None = None,
        align: bool = True,
        encoded: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """All training losses for a batch; ``speaker`` overrides the embedding table,
        ``encoded`` is the batch's :meth:`phone_encodings` where already computed.

        ``align=True`` also trains the aligner on the utterances whose durations are known.
        Utterances without durations are force-aligned first; with ``align=False`` and every
        duration known (adaptation and meta-learning inner loops) the aligner is not run.
        """
        if speaker is None:
            speaker = self.speaker_vectors(batch.speakers)
        text_pad = padding_mask(batch.phone_lengths, batch.phones.shape[1])
        frame_pad = padding_mask(batch.frame_lengths, batch.features.shape[1])
        target = self.normalize(batch.features)

        known = batch.known_durations()
        log_probs: torch.Tensor | None = None
        if align or not bool(known.all()):
            log_probs = self.phone_log_probs(batch)
        if batch.durations is not None and bool(known.all()):
            durations = batch.durations
        else:
            assert log_probs is not None
            scores = phone_scores(log_probs.detach(), batch.phones)
            durations = hard_durations(scores, batch.phone_lengths, batch.frame_lengths)
            if batch.durations is not None:
                durations = torch.where(known[:, None], batch.durations, durations)
        hard = durations_to_attention(durations, batch.features.shape[1])
        frames_per_phone = hard.sum(1).clamp(min=1.0)
        pitch = (hard * target[..., LF0 : LF0 + 1]).sum(1) / frames_per_phone
        energy = (hard * target[..., ENERGY : ENERGY + 1]).sum(1) / frames_per_phone

        h = self.encode(batch.phones, text_pad, speaker, encoded)
        log_duration = self.duration_predictor(h, text_pad)
        pitch_pred = self.pitch_predictor(h, text_pad)
        energy_pred = self.energy_predictor(h, text_pad)
        output = self.decode(self._add_variance(h, pitch, energy), hard, frame_pad, speaker)

        frame_ok = (~frame_pad).float()[..., None]
        phone_ok = (~text_pad).float()
        n_frames = frame_ok.sum().clamp(min=1.0)
        n_phone = phone_ok.sum().clamp(min=1.0)
        continuous = [i for i in range(self.config.feature_dim) if i != VUV]
        feature_l1 = ((output[..., continuous] - target[..., continuous]).abs() * frame_ok).sum()
        feature_l1 = feature_l1 / (n_frames * len(continuous))
        vuv = F.binary_cross_entropy_with_logits(
            output[..., VUV], target[..., VUV], reduction="none"
        )
        losses = {
            "features": feature_l1,
            "vuv": (vuv * frame_ok[..., 0]).sum() / n_frames,
            "duration": (((log_duration - torch.log1p(durations.float())) ** 2) * phone_ok).sum()
            / n_phone,
            "pitch": (((pitch_pred - pitch) ** 2) * phone_ok).sum() / n_phone,
            "energy": (((energy_pred - energy) ** 2) * phone_ok).sum() / n_phone,
        }
        if align and log_probs is not None:
            losses["align"] = self.aligner_loss(batch, log_probs)
        return losses

    # Synthesis ---------------------------------------------------------------------------
    @torch.no_grad()
    def predict_durations(
        self,
        phones: torch.Tensor,
        speaker: torch.Tensor,
        speed: float = 1.0,
        min_frames: int = 1,
    ) -> torch.Tensor:
        """Frames per phone for one sentence ``(1, N)``; every sound (not silence or a
        pause) gets at least ``min_frames``."""
        text_pad = torch.zeros_like(phones, dtype=torch.bool)
        h = self.encode(phones, text_pad, speaker)
        frames = torch.expm1(self.duration_predictor(h, text_pad)).clamp(min=0.0) / speed
        frames = torch.round(frames).long().clamp(max=self.config.max_duration_frames)
        speech = phones > 2  # not padding, silence or short pause
        return torch.where(speech, frames.clamp(min=max(1, min_frames)), frames)

    @torch.no_grad()
    def synthesize(
        self,
        phones: torch.Tensor,
        speaker: torch.Tensor,
        controls: Controls | None = None,
        durations: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Feature frames ``(T, F)`` (denormalised, ready for the vocoder) for one sentence."""
        controls = controls or Controls()
        if controls.speed <= 0:
            raise ValueError("speed must be positive")
        text_pad = torch.zeros_like(phones, dtype=torch.bool)
        h = self.encode(phones, text_pad, speaker)
        if durations is None:
            durations = self.predict_durations(phones, speaker, controls.speed)
        n_frames = max(1, int(durations.sum()))
        pitch = self.pitch_predictor(h, text_pad)
        energy = self.energy_predictor(h, text_pad) + controls.energy
        attention = durations_to_attention(durations, n_frames)
        frame_pad = torch.zeros(1, n_frames, dtype=torch.bool, device=phones.device)
        output = self.decode(self._add_variance(h, pitch, energy), attention, frame_pad, speaker)
        features = self.denormalize(output)[0]
        if self.refiner is not None and int(durations.sum()) == n_frames:
            frame_phones = torch.repeat_interleave(phones[0], durations[0])[None]
            envelope = self.refiner(self.normalize(features)[None], frame_phones)[0]
            features[:, REFINED] = envelope * self.feature_std[REFINED] + self.feature_mean[REFINED]
        features[:, LF0] += controls.pitch_semitones * math.log(2.0) / 12.0
        return features
