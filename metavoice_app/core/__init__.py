"""The engine: audio, text, model, adaptation, profiles, dubbing.

Nothing in this package may import Qt (a test enforces it), so every engine
feature works from the command line, in tests and on a headless machine.
"""
