"""The voice map: speaker-encoder embeddings of voices laid out in two dimensions.

Principal components of the unit embeddings keep the directions along which
these voices differ most, so near points sound alike to the encoder. The
layout is deterministic (signs fixed), so the map does not flip between
openings.
"""

from __future__ import annotations

import numpy as np


def layout(prints: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """2-D positions, by name, for unit embeddings; fewer than two voices sit at the origin."""
    names = list(prints)
    if len(names) < 2:
        return dict.fromkeys(names, (0.0, 0.0))
    matrix = np.stack([prints[n] / np.linalg.norm(prints[n]) for n in names]).astype(np.float64)
    centred = matrix - matrix.mean(0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    # Fix each axis's sign by its largest component, for a stable picture.
    axes *= np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(1)])[:, None]
    points = centred @ axes.T
    if points.shape[1] == 1:
        points = np.concatenate([points, np.zeros_like(points)], axis=1)
    return {n: (float(x), float(y)) for n, (x, y) in zip(names, points, strict=True)}
