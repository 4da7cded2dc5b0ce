"""Numeric core of centroid discovery for one segmentation axis (docs/spec.md §5-8).

This file has two lives:

* dbt's ``functions`` resource deploys it as the BODY of the PL/Python function
  ``discover_axis(features double precision[], spec jsonb) RETURNS jsonb`` followed by
  ``return main(features, spec)``. PL/Python wraps the body in a Python function, so this
  file holds only imports, constants and definitions (no statement with side effects, no
  ``from __future__``, no ``if __name__``), and never binds the names ``features`` or
  ``spec`` at top level (they are the PL/Python argument globals).
* pytest imports it directly (tests/test_discover_core.py), and the client-side benchmark
  pipeline reuses ``assign`` and ``fuzzy_memberships`` as reference implementations.

Names are true by construction (docs/labels.md). Every label of an axis has a definition in
original units: a list of conditions ``lower <= feature < upper`` that must all hold
(seeds/segment_label_definitions.csv). A point gets the FIRST label, in vocabulary order, whose
conditions hold; ``parse_spec`` proves that every point gets one (no gaps).

Pipeline of ``discover(X, spec)`` (X = raw features, n x p, in ``spec["features"]`` order):

1. transform: ``log1p`` -> ``np.log(1.0 + np.maximum(x, 0.0))`` (deliberately not
   ``np.log1p``: it matches PostgreSQL's ``ln(1 + greatest(x, 0))`` bit for bit);
   ``none`` -> x.
2. standardize: z = (t - mean) / std, sample mean, population std (ddof=0). A feature whose
   std is < 1e-12 is unusable: weight 0, mean = its value, std = 1, centre component 0.
   A used feature's weight is its catalog weight (default 1).
3. insufficient data (no clusters, a ``reason``): n < min_customers or every weight 0.
4. seeding from the definitions: every sample member gets its definition label; the labels
   held by at least ``min_cluster_share`` of the sample (at most k_max of them, the most
   populated) are the candidate segments, and the mean of their members (standardized,
   weighted space) is KMeans' initial centre. KMeans (Lloyd, this explicit init, one run)
   then moves the centres to where the data's clusters are.
5. naming: a cluster's centroid in original units is the per-feature MEDIAN of its members (a
   typical member, robust to whales); it gets the label whose definition it satisfies.
   Two clusters with the same label are merged, a cluster under ``min_cluster_share`` is
   dropped, and KMeans is run again from the remaining centres, until every cluster has its
   own label and enough members. So k is the number of distinct behaviours the sample holds
   (k_max at most; 1 when the whole shop is one segment) and no published centroid
   contradicts its label.
6. placement (``place_centres``): the named centres are moved so that the nearest-centre
   boundaries fall where the definitions cut: gradient descent (``placement_steps`` fixed steps)
   on the cross-entropy of the soft nearest-centre assignment exp(-beta |z - c|^2) against each
   member's own definition label, from Lloyd's centres. The iterate kept is the one with the
   highest truthfulness among those that keep every cluster's name (its members' median still
   satisfies its definition) and min_cluster_share; Lloyd's centres when none is truer. Lloyd
   puts a boundary halfway between two neighbours' means, which on a skewed feature is far from
   the cut (purchase_value: 92% of the sample on the side of its own definition, 98% placed).
7. clusters are output in vocabulary order; ``cluster_index`` 0..k-1 follows that order
   (never KMeans' numbering).

Determinism: the initial centres are a function of the sample, Lloyd's iterations and the
placement's fixed gradient steps are deterministic, the silhouette (reported, not used for the choice) samples with
``random_state``, and the BLAS/OpenMP thread pools are pinned to one thread during the fit
(``threadpool_limits(1)``): scikit-learn's Lloyd iteration sums per-thread partial centre sums,
so its last bits would otherwise depend on the number of threads.
"""

import json
import math

import numpy as np

STD_EPS = 1e-12
TRANSFORMS = ("none", "log1p")
SPEC_DEFAULTS = {
    "k_max": 6,
    "random_state": 0,
    "min_customers": 50,
    "min_cluster_share": 0.02,
    "silhouette_sample_size": 2000,
    "max_iter": 300,
    "placement_steps": 100,
    "placement_beta": 16.0,
    "placement_rate": 2.0,
}


# --------------------------------------------------------------------------- spec / input


def _bound(value, label, feature, fail):
    """A definition bound: None / '' = unbounded, else a finite number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        fail("label %r, feature %r: bound %r is not a number" % (label, feature, value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail("label %r, feature %r: bound %r is not a number" % (label, feature, value))
    if not math.isfinite(number):
        fail("label %r, feature %r: bound %r is not finite" % (label, feature, value))
    return number


def parse_definitions(raw, labels, names, fail):
    """{label: [(feature index, lower or None, upper or None), ...]} for every label.

    ``raw`` maps each label to a list of ``{feature, min, max}`` (or ``[feature, min, max]``).
    Every label needs at least one condition on one of the axis features, lower < upper.
    """
    if not isinstance(raw, dict):
        fail("spec.definitions must map every label to its conditions")
    out = {}
    for label in labels:
        conditions = raw.get(label)
        if not isinstance(conditions, list) or not conditions:
            fail("label %r has no definition (seeds/segment_label_definitions.csv)" % label)
        parsed = []
        for item in conditions:
            if isinstance(item, dict):
                feature, lower, upper = item.get("feature"), item.get("min"), item.get("max")
            elif isinstance(item, (list, tuple)) and len(item) == 3:
                feature, lower, upper = item
            else:
                fail("label %r: a condition must be {feature, min, max}, got %r" % (label, item))
            if feature not in names:
                fail("label %r is defined on %r, which is not one of the axis features %s" % (label, feature, names))
            lower = _bound(lower, label, feature, fail)
            upper = _bound(upper, label, feature, fail)
            if lower is None and upper is None:
                fail("label %r: the condition on %r has neither a lower nor an upper bound" % (label, feature))
            if lower is not None and upper is not None and not lower < upper:
                fail("label %r: the condition on %r needs min < max (got %r, %r)" % (label, feature, lower, upper))
            parsed.append((names.index(feature), lower, upper))
        out[label] = parsed
    unknown = sorted(set(raw) - set(labels))
    if unknown:
        fail("definitions for labels that are not in the vocabulary: %s" % ", ".join(unknown))
    return out


def definition_gap(definitions, labels, p):
    """A point (list of p values) that no label's definition covers, or None.

    Conditions are axis-aligned half-open intervals, so checking one point per cell of the grid
    formed by all the bounds of each feature is a complete proof of coverage."""
    import itertools

    cuts = [set() for _ in range(p)]
    for label in labels:
        for j, lower, upper in definitions[label]:
            cuts[j].update(b for b in (lower, upper) if b is not None)
    representatives = []
    for j in range(p):
        points = sorted(cuts[j])
        if not points:
            representatives.append([0.0])
            continue
        reps = [points[0] - 1.0] + points[:]
        reps += [(a + b) / 2.0 for a, b in zip(points, points[1:])]
        representatives.append(sorted(reps))
    for point in itertools.product(*representatives):
        row = np.asarray(point, dtype=np.float64)[None, :]
        if definition_labels(row, definitions, labels)[0] < 0:
            return list(point)
    return None


def parse_spec(raw_spec):
    """Validate the spec (JSON string, bytes or dict) and fill defaults. Returns a new dict
    (a spec this function returned is returned as it is)."""
    if isinstance(raw_spec, dict) and raw_spec.get("parsed") is True:
        return raw_spec
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
    names, transforms, catalog_weights = [], [], []
    for item in feats:
        if isinstance(item, str):
            item = {"name": item, "transform": "none"}
        if not isinstance(item, dict) or not item.get("name"):
            fail("every spec.features entry needs a name")
        transform_name = item.get("transform") or "none"
        if transform_name not in TRANSFORMS:
            fail(
                "feature %r has unknown transform %r (expected one of %s)"
                % (item["name"], transform_name, ", ".join(TRANSFORMS))
            )
        weight = item.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
            fail("feature %r: weight must be a positive number, got %r" % (item["name"], weight))
        names.append(str(item["name"]))
        transforms.append(transform_name)
        catalog_weights.append(float(weight))
    if len(set(names)) != len(names):
        fail("duplicate feature names in spec.features")
    out["feature_names"] = names
    out["transforms"] = transforms
    out["catalog_weights"] = catalog_weights

    labels = out.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        fail("spec.labels must be a non-empty list of label strings")
    if len(set(labels)) != len(labels):
        fail("duplicate labels in the vocabulary")

    for key in ("k_max", "min_customers", "silhouette_sample_size", "random_state", "max_iter", "placement_steps"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            fail("%s must be an integer, got %r" % (key, value))
        out[key] = int(value)
    if out["k_max"] < 1:
        fail("k_max must be >= 1 (got %d)" % out["k_max"])
    if out["silhouette_sample_size"] < 3 or out["min_customers"] < 0 or out["max_iter"] < 1:
        fail("silhouette_sample_size must be >= 3, min_customers >= 0, max_iter >= 1")
    if out["placement_steps"] < 0:
        fail("placement_steps must be >= 0 (0: keep Lloyd's centres)")
    for key in ("placement_beta", "placement_rate"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            fail("%s must be a positive number, got %r" % (key, value))
        out[key] = float(value)
    share = out["min_cluster_share"]
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share < 0.5:
        fail("min_cluster_share must be a number in [0, 0.5), got %r" % (share,))
    out["min_cluster_share"] = float(share)

    out["definitions"] = parse_definitions(out.get("definitions"), labels, names, fail)
    gap = definition_gap(out["definitions"], labels, len(names))
    if gap is not None:
        fail(
            "the label definitions leave a gap: no label covers %s"
            % ", ".join("%s=%g" % (name, value) for name, value in zip(names, gap))
        )
    missing = out.get("missing_signals") or []
    if not isinstance(missing, list) or not all(isinstance(x, str) for x in missing):
        fail("missing_signals must be a list of signal names")
    out["missing_signals"] = missing
    out["parsed"] = True
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
                raise ValueError(
                    "discover_axis: features row %d must have %d values (%s), got %r"
                    % (i, p, ", ".join(feature_names), row)
                )
            for j, value in enumerate(row):
                if value is None:
                    raise ValueError(
                        "discover_axis: feature %r is NULL in row %d; the SQL layer "
                        "must pass non-null features" % (feature_names[j], i)
                    )
                arr[i, j] = float(value)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            "discover_axis: feature %r is %s in row %d (NULL or non-finite); the SQL "
            "layer must pass finite features" % (feature_names[j], arr[i, j], i)
        )
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
    """(Z, mean, std, usable) with z = (t - mean) / std, ddof=0.

    A feature with std < 1e-12 is unusable (usable 0), std 1 and mean = its value (the column's
    first value when it is exactly constant), so its z is ~0 and it never enters a distance.
    """
    T = np.asarray(T, dtype=np.float64)
    n, p = T.shape
    mean = np.zeros(p)
    std = np.ones(p)
    usable = np.zeros(p)
    if n == 0:
        return np.zeros((0, p)), mean, std, usable
    for j in range(p):
        col = T[:, j]
        m = float(np.mean(col))
        s = float(np.std(col))
        if s < STD_EPS or not math.isfinite(s):
            mean[j] = float(col[0]) if bool(np.all(col == col[0])) else m
            std[j] = 1.0
        else:
            mean[j] = m
            std[j] = s
            usable[j] = 1.0
    Z = (T - mean) / std
    return Z, mean, std, usable


def definition_labels(X, definitions, labels):
    """Vocabulary position of the first label whose conditions all hold, per row (-1: none)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    out = np.full(X.shape[0], -1, dtype=np.int64)
    for position, label in enumerate(labels):
        hold = np.ones(X.shape[0], dtype=bool)
        for j, lower, upper in definitions[label]:
            if lower is not None:
                hold &= X[:, j] >= lower
            if upper is not None:
                hold &= X[:, j] < upper
        out[(out < 0) & hold] = position
    return out


def contradictions(label, center_original, definitions, names):
    """The conditions of ``label``'s definition that ``center_original`` violates (list of text)."""
    out = []
    for j, lower, upper in definitions[label]:
        value = float(center_original[j])
        if (lower is not None and value < lower) or (upper is not None and value >= upper):
            out.append(
                "%s = %g is outside [%s, %s)"
                % (names[j], value, "-inf" if lower is None else "%g" % lower, "inf" if upper is None else "%g" % upper)
            )
    return out


def nearest(Zw, centers):
    """Index of the nearest centre per row (ties -> lowest index, as KMeans.predict)."""
    d = ((Zw[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d, axis=1)


def name_clusters(X, assigned, k, spec):
    """(sizes, medians in original units, label position per cluster from its median)."""
    sizes = np.bincount(assigned, minlength=k)
    medians = np.full((k, X.shape[1]), np.nan)
    positions = [-1] * k
    for c in range(k):
        if sizes[c]:
            medians[c] = np.median(X[assigned == c], axis=0)
            positions[c] = int(definition_labels(medians[c], spec["definitions"], spec["labels"])[0])
    return sizes, medians, positions


def truthfulness(member_positions, assigned, positions):
    """Share of members whose own definition label is their cluster's label."""
    return float(np.mean(member_positions == np.asarray(positions)[assigned]))


def guided_lloyd(X, Zw, init, member_positions, spec):
    """Lloyd's iterations from ``init`` while they make the clusters truer to their names.

    Each step is a KMeans step (assign to the nearest centre, move centres to their members'
    mean). The fit stops at convergence, after max_iter steps, or at the first step that lowers
    the share of members whose own definition label is their cluster's label: the product
    promise is that members match their segment's name, and plain Lloyd on skewed features
    happily trades that for compactness (e.g. a cluster of heavy refunders splitting low_value).
    Returns (centers, assigned, sizes, medians, positions, truthfulness)."""
    centers = np.array(init, dtype=np.float64)
    assigned = nearest(Zw, centers)
    sizes, medians, positions = name_clusters(X, assigned, len(centers), spec)
    score = truthfulness(member_positions, assigned, positions)
    for _ in range(spec["max_iter"]):
        moved = np.array([Zw[assigned == c].mean(axis=0) if sizes[c] else centers[c] for c in range(len(centers))])
        step = nearest(Zw, moved)
        if np.array_equal(step, assigned):
            centers = moved
            break
        step_sizes, step_medians, step_positions = name_clusters(X, step, len(moved), spec)
        step_score = truthfulness(member_positions, step, step_positions)
        if step_score < score:
            break
        centers, assigned, sizes, medians, positions, score = (
            moved,
            step,
            step_sizes,
            step_medians,
            step_positions,
            step_score,
        )
    return centers, assigned, sizes, medians, positions, score


def seed_groups(member_positions, min_size, k_max):
    """Vocabulary positions that seed the clusters: those held by >= min_size members, at most
    k_max of them (the most populated; ties -> vocabulary order), in vocabulary order."""
    positions, counts = np.unique(member_positions[member_positions >= 0], return_counts=True)
    held = [(int(c), int(pos)) for pos, c in zip(positions, counts) if c >= min_size]
    held.sort(key=lambda item: (-item[0], item[1]))
    return sorted(pos for _, pos in held[:k_max])


def refine(X, Zw, groups, member_positions, spec, min_size):
    """Guided Lloyd from the group means, then name, merge and drop until every cluster has its
    own label and at least min_size members. ``groups``: list of boolean member masks.

    Returns (centers in Zw space, member clusters, label position per cluster, medians, truthfulness)."""
    for _ in range(len(groups) + 1):
        init = np.array([Zw[mask].mean(axis=0) for mask in groups])
        centers, assigned, sizes, medians, positions, score = guided_lloyd(X, Zw, init, member_positions, spec)
        k = centers.shape[0]
        small = [c for c in range(k) if sizes[c] < min_size]
        if small and k > 1:
            drop = min(small, key=lambda c: (sizes[c], c))
            groups = [assigned == c for c in range(k) if c != drop and sizes[c]]
            continue
        by_label = {}
        for c in range(k):
            by_label.setdefault(positions[c], []).append(c)
        clash = [members for members in by_label.values() if len(members) > 1]
        if clash:
            merged = clash[0]
            groups = [np.isin(assigned, merged)] + [assigned == c for c in range(k) if c not in merged]
            continue
        return centers, assigned, positions, medians, score
    raise RuntimeError("discover_axis[%s]: naming did not converge" % spec["axis"])


def place_centres(X, Zw, centers, assigned, positions, member_positions, spec, min_size):
    """Move the centres so that nearest-centre boundaries fall where the definitions cut.

    The naming rule says what a segment means; Lloyd's centres put the boundary between two
    neighbours halfway between their means, which is rarely the definition's cut. Here the
    centres are fitted as prototypes: gradient descent on the cross-entropy of the soft
    nearest-centre assignment p_ic ~ exp(-beta * |x_i - c|^2) against each member's own
    definition label (members whose label has no segment do not vote), starting from Lloyd's
    centres. The iterate kept is the one with the highest truthfulness (hard nearest-centre
    assignment) among those whose every segment keeps its name (its members' median still
    satisfies its definition) and at least min_size members; Lloyd's centres when none beats them.
    Deterministic (fixed steps, no randomness)."""
    k = centers.shape[0]
    steps = spec["placement_steps"]
    if k < 2 or steps <= 0:
        return None
    cluster_of = {positions[c]: c for c in range(k)}
    target = np.array([cluster_of.get(int(p), -1) for p in member_positions])
    voters = target >= 0
    Zt = Zw[voters]
    ZtT = np.ascontiguousarray(Zt.T)
    Y = np.zeros((k, Zt.shape[0]))  # k x members layout: the reductions run along long rows
    Y[target[voters], np.arange(Zt.shape[0])] = 1.0
    beta = spec["placement_beta"]
    rate = spec["placement_rate"] / beta
    C = np.array(centers, dtype=np.float64)
    best_score = truthfulness(member_positions, assigned, positions)
    best = None
    m = float(Zt.shape[0])
    for step in range(1, steps + 1):
        # -beta |x - c|^2 up to a per-member constant (beta |x|^2), which the softmax ignores
        logits = beta * (2.0 * (C @ ZtT) - (C * C).sum(axis=1)[:, None])
        logits -= logits.max(axis=0)
        P = np.exp(logits)
        P /= P.sum(axis=0)
        G = P - Y  # d loss / d logit
        # d logit_ci / d c = 2 beta (x_i - c)
        grad = 2.0 * beta * (G @ Zt - G.sum(axis=1)[:, None] * C) / m
        C = C - rate * grad
        if step % 25 and step != steps:
            continue
        step_assigned = nearest(Zw, C)
        sizes, medians, step_positions = name_clusters(X, step_assigned, k, spec)
        if list(step_positions) != list(positions) or sizes.min() < min_size:
            continue
        score = truthfulness(member_positions, step_assigned, step_positions)
        if score > best_score:
            best_score = score
            best = (C.copy(), step_assigned, step_positions, medians, score)
    return best


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
        "definition_shares": {},
        "clusters": [],
    }


def silhouette(Zw, assigned, spec):
    """Silhouette of the final partition on a seeded sample (reported; None when undefined)."""
    from sklearn.metrics import silhouette_score

    n = Zw.shape[0]
    k = int(np.unique(assigned).shape[0])
    if k < 2 or k >= min(n, spec["silhouette_sample_size"]):
        return None
    size = None if n <= spec["silhouette_sample_size"] else spec["silhouette_sample_size"]
    try:
        value = float(silhouette_score(Zw, assigned, sample_size=size, random_state=spec["random_state"]))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def discover(X, spec):
    """Discover the clusters of one axis. X: raw features n x p (array-like, finite) in
    spec feature order; spec: dict or JSON (see ``parse_spec``). Returns the output dict."""
    # Load scikit-learn (and with it its OpenMP and BLAS runtimes) BEFORE pinning the thread
    # pools: threadpool_limits only affects libraries already loaded.
    import sklearn.cluster
    import sklearn.metrics  # noqa: F401
    from threadpoolctl import threadpool_limits

    spec = parse_spec(spec)
    names, labels = spec["feature_names"], spec["labels"]
    X = to_matrix(X, names)
    n = X.shape[0]
    result = _result_skeleton(spec, n)

    T = transform(X, spec["transforms"])
    Z, mean, std, usable = standardize(T)
    weights = usable * np.asarray(spec["catalog_weights"])
    if n > 0:
        result["mean"] = [float(v) for v in mean]
        result["std"] = [float(v) for v in std]
        result["weights"] = [float(v) for v in weights]
    if spec["missing_signals"]:
        result["reason"] = "no signal: " + "; ".join(spec["missing_signals"])
        return _checked(result)
    if n < spec["min_customers"]:
        result["reason"] = "%d customers in the sample, fewer than min_customers=%d" % (n, spec["min_customers"])
        return _checked(result)
    if not weights.any():
        result["reason"] = "every feature is constant in the sample (no signal)"
        return _checked(result)

    member_positions = definition_labels(X, spec["definitions"], labels)
    shares = np.bincount(member_positions, minlength=len(labels)) / float(n)
    result["definition_shares"] = {labels[i]: float(shares[i]) for i in range(len(labels))}
    min_size = max(2, int(math.ceil(spec["min_cluster_share"] * n)))
    seeds = seed_groups(member_positions, min_size, spec["k_max"])
    if not seeds:
        result["reason"] = "no label's definition holds for at least %d sample customers (min_cluster_share=%g)" % (
            min_size,
            spec["min_cluster_share"],
        )
        return _checked(result)

    # KMeans runs in the weighted standardized space (distance = sum_j w_j (z_j - c_j)^2).
    root_w = np.sqrt(weights)
    Zw = np.ascontiguousarray(Z * root_w)
    with threadpool_limits(limits=1):
        centers_w, assigned, positions, medians, score = refine(
            X, Zw, [member_positions == pos for pos in seeds], member_positions, spec, min_size
        )
        placed = place_centres(X, Zw, centers_w, assigned, positions, member_positions, spec, min_size)
        if placed is not None:
            centers_w, assigned, positions, medians, score = placed
        sil = silhouette(Zw, assigned, spec)
    k = centers_w.shape[0]
    # back to the unweighted standardized space the SQL assignment uses (0 where the weight is 0)
    centers = np.zeros_like(centers_w)
    used = root_w > 0
    centers[:, used] = centers_w[:, used] / root_w[used]

    out_clusters = []
    for index, c in enumerate(sorted(range(k), key=lambda c: positions[c])):
        label = labels[positions[c]]
        broken = contradictions(label, medians[c], spec["definitions"], names)
        if broken:  # cannot happen: the label was read off the median; kept as a guard
            raise RuntimeError(
                "discover_axis[%s]: %s contradicts its definition: %s" % (spec["axis"], label, "; ".join(broken))
            )
        out_clusters.append(
            {
                "cluster_index": index,
                "label": label,
                "label_source": "definition",
                "center": [float(v) for v in centers[c]],
                "center_original": [float(v) for v in medians[c]],
                "size": int((assigned == c).sum()),
            }
        )
    result.update(
        {
            "status": "ok",
            "k": int(k),
            "silhouette": sil,
            "truthfulness": score,
            "silhouette_sample_size": int(min(n, spec["silhouette_sample_size"])),
            "clusters": out_clusters,
        }
    )
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
    return json.dumps(discover(features, spec), allow_nan=False)
