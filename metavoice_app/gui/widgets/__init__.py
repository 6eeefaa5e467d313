"""Reusable widgets: the spectrogram/waveform view and friends."""
