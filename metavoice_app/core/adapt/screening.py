"""Checking what a take says and who says it, before a voice is learned from it.

The level checks (:mod:`metavoice_app.core.audio.checks`) pass a clean recording of the
wrong sentence, or of someone else; both teach the voice something false (a folder whose
transcripts did not match its audio made a voice with similarity -0.10). Two checks
with the model's own parts catch them:

- the words: the aligner's forced alignment of the take to its sentence, scored by how
  much worse the forced path is than the aligner's free choice of phone frame by frame
  (a goodness-of-pronunciation score, in nats per frame; near 0 when the take says its
  sentence, far below when it says something else). Comparing with the free choice
  cancels what the voice and microphone do to both;
- the speaker: the speaker encoder's embedding of the take against the mean embedding
  of the other takes (cosine), for models with an encoder and three takes or more.

Thresholds were set on real speech (VCTK takes and their transcripts, and the same
takes given other speakers' sentences) with the bundled model; see docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from metavoice_app.core.model.acoustic import AcousticModel, Batch
from metavoice_app.core.model.aligner import durations_to_attention, hard_durations, phone_scores
from metavoice_app.core.speaker.bundle import SpeakerTools
from metavoice_app.core.text.frontend import TextFrontend, utterance_phones
from metavoice_app.core.text.phones import phone_ids

# On 40 VCTK takes (4 speakers) with the bundled model: takes of their own sentence
# scored -1.6 to -0.5, the same takes given another sentence -4.0 to -2.3; a take's
# cosine to its speaker's other takes was 0.71 to 0.96, another speaker's 0.47 at most.
WORDS_THRESHOLD = -2.0  # nats per frame below the aligner's free choice
SPEAKER_THRESHOLD = 0.6  # cosine to the other takes' mean embedding
MIN_TAKES_FOR_SPEAKER = 3

WRONG_WORDS = (
    "The words do not seem to match the sentence: read exactly the sentence shown, "
    "or record it again."
)
OTHER_SPEAKER = "This take sounds like a different person from the other takes."


@dataclass(frozen=True)
class Screened:
    """What the checks found about one take; ``problem`` is "" when nothing."""

    words_score: float
    speaker_score: float | None
    problem: str


@torch.no_grad()
def words_score(
    model: AcousticModel, text: str, features: np.ndarray, frontend: TextFrontend
) -> float:
    """How well ``features`` say ``text`` to the model's aligner (0 best, lower worse)."""
    ids = torch.tensor([phone_ids(list(utterance_phones(text, frontend)))])
    frames = torch.from_numpy(np.asarray(features, dtype=np.float32))[None]
    if frames.shape[1] <= ids.shape[1]:
        return float("-inf")  # too short to say the sentence at all
    device = next(model.parameters()).device
    batch = Batch(
        ids,
        torch.tensor([ids.shape[1]]),
        frames,
        torch.tensor([frames.shape[1]]),
        torch.zeros(1, dtype=torch.long),
    ).to(device)
    log_probs = model.phone_log_probs(batch)
    scores = phone_scores(log_probs, batch.phones)
    durations = hard_durations(scores, batch.phone_lengths, batch.frame_lengths)
    forced = (scores * durations_to_attention(durations, frames.shape[1])).sum()
    free = log_probs.max(-1).values.sum()
    return float((forced - free) / frames.shape[1])


def speaker_scores(tools: SpeakerTools, features: list[np.ndarray]) -> list[float | None]:
    """Each take's cosine to the mean embedding of the others (None with too few takes)."""
    if len(features) < MIN_TAKES_FOR_SPEAKER:
        return [None] * len(features)
    embeddings = [tools.voice_print([f]) for f in features]
    scores: list[float | None] = []
    for index, embedding in enumerate(embeddings):
        others = np.mean([e for i, e in enumerate(embeddings) if i != index], axis=0)
        scores.append(float(embedding @ others / max(float(np.linalg.norm(others)), 1e-8)))
    return scores


def screen_takes(
    model: AcousticModel,
    tools: SpeakerTools | None,
    takes: list[tuple[str, np.ndarray]],
    frontend: TextFrontend | None = None,
) -> list[Screened]:
    """Check every (text, features) take: its words against its text, and its speaker
    against the other takes."""
    frontend = frontend or TextFrontend()
    speakers = (
        speaker_scores(tools, [f for _, f in takes]) if tools is not None else [None] * len(takes)
    )
    results = []
    for (text, features), speaker in zip(takes, speakers, strict=True):
        words = words_score(model, text, features, frontend)
        problems = []
        if words < WORDS_THRESHOLD:
            problems.append(WRONG_WORDS)
        if speaker is not None and speaker < SPEAKER_THRESHOLD:
            problems.append(OTHER_SPEAKER)
        results.append(Screened(words, speaker, " ".join(problems)))
    return results
