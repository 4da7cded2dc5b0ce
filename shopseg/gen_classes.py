"""Planted latent classes: one class per axis for every customer with orders.

Ranked axes share a Gaussian copula: a correlated standard-normal latent per axis is cut
at the quantiles of the axis mixture, so the marginal shares are the mixture weights and
correlations between axes are rank correlations (high frequency goes with high value, ...).
communication_preference is categorical and drawn conditionally on product_knowledge.

Classes are 0-based here (label_order - 1). Rules that depend on the realised orders (a
customer with one valid order is a one_time_buyer / one_and_done, ...) are applied later
by :func:`shopseg.gen_orders.apply_realised_rules`.
"""

from __future__ import annotations

import numpy as np

from .gen_config import AXES
from .gen_util import choice_from_cumulative, classes_from_latent, nearest_psd_correlation

COPULA_AXES = [a for a in AXES if a != "communication_preference"]


def correlation_matrix(pairs) -> np.ndarray:
    """Correlation matrix of the copula from ``[axis_a, axis_b, rho]`` triples."""
    index = {axis: i for i, axis in enumerate(COPULA_AXES)}
    corr = np.eye(len(COPULA_AXES))
    for a, b, rho in pairs:
        corr[index[a], index[b]] = corr[index[b], index[a]] = rho
    return nearest_psd_correlation(corr)


def draw_classes(rng: np.random.Generator, n: int, params: dict) -> dict[str, np.ndarray]:
    """Draw the planted class of every axis for ``n`` customers with orders."""
    mixtures = params["mixtures"]
    chol = np.linalg.cholesky(correlation_matrix(params["correlations"]))
    latent = rng.standard_normal((n, len(COPULA_AXES))) @ chol.T
    classes = {axis: classes_from_latent(latent[:, i], mixtures[axis])
               for i, axis in enumerate(COPULA_AXES)}
    classes["communication_preference"] = _draw_communication(
        rng, classes["product_knowledge"], mixtures["communication_preference"],
        params["support"]["no_contact_by_knowledge"])
    # customers who never contact support cannot have complex issues
    no_contact = classes["communication_preference"] == 0
    classes["problem_complexity_profile"][no_contact] = 0
    return classes


def _draw_communication(rng, knowledge, weights, no_contact_factor) -> np.ndarray:
    """Channel class given product knowledge: novices and learners always contact support."""
    base = np.asarray(weights, dtype=float)
    table = np.tile(base, (len(no_contact_factor), 1))
    table[:, 0] *= np.asarray(no_contact_factor, dtype=float)
    return choice_from_cumulative(rng, np.cumsum(table, axis=1), knowledge)
