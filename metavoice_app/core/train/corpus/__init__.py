"""The multi-speaker training corpus: synthetic engine voices, pseudo-speakers and real speakers."""
