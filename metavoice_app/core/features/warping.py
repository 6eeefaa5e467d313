"""Dynamic time warping: which frames of one sequence match which of another.

Two readings of the same sentence (a voice's and the person's take, or a clone's and the
real query) differ in timing; warping pairs each frame with its acoustic counterpart
without a phone alignment. The wizard warps five takes while the person waits, so the
cumulative cost is filled one anti-diagonal at a time (every cell of a diagonal depends
only on the two before it) instead of cell by cell in Python.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def warping_path(a: npt.ArrayLike, b: npt.ArrayLike) -> list[tuple[int, int]]:
    """The lowest-cost monotonic path of (index in ``a``, index in ``b``) pairs from the
    first frames to the last, with Euclidean frame distances; both ``(T, D)``."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) == 0 or len(y) == 0 or x.shape[1] != y.shape[1]:
        raise ValueError("warping needs two non-empty (T, D) sequences of the same width")
    squared = (x**2).sum(1)[:, None] + (y**2).sum(1)[None, :] - 2.0 * x @ y.T
    cost = np.sqrt(np.maximum(squared, 0.0))
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for diagonal in range(2, n + m + 1):  # cells (i, j), 1-based, with i + j == diagonal
        i = np.arange(max(1, diagonal - m), min(n, diagonal - 1) + 1)
        j = diagonal - i
        best = np.minimum(np.minimum(total[i - 1, j - 1], total[i - 1, j]), total[i, j - 1])
        total[i, j] = cost[i - 1, j - 1] + best
    path, i, j = [], n, m
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin((total[i - 1, j - 1], total[i - 1, j], total[i, j - 1])))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path[::-1]


def warped_onto(
    target: npt.NDArray[np.floating], source: npt.NDArray[np.floating], match: slice
) -> npt.NDArray[np.float64]:
    """``source``'s frames put on ``target``'s timeline: for every target frame, the mean of
    the source frames the warping path pairs it with, matched on the columns ``match``."""
    path = np.array(warping_path(target[:, match], source[:, match]))
    sums = np.zeros((len(target), source.shape[1]))
    np.add.at(sums, path[:, 0], np.asarray(source, dtype=np.float64)[path[:, 1]])
    counts = np.bincount(path[:, 0], minlength=len(target))
    return sums / counts[:, None]
