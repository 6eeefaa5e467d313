"""Audio input/output, file reading and take checks."""
