"""Dynamic time warping: frames paired across two readings of the same sentence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from metavoice_app.core.features.warping import warped_onto, warping_path


def _reference_path(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """The textbook cell-by-cell recursion, to check the diagonal-at-a-time one against."""
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    total = np.full((len(a) + 1, len(b) + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            total[i, j] = cost[i - 1, j - 1] + min(
                total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]
            )
    path, i, j = [], len(a), len(b)
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin([total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path[::-1]


def test_a_repeated_frame_is_paired_with_its_one_counterpart() -> None:
    a = np.array([[0.0], [1.0], [2.0], [3.0]])
    b = np.array([[0.0], [1.0], [1.0], [2.0], [3.0]])
    assert warping_path(a, b) == [(0, 0), (1, 1), (1, 2), (2, 3), (3, 4)]


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 6), (7, 2), (40, 33), (90, 120)])
def test_the_path_is_the_textbook_one(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 1000 + m)
    a, b = rng.normal(size=(n, 5)), rng.normal(size=(m, 5))
    path = warping_path(a, b)
    assert path == _reference_path(a, b)
    assert path[0] == (0, 0) and path[-1] == (n - 1, m - 1)
    assert all(
        0 <= i2 - i1 <= 1 and 0 <= j2 - j1 <= 1 and (i2, j2) != (i1, j1)
        for (i1, j1), (i2, j2) in itertools.pairwise(path)
    )


def test_frames_warped_onto_a_slower_reading() -> None:
    """A sentence read twice as slowly: each of its frames gets the fast reading's frame."""
    fast = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])
    slow = np.repeat(fast, 2, axis=0) + np.array([0.0, 0.5])  # same first column
    warped = warped_onto(slow, fast, slice(0, 1))
    np.testing.assert_array_equal(warped, np.repeat(fast, 2, axis=0))
    # and back: pairs of slow frames averaged onto the fast timeline
    np.testing.assert_allclose(warped_onto(fast, slow, slice(0, 1)), fast + np.array([0.0, 0.5]))


def test_empty_or_mismatched_sequences_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        warping_path(np.zeros((0, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="same width"):
        warping_path(np.zeros((2, 3)), np.zeros((4, 2)))
