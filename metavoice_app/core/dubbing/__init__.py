"""Dubbing: subtitles and scripts rendered to timed audio in one or more voices."""
