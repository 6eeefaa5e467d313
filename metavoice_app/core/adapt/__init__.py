"""Few-shot voice adaptation: a handful of takes in, a voice profile out."""
