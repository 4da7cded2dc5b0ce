"""Planted latent classes: one class per axis for every customer with orders.

Ranked axes share a Gaussian copula: a correlated standard-normal latent per axis is cut
at the quantiles of the axis mixture, so the marginal shares are the mixture weights and
correlations between axes are rank correlations (high frequency goes with high value, ...).
communication_preference is categorical and drawn conditionally on product_knowledge;
purchase_cadence is drawn conditionally on purchase_frequency (a table, not monotone).

Classes are 0-based here (label_order - 1). Rules that depend on the realised orders (a
customer with one valid order is a one_time_buyer / one_and_done, ...) are applied later
by :func:`shopseg.generator.truth.apply_realised_rules` and the order generator.
"""

from __future__ import annotations

import numpy as np

from .config import AXES
from .util import band_middles, choice_from_cumulative, classes_from_latent, nearest_psd_correlation

COPULA_AXES = [a for a in AXES if a not in ("communication_preference", "purchase_cadence")]


def correlation_matrix(pairs) -> np.ndarray:
    """Correlation matrix of the copula from ``[axis_a, axis_b, rho]`` triples."""
    index = {axis: i for i, axis in enumerate(COPULA_AXES)}
    corr = np.eye(len(COPULA_AXES))
    for a, b, rho in pairs:
        corr[index[a], index[b]] = corr[index[b], index[a]] = rho
    return nearest_psd_correlation(corr)


def draw_classes(rng: np.random.Generator, n: int, params: dict) -> tuple[dict, np.ndarray]:
    """Draw the planted class of every axis for ``n`` customers with orders.

    Returns the classes (axis -> 0-based class array) and the copula latents (n x axes,
    columns in COPULA_AXES order), which :func:`recouple` uses after realisation.
    """
    mixtures = params["mixtures"]
    chol = np.linalg.cholesky(correlation_matrix(params["correlations"]))
    latent = rng.standard_normal((n, len(COPULA_AXES))) @ chol.T
    classes = {axis: classes_from_latent(latent[:, i], mixtures[axis]) for i, axis in enumerate(COPULA_AXES)}
    table = np.cumsum(np.asarray(params["cadence"]["given_frequency"], dtype=float), axis=1)
    classes["purchase_cadence"] = choice_from_cumulative(rng, table, classes["purchase_frequency"])
    classes["communication_preference"] = _draw_communication(
        rng,
        classes["product_knowledge"],
        mixtures["communication_preference"],
        params["support"]["no_contact_by_knowledge"],
    )
    # customers who never contact support cannot have complex issues
    no_contact = classes["communication_preference"] == 0
    classes["problem_complexity_profile"][no_contact] = 0
    return classes, latent


def recouple(
    latent: np.ndarray, source: str, realised: np.ndarray, target: str, rho: float, mixtures: dict
) -> np.ndarray:
    """Re-draw ``target`` classes correlated (``rho``) with the *realised* ``source`` class.

    When the realised source class differs from the planted one, its latent is replaced by
    the middle of the realised class's band; the target latent keeps its other couplings
    with weight sqrt(1 - rho^2).
    """
    cols = {axis: i for i, axis in enumerate(COPULA_AXES)}
    z_source = latent[:, cols[source]]
    planted = classes_from_latent(z_source, mixtures[source])
    z_source = np.where(planted == realised, z_source, band_middles(mixtures[source])[realised])
    z_target = rho * z_source + np.sqrt(1.0 - rho**2) * latent[:, cols[target]]
    return classes_from_latent(z_target, mixtures[target])


def _draw_communication(rng, knowledge, weights, no_contact_factor) -> np.ndarray:
    """Channel class given product knowledge: novices and learners always contact support."""
    base = np.asarray(weights, dtype=float)
    table = np.tile(base, (len(no_contact_factor), 1))
    table[:, 0] *= np.asarray(no_contact_factor, dtype=float)
    return choice_from_cumulative(rng, np.cumsum(table, axis=1), knowledge)
