"""Speaker encoder (GE2E) and voice memory: who a voice sounds like, in a vector."""
