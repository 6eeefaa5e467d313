"""Meta-learning the starting point for few-shot voice adaptation (MAML family)."""
