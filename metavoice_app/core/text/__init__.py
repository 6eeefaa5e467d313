"""English text front end: normalisation, sentence splitting and grapheme-to-phoneme.

One code path labels the training corpus and prepares text at synthesis time,
so the model always sees the same phone inventory (see :mod:`.phones`).
"""
