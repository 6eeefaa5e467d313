"""Text to speech with the acoustic model and the WORLD vocoder."""
