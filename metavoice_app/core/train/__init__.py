"""Training: corpus building, base-model training and meta-training (CLI ``metavoice train``)."""
