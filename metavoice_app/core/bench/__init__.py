"""Benchmarks: speed and quality of synthesis and adaptation (CLI ``metavoice bench``)."""
