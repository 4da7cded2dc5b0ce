"""Vectorised helpers for ragged (grouped) arrays and random draws used by the generator."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of every group in the flat array of a ragged layout."""
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def rank_in_group(counts: np.ndarray) -> np.ndarray:
    """0-based position of every flat element inside its group."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(counts), counts)


def random_rank_in_group(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """A random permutation rank of every element inside its group (group ids 0..k, any order)."""
    order = np.lexsort((rng.random(len(group)), group))
    counts = np.bincount(group, minlength=int(group.max()) + 1 if len(group) else 0)
    ranks = np.empty(len(group), dtype=np.int64)
    ranks[order] = rank_in_group(counts)
    return ranks


def randomised_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Round to floor or ceil with the probability that keeps the expectation (low variance)."""
    return np.floor(x + rng.random(np.shape(x))).astype(np.int64)


def quota_flags(rng: np.random.Generator, group: np.ndarray, share: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Flag about ``share[g]`` of the eligible elements of every group, at random positions.

    The number flagged per group is the randomised rounding of share * eligible count, so a
    customer's realised share sits as close as possible to its planted share.
    """
    n_groups = len(share)
    elig_idx = np.flatnonzero(eligible)
    elig_group = group[elig_idx]
    counts = np.bincount(elig_group, minlength=n_groups)
    quota = randomised_round(rng, share * counts)
    ranks = random_rank_in_group(rng, elig_group) if len(elig_idx) else elig_idx
    flags = np.zeros(len(group), dtype=bool)
    flags[elig_idx] = ranks < quota[elig_group]
    return flags


_DENSE_COLUMNS = 16


def choice_from_cumulative(
    rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray, u: np.ndarray | None = None
) -> np.ndarray:
    """One column index per element from row-wise cumulative weights ``cum[rows]``.

    ``u`` (uniform 0..1 per element) may be given, e.g. for systematic sampling.
    """
    if u is None:
        u = rng.random(len(rows))
    x = u * cum[rows, -1]
    if cum.shape[1] <= _DENSE_COLUMNS:
        return (cum[rows] <= x[:, None]).sum(axis=1)
    # many columns (grocery categories): one binary search per element instead of a
    # (elements x columns) comparison; rows are offset so the flattened array is sorted
    offset = 2.0 * np.maximum(cum[:, -1], 1.0).max() * np.arange(len(cum))
    flat = (cum + offset[:, None]).ravel()
    return np.searchsorted(flat, x + offset[rows], side="right") - rows * cum.shape[1]


def stable_rank_in_group(group: np.ndarray, n_groups: int) -> np.ndarray:
    """0-based rank of every element among the elements of its group, in array order."""
    order = np.argsort(group, kind="stable")
    ranks = np.empty(len(group), dtype=np.int64)
    ranks[order] = rank_in_group(np.bincount(group, minlength=n_groups))
    return ranks


def nearest_class(value: np.ndarray, centres, planted: np.ndarray) -> np.ndarray:
    """Class whose centre is nearest to ``value``; ties go to the planted class."""
    dist = np.abs(value[:, None] - np.asarray(centres, dtype=float)[None, :])
    dist[np.arange(len(value)), planted] -= 1e-9
    return dist.argmin(axis=1)


def classes_from_latent(z: np.ndarray, weights) -> np.ndarray:
    """Map standard-normal latent values to 0-based classes with the given mixture weights."""
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())[:-1]
    cum = np.clip(cum, 1e-12, 1 - 1e-12)
    cuts = np.array([NormalDist().inv_cdf(c) for c in cum])
    return np.searchsorted(cuts, z, side="right")


def band_middles(weights) -> np.ndarray:
    """Standard-normal value at the middle (in probability) of every mixture class band."""
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    mid = np.clip(cum - w / w.sum() / 2, 1e-9, 1 - 1e-9)
    return np.array([NormalDist().inv_cdf(c) for c in mid])


def nearest_psd_correlation(corr: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues so a hand-written correlation matrix is usable."""
    vals, vecs = np.linalg.eigh(corr)
    if vals.min() > 1e-8:
        return corr
    fixed = vecs @ np.diag(np.clip(vals, 1e-6, None)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def lognormal_around(rng: np.random.Generator, median: np.ndarray, sigma: float, size=None) -> np.ndarray:
    """Lognormal draws with the given median(s) and log-sd."""
    median = np.asarray(median, dtype=float)
    shape = size if size is not None else median.shape
    return median * np.exp(sigma * rng.standard_normal(shape))
