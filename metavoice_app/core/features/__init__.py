"""Acoustic features: WORLD vocoder parameters for the model, log-mel for display."""
