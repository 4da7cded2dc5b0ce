"""Numeric core of centroid discovery for one segmentation axis (SPEC sections 5-8).

This file has two lives:

* dbt's ``functions`` resource deploys it as the BODY of the PL/Python function
  ``discover_axis(features double precision[], spec jsonb) RETURNS jsonb`` followed by
  ``return main(features, spec)``. PL/Python wraps the body in a Python function, so this
  file holds only imports, constants and definitions (no statement with side effects, no
  ``from __future__``, no ``if __name__``), and never binds the names ``features`` or
  ``spec`` at top level (they are the PL/Python argument globals).
* pytest imports it directly (tests/test_discover_core.py), and the client-side benchmark
  pipeline reuses ``assign`` and ``fuzzy_memberships`` as reference implementations.

Pipeline of ``discover(X, spec)`` (X = raw features, n x p, in ``spec["features"]`` order):

1. transform: ``log1p`` -> ``np.log(1.0 + np.maximum(x, 0.0))`` (deliberately not
   ``np.log1p``: it matches PostgreSQL's ``ln(1 + greatest(x, 0))`` bit for bit);
   ``none`` -> x.
2. standardize: z = (t - mean) / std, sample mean, population std (ddof=0). A feature whose
   std is < 1e-12 is unusable: weight 0, mean = its value, std = 1, centre component 0.
3. insufficient data (no clusters, a ``reason``): n < min_customers, every weight 0, fewer
   than k_min distinct rows over the used features, or no valid k.
4. k = k_min..k_max, with k <= distinct rows - 1, k <= min(n, silhouette_sample_size) - 1
   and k <= the vocabulary size: KMeans(lloyd, n_init, random_state) on the used columns,
   silhouette on a seeded sample; best silhouette wins, ties -> smaller k.
5. labels never depend on KMeans' numbering (see ``label_clusters``).
6. clusters are output sorted by their label's position in the vocabulary;
   ``cluster_index`` 0..k-1 follows that order.

Determinism: everything is seeded, and the BLAS/OpenMP thread pools are pinned to one
thread during the fit (``threadpool_limits(1)``): scikit-learn's Lloyd iteration sums
per-thread partial centre sums, so its last bits would otherwise depend on the number of
threads (i.e. on the machine). With one thread the output is bit-identical on rerun.
"""

import json
import math
import warnings

import numpy as np

STD_EPS = 1e-12
TIEBREAK_EPS = 1e-9
TRANSFORMS = ("none", "log1p")
SPEC_DEFAULTS = {
    "k_min": 2,
    "k_max": 6,
    "random_state": 0,
    "n_init": 10,
    "min_customers": 50,
    "silhouette_sample_size": 2000,
    "no_contact_threshold": 0.05,
    "continuity_threshold": 0.5,
    "ranking_direction": "asc",
    "kind": "ranked",
}


# --------------------------------------------------------------------------- spec / input


def parse_spec(raw_spec):
    """Validate the spec (JSON string, bytes or dict) and fill defaults. Returns a new dict."""
    if isinstance(raw_spec, (bytes, bytearray)):
        raw_spec = raw_spec.decode("utf-8")
    if isinstance(raw_spec, str):
        raw_spec = json.loads(raw_spec)
    if not isinstance(raw_spec, dict):
        raise ValueError("discover_axis: spec must be a JSON object, got %s" % type(raw_spec).__name__)
    out = dict(SPEC_DEFAULTS)
    out.update({key: value for key, value in raw_spec.items() if value is not None})
    axis = out.get("axis") or "?"
    out["axis"] = axis

    def fail(message):
        raise ValueError("discover_axis[%s]: %s" % (axis, message))

    feats = out.get("features")
    if not isinstance(feats, list) or not feats:
        fail("spec.features must be a non-empty list of {name, transform}")
    names, transforms = [], []
    for item in feats:
        if isinstance(item, str):
            item = {"name": item, "transform": "none"}
        if not isinstance(item, dict) or not item.get("name"):
            fail("every spec.features entry needs a name")
        transform_name = item.get("transform") or "none"
        if transform_name not in TRANSFORMS:
            fail("feature %r has unknown transform %r (expected one of %s)"
                 % (item["name"], transform_name, ", ".join(TRANSFORMS)))
        names.append(str(item["name"]))
        transforms.append(transform_name)
    if len(set(names)) != len(names):
        fail("duplicate feature names in spec.features")
    out["feature_names"] = names
    out["transforms"] = transforms

    if out["kind"] not in ("ranked", "categorical"):
        fail("kind must be 'ranked' or 'categorical', got %r" % (out["kind"],))
    if out["ranking_direction"] not in ("asc", "desc"):
        fail("ranking_direction must be 'asc' or 'desc', got %r" % (out["ranking_direction"],))
    if out.get("ranking_feature") not in names:
        fail("ranking_feature %r is not one of the axis features %s" % (out.get("ranking_feature"), names))

    labels = out.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        fail("spec.labels must be a non-empty list of label strings")
    if len(set(labels)) != len(labels):
        fail("duplicate labels in the vocabulary")

    for key in ("k_min", "k_max", "n_init", "min_customers", "silhouette_sample_size", "random_state"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            fail("%s must be an integer, got %r" % (key, value))
        out[key] = int(value)
    if out["k_min"] < 2 or out["k_max"] < out["k_min"]:
        fail("need 2 <= k_min <= k_max (got k_min=%d, k_max=%d)" % (out["k_min"], out["k_max"]))
    if len(labels) < out["k_min"]:
        fail("the vocabulary has %d labels, fewer than k_min=%d" % (len(labels), out["k_min"]))
    if out["n_init"] < 1 or out["silhouette_sample_size"] < 3 or out["min_customers"] < 0:
        fail("n_init must be >= 1, silhouette_sample_size >= 3, min_customers >= 0")
    for key in ("no_contact_threshold", "continuity_threshold"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            fail("%s must be a finite number, got %r" % (key, value))
        out[key] = float(value)

    if out["kind"] == "categorical":
        match = out.get("match_features")
        if not isinstance(match, dict):
            fail("a categorical axis needs match_features {label: feature}")
        for label in labels:
            if match.get(label) not in names:
                fail("label %r has match_feature %r, which is not one of the axis features"
                     % (label, match.get(label)))
        # The label matched to the contact-volume feature (tickets per order) is the
        # no-contact label; every other match feature is a share.
        out["volume_feature"] = out.get("volume_feature") or out["ranking_feature"]
        if out["volume_feature"] not in names:
            fail("volume_feature %r is not one of the axis features" % (out["volume_feature"],))
    previous = out.get("previous")
    if previous is not None and not isinstance(previous, list):
        fail("previous must be a list of clusters")
    out["previous"] = previous or []
    return out


def to_matrix(rows, feature_names):
    """Nested list (n x p, PL/Python's view of a 2-D double precision[]) -> float64 array.

    Raises ValueError naming the feature on a NULL (None) or non-finite value: the SQL layer
    guarantees non-null, finite features, so a NULL here is a bug upstream, never zero.
    """
    p = len(feature_names)
    if rows is None:
        rows = []
    if isinstance(rows, np.ndarray):
        arr = np.array(rows, dtype=np.float64)
        if arr.size == 0:
            return np.zeros((0, p), dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != p:
            raise ValueError("discover_axis: features must be n x %d, got shape %s" % (p, arr.shape))
    else:
        n = len(rows)
        arr = np.empty((n, p), dtype=np.float64)
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple)) or len(row) != p:
                raise ValueError("discover_axis: features row %d must have %d values (%s), got %r"
                                 % (i, p, ", ".join(feature_names), row))
            for j, value in enumerate(row):
                if value is None:
                    raise ValueError("discover_axis: feature %r is NULL in row %d; the SQL layer "
                                     "must pass non-null features" % (feature_names[j], i))
                arr[i, j] = float(value)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError("discover_axis: feature %r is %s in row %d (NULL or non-finite); the SQL "
                         "layer must pass finite features" % (feature_names[j], arr[i, j], i))
    return arr


# --------------------------------------------------------------------------- numeric steps


def transform(X, transforms):
    """Apply the per-feature transforms. 'log1p' is ln(1 + max(x, 0)) computed as
    ``np.log(1.0 + x)`` so that PostgreSQL's ``ln(1 + greatest(x, 0))`` gives the same bits."""
    X = np.asarray(X, dtype=np.float64)
    T = X.copy()
    for j, name in enumerate(transforms):
        if name == "log1p":
            T[:, j] = np.log(1.0 + np.maximum(X[:, j], 0.0))
        elif name != "none":
            raise ValueError("unknown transform %r" % (name,))
    return T


def standardize(T):
    """(Z, mean, std, weights) with z = (t - mean) / std, ddof=0.

    A feature with std < 1e-12 gets weight 0, std 1 and mean = its value (the column's first
    value when it is exactly constant), so its z is ~0 and it never enters a distance.
    """
    T = np.asarray(T, dtype=np.float64)
    n, p = T.shape
    mean = np.zeros(p)
    std = np.ones(p)
    weights = np.zeros(p)
    if n == 0:
        return np.zeros((0, p)), mean, std, weights
    for j in range(p):
        col = T[:, j]
        m = float(np.mean(col))
        s = float(np.std(col))
        if s < STD_EPS or not math.isfinite(s):
            mean[j] = float(col[0]) if bool(np.all(col == col[0])) else m
            std[j] = 1.0
            weights[j] = 0.0
        else:
            mean[j] = m
            std[j] = s
            weights[j] = 1.0
    Z = (T - mean) / std
    return Z, mean, std, weights


def count_distinct_rows(M):
    """Number of distinct rows of M (0 for an empty matrix)."""
    M = np.asarray(M, dtype=np.float64)
    if M.shape[0] == 0:
        return 0
    return int(np.unique(M, axis=0).shape[0])


def candidate_ks(n, n_distinct, k_min, k_max, n_labels, silhouette_sample_size):
    """The k values to try: k_min..min(k_max, n_labels, n_distinct - 1, sample - 1).

    k <= distinct rows - 1 keeps a trivially perfect silhouette (every distinct point its own
    cluster) out of the race; k <= sample - 1 is silhouette's own requirement.
    """
    sample = min(n, silhouette_sample_size)
    upper = min(k_max, n_labels, n_distinct - 1, sample - 1, n - 1)
    return list(range(k_min, upper + 1))


def fit_kmeans(Zu, k, random_state, n_init):
    """KMeans(lloyd) on the used standardized columns -> (centers k x q, labels n)."""
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, random_state=random_state, n_init=n_init, algorithm="lloyd")
    with warnings.catch_warnings():
        # "Number of distinct clusters found smaller than n_clusters" is handled by the caller.
        warnings.simplefilter("ignore")
        model.fit(Zu)
    return np.asarray(model.cluster_centers_, dtype=np.float64), np.asarray(model.labels_, dtype=np.int64)


def choose_k(Zu, ks, random_state, n_init, silhouette_sample_size):
    """Fit every k in ``ks`` and pick the best silhouette (ties -> smaller k).

    Returns (best_k or None, {k: silhouette}, {k: (centers, labels)}, {k: skip reason}).
    A k is skipped when KMeans yields fewer than k distinct labels or the silhouette sample
    does not hold 2..sample-1 labels.
    """
    from sklearn.metrics import silhouette_score

    n = Zu.shape[0]
    sample_size = None if n <= silhouette_sample_size else silhouette_sample_size
    silhouettes, fits, skipped = {}, {}, {}
    for k in ks:
        centers, labels = fit_kmeans(Zu, k, random_state, n_init)
        if np.unique(labels).shape[0] < k:
            skipped[k] = "KMeans found fewer than %d distinct clusters" % k
            continue
        try:
            s = float(silhouette_score(Zu, labels, sample_size=sample_size, random_state=random_state))
        except ValueError as exc:
            skipped[k] = "silhouette undefined: %s" % exc
            continue
        if not math.isfinite(s):
            skipped[k] = "silhouette is not finite"
            continue
        silhouettes[k] = s
        fits[k] = (centers, labels)
    return best_silhouette_k(silhouettes), silhouettes, fits, skipped


def best_silhouette_k(silhouettes):
    """The k with the highest silhouette; ties -> the smaller k; None when empty."""
    best_k = None
    for k in sorted(silhouettes):
        if best_k is None or silhouettes[k] > silhouettes[best_k]:
            best_k = k
    return best_k


def spread_positions(k, n_labels):
    """Vocabulary positions for k ranked clusters spread over n_labels labels.

    Cluster at rank i gets floor(i * (V - 1) / (k - 1) + 0.5), computed in exact integer
    arithmetic: k=2 of 5 -> [0, 4]; k=3 of 5 -> [0, 2, 4]; k=4 of 5 -> [0, 1, 3, 4];
    k == V -> identity. Strictly increasing (unique) whenever k <= V.
    """
    if k < 1 or n_labels < 1 or k > n_labels:
        raise ValueError("spread_positions needs 1 <= k <= n_labels (k=%d, n_labels=%d)" % (k, n_labels))
    if k == 1:
        return [0]
    return [(2 * i * (n_labels - 1) + (k - 1)) // (2 * (k - 1)) for i in range(k)]


def rank_order(ranking_values, centers, direction):
    """Cluster indices from lowest to highest rank: by ranking value (ascending, or
    descending for 'desc'), ties broken by the centre vector lexicographically (ascending)."""
    keys = []
    for c in range(len(ranking_values)):
        value = float(ranking_values[c])
        keys.append(((value if direction == "asc" else -value), tuple(float(x) for x in centers[c]), c))
    return [key[2] for key in sorted(keys)]


def rank_labels(ranking_values, centers, labels, direction):
    """Rule-based labels of ranked clusters: list (per cluster) of vocabulary positions."""
    order = rank_order(ranking_values, centers, direction)
    positions = spread_positions(len(order), len(labels))
    out = [0] * len(order)
    for rank, c in enumerate(order):
        out[c] = positions[rank]
    return out


def categorical_scores(raw_means, feature_names, labels, match_features, volume_feature, no_contact_threshold):
    """Score matrix (cluster x label). The label matched to ``volume_feature`` (no_contact)
    scores 1.0 when the cluster's raw mean of it is < no_contact_threshold, else -1.0; any
    other label scores the cluster's raw mean of its match feature (a channel share)."""
    raw_means = np.asarray(raw_means, dtype=np.float64)
    scores = np.zeros((raw_means.shape[0], len(labels)))
    for li, label in enumerate(labels):
        j = feature_names.index(match_features[label])
        if match_features[label] == volume_feature:
            scores[:, li] = np.where(raw_means[:, j] < no_contact_threshold, 1.0, -1.0)
        else:
            scores[:, li] = raw_means[:, j]
    return scores


def categorical_tiebreak(raw_means, feature_names, labels, match_features, volume_feature, no_contact_threshold):
    """Secondary preference (values in [-1, 0]) used only to break exact score ties: among
    clusters under the no-contact threshold, the one with fewer tickets per order is the
    better no_contact cluster (-mean / threshold in the no_contact column, 0 elsewhere)."""
    raw_means = np.asarray(raw_means, dtype=np.float64)
    tiebreak = np.zeros((raw_means.shape[0], len(labels)))
    if no_contact_threshold <= 0.0:
        return tiebreak
    for li, label in enumerate(labels):
        if match_features[label] == volume_feature:
            j = feature_names.index(volume_feature)
            tiebreak[:, li] = -np.clip(raw_means[:, j] / no_contact_threshold, 0.0, 1.0)
    return tiebreak


def categorical_labels(scores, cluster_rows=None, label_cols=None, tiebreak=None):
    """Optimal one-to-one assignment maximising the total score. Returns {cluster: label
    position} restricted to ``cluster_rows`` x ``label_cols`` (default: everything).

    ``tiebreak`` (values in [-1, 0]) is added with weight TIEBREAK_EPS = 1e-9, so it only
    decides between assignments whose total scores tie (to within 1e-9 x k); remaining exact
    ties are resolved by scipy on the canonical cluster order (centre vector, lexicographic)."""
    from scipy.optimize import linear_sum_assignment

    scores = np.asarray(scores, dtype=np.float64)
    if tiebreak is not None:
        scores = scores + TIEBREAK_EPS * np.asarray(tiebreak, dtype=np.float64)
    rows = list(range(scores.shape[0])) if cluster_rows is None else list(cluster_rows)
    cols = list(range(scores.shape[1])) if label_cols is None else list(label_cols)
    if not rows:
        return {}
    if len(rows) > len(cols):
        raise ValueError("more clusters (%d) than free labels (%d)" % (len(rows), len(cols)))
    sub = scores[np.ix_(rows, cols)]
    r, c = linear_sum_assignment(sub, maximize=True)
    return {rows[i]: cols[j] for i, j in zip(r, c)}


def previous_in_new_space(previous, feature_names, mean, std, weights):
    """Previous centroids re-expressed in the new standardized space.

    Returns (P m x p with NaN where a feature is not comparable, prev_labels, mask p) where the
    mask marks features used now (weight 1) that every previous cluster also has.
    """
    p = len(feature_names)
    P = np.full((len(previous), p), np.nan)
    prev_labels = []
    for r, cluster in enumerate(previous):
        try:
            names = list(cluster["feature_names"])
            center = [float(x) for x in cluster["center"]]
            pmean = [float(x) for x in cluster["mean"]]
            pstd = [float(x) for x in cluster["std"]]
            label = str(cluster["label"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("discover_axis: malformed previous cluster %d (%s); needs label, center, "
                             "mean, std, feature_names" % (r, exc))
        if not (len(names) == len(center) == len(pmean) == len(pstd)):
            raise ValueError("discover_axis: previous cluster %d has arrays of different lengths" % r)
        pweights = cluster.get("weights")
        prev_labels.append(label)
        for pj, name in enumerate(names):
            if name not in feature_names:
                continue
            if pweights is not None and float(pweights[pj]) == 0.0:
                continue
            j = feature_names.index(name)
            original = center[pj] * pstd[pj] + pmean[pj]
            P[r, j] = (original - mean[j]) / std[j]
    if not previous:
        return P, prev_labels, np.zeros(p, dtype=bool)
    mask = (np.asarray(weights) != 0.0) & np.all(np.isfinite(P), axis=0)
    return P, prev_labels, mask


def continuity_matches(centers_full, previous, feature_names, mean, std, weights, labels, threshold):
    """{new cluster: previous label} for clusters that keep a previous label.

    New and previous clusters are matched one-to-one (linear_sum_assignment on the Euclidean
    distance over the features used now and present in the previous version); a match within
    ``threshold`` (<=, standardized units) keeps the previous label when that label is in the
    current vocabulary and not already kept by a closer match.
    """
    from scipy.optimize import linear_sum_assignment

    if not previous:
        return {}
    P, prev_labels, mask = previous_in_new_space(previous, feature_names, mean, std, weights)
    if not mask.any():
        return {}
    C = np.asarray(centers_full, dtype=np.float64)[:, mask]
    Q = P[:, mask]
    dist = np.sqrt(((C[:, None, :] - Q[None, :, :]) ** 2).sum(axis=2))
    r, c = linear_sum_assignment(dist)
    pairs = sorted((float(dist[i, j]), int(i), int(j)) for i, j in zip(r, c))
    kept, taken = {}, set()
    for d, i, j in pairs:
        label = prev_labels[j]
        if d <= threshold and label in labels and label not in taken:
            kept[i] = label
            taken.add(label)
    return kept


def nearest_free_position(position, taken, n_labels):
    """The free vocabulary position nearest to ``position`` (ties -> the lower one)."""
    for d in range(n_labels):
        for candidate in (position - d, position + d):
            if 0 <= candidate < n_labels and candidate not in taken:
                return candidate
    raise ValueError("no free label left in the vocabulary")


def label_clusters(centers_full, raw_means, spec, weights, mean, std):
    """Vocabulary position of every cluster (clusters given in canonical order).

    Rule-based labels:
    * ranked: clusters sorted by the raw mean of the ranking feature (asc/desc, ties by the
      centre vector), labels spread over the vocabulary (``spread_positions``);
    * categorical: optimal one-to-one assignment on ``categorical_scores``.

    Continuity rule (only when ``spec["previous"]`` is given): previous centroids are mapped
    into the new standardized space and matched one-to-one to the new clusters; a new cluster
    whose match is within ``continuity_threshold`` keeps the previous label (if it is still in
    the vocabulary). Every other cluster gets its rule-based label, skipping labels already
    taken: ranked clusters, in rank order, take their spread position or else the nearest free
    position (ties -> the lower position); categorical clusters get the optimal assignment over
    the free labels. Labels stay unique per axis.

    Returns (positions list, sources list of 'rule' | 'continuity').
    """
    labels = spec["labels"]
    names = spec["feature_names"]
    k = len(centers_full)
    kept = continuity_matches(centers_full, spec["previous"], names, mean, std, weights,
                              labels, spec["continuity_threshold"])
    positions = [None] * k
    sources = ["rule"] * k
    for c, label in kept.items():
        positions[c] = labels.index(label)
        sources[c] = "continuity"
    taken = {pos for pos in positions if pos is not None}
    raw_means = np.asarray(raw_means, dtype=np.float64)
    if spec["kind"] == "ranked":
        rj = names.index(spec["ranking_feature"])
        rule = rank_labels(raw_means[:, rj], centers_full, labels, spec["ranking_direction"])
        for c in rank_order(raw_means[:, rj], centers_full, spec["ranking_direction"]):
            if positions[c] is not None:
                continue
            pos = nearest_free_position(rule[c], taken, len(labels))
            positions[c] = pos
            taken.add(pos)
    else:
        args = (raw_means, names, labels, spec["match_features"], spec["volume_feature"],
                spec["no_contact_threshold"])
        scores = categorical_scores(*args)
        free_rows = [c for c in range(k) if positions[c] is None]
        free_cols = [li for li in range(len(labels)) if li not in taken]
        for c, li in categorical_labels(scores, free_rows, free_cols, categorical_tiebreak(*args)).items():
            positions[c] = li
    return positions, sources


# --------------------------------------------------------------------------- discovery


def _result_skeleton(spec, n):
    return {
        "axis": spec["axis"],
        "status": "insufficient_data",
        "reason": None,
        "k": None,
        "silhouette": None,
        "silhouettes": {},
        "sample_size": int(n),
        "silhouette_sample_size": None,
        "feature_names": list(spec["feature_names"]),
        "transforms": list(spec["transforms"]),
        "mean": None,
        "std": None,
        "weights": None,
        "clusters": [],
    }


def discover(X, spec):
    """Discover the clusters of one axis. X: raw features n x p (array-like, finite) in
    spec feature order; spec: dict or JSON (see ``parse_spec``). Returns the output dict."""
    # Load scikit-learn / scipy (and with them their OpenMP and BLAS runtimes) BEFORE pinning
    # the thread pools: threadpool_limits only affects libraries already loaded, so a first
    # call in a fresh process would otherwise fit with the default thread count.
    import scipy.optimize  # noqa: F401
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    from threadpoolctl import threadpool_limits

    spec = parse_spec(spec)
    names = spec["feature_names"]
    X = to_matrix(X, names)
    n = X.shape[0]
    result = _result_skeleton(spec, n)

    T = transform(X, spec["transforms"])
    Z, mean, std, weights = standardize(T)
    if n > 0:
        result["mean"] = [float(v) for v in mean]
        result["std"] = [float(v) for v in std]
        result["weights"] = [float(v) for v in weights]
    if n < spec["min_customers"]:
        result["reason"] = "%d customers in the sample, fewer than min_customers=%d" % (n, spec["min_customers"])
        return _checked(result)
    used = np.flatnonzero(weights != 0.0)
    if used.size == 0:
        result["reason"] = "every feature is constant in the sample (no signal)"
        return _checked(result)
    Zu = np.ascontiguousarray(Z[:, used])
    n_distinct = count_distinct_rows(Zu)
    if n_distinct < spec["k_min"]:
        result["reason"] = "only %d distinct feature rows, fewer than k_min=%d" % (n_distinct, spec["k_min"])
        return _checked(result)
    ks = candidate_ks(n, n_distinct, spec["k_min"], spec["k_max"], len(spec["labels"]),
                      spec["silhouette_sample_size"])
    if not ks:
        result["reason"] = ("no valid k: k_min=%d, k_max=%d, %d labels, %d distinct rows, %d customers"
                            % (spec["k_min"], spec["k_max"], len(spec["labels"]), n_distinct, n))
        return _checked(result)

    with threadpool_limits(limits=1):
        best_k, silhouettes, fits, skipped = choose_k(
            Zu, ks, spec["random_state"], spec["n_init"], spec["silhouette_sample_size"])
    result["silhouettes"] = {str(k): float(s) for k, s in sorted(silhouettes.items())}
    result["silhouette_sample_size"] = int(min(n, spec["silhouette_sample_size"]))
    if best_k is None:
        result["reason"] = "no valid k: " + "; ".join("k=%d: %s" % item for item in sorted(skipped.items()))
        return _checked(result)

    centers_used, km_labels = fits[best_k]
    p = len(names)
    # Canonical cluster order (centre vector, lexicographic): independent of KMeans numbering.
    clusters = []
    for c in range(best_k):
        members = km_labels == c
        center = np.zeros(p)
        center[used] = centers_used[c]
        clusters.append({
            "center": center,
            "center_original": X[members].mean(axis=0),
            "size": int(members.sum()),
        })
    clusters.sort(key=lambda item: (tuple(float(v) for v in item["center"]), item["size"]))
    centers_full = np.array([item["center"] for item in clusters])
    raw_means = np.array([item["center_original"] for item in clusters])
    positions, sources = label_clusters(centers_full, raw_means, spec, weights, mean, std)

    order = sorted(range(best_k), key=lambda c: positions[c])
    out_clusters = []
    for index, c in enumerate(order):
        out_clusters.append({
            "cluster_index": index,
            "label": spec["labels"][positions[c]],
            "label_source": sources[c],
            "center": [float(v) for v in clusters[c]["center"]],
            "center_original": [float(v) for v in clusters[c]["center_original"]],
            "size": clusters[c]["size"],
        })
    result.update({
        "status": "ok",
        "k": int(best_k),
        "silhouette": float(silhouettes[best_k]),
        "clusters": out_clusters,
    })
    return _checked(result)


def _checked(result):
    """Raise on NaN/inf anywhere in the output (JSON has no place for them)."""
    def walk(value, path):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("discover_axis[%s]: non-finite value at %s" % (result.get("axis"), path))
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + "." + str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, "%s[%d]" % (path, i))
    walk(result, "$")
    return result


# --------------------------------------------------------------------------- assignment reference


def squared_distances(Z, centers, weights):
    """Weighted squared Euclidean distances n x k: sum over features j with weight != 0 of
    w_j * (z_j - c_j) * (z_j - c_j), accumulated feature by feature in catalog order (the
    same operations, in the same order, as the SQL expression)."""
    Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
    C = np.atleast_2d(np.asarray(centers, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    D = np.zeros((Z.shape[0], C.shape[0]))
    for j in np.flatnonzero(w != 0.0):
        diff = Z[:, j][:, None] - C[:, j][None, :]
        term = diff * diff
        D = D + (term if w[j] == 1.0 else w[j] * term)
    return D


def assign(Z, centers, weights):
    """Index of the nearest centre per row (ties -> lowest index, as KMeans.predict)."""
    return np.argmin(squared_distances(Z, centers, weights), axis=1)


def fuzzy_memberships(sqdist):
    """Fuzzy c-means memberships (m = 2) from squared distances (1-D: one row; 2-D: n x k).

    u_j = d_j^-2 / sum_k d_k^-2, computed as r_j / sum_k r_k with r_j = min_sq / sq_j (the
    same value, but no overflow for tiny distances). A row with a zero distance gets
    membership 1 for its first zero-distance cluster and 0 elsewhere.
    """
    D = np.asarray(sqdist, dtype=np.float64)
    single = D.ndim == 1
    D = np.atleast_2d(D)
    if D.size and (not np.all(np.isfinite(D)) or np.any(D < 0)):
        raise ValueError("fuzzy_memberships: squared distances must be finite and >= 0")
    U = np.zeros_like(D)
    zero = D == 0.0
    has_zero = zero.any(axis=1)
    if has_zero.any():
        rows = np.flatnonzero(has_zero)
        U[rows, np.argmax(zero[rows], axis=1)] = 1.0
    rest = np.flatnonzero(~has_zero)
    if rest.size:
        Dr = D[rest]
        R = Dr.min(axis=1, keepdims=True) / Dr
        U[rest] = R / R.sum(axis=1, keepdims=True)
    return U[0] if single else U


# --------------------------------------------------------------------------- entry point


def main(features, spec):
    """PL/Python entry point: features (n x p nested list, no NULLs), spec (JSON) -> JSON."""
    parsed = parse_spec(spec)
    X = to_matrix(features, parsed["feature_names"])
    return json.dumps(discover(X, parsed), allow_nan=False)
