"""The acoustic model: phones + speaker -> WORLD feature frames (FastSpeech2 family)."""
