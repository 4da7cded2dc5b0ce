"""Pure-Python tests of python_udfs/discover_axis.py (no database).

The file is loaded by path (python_udfs/ is not a package), exactly the file dbt deploys as
the body of the PL/Python function discover_axis(features, spec).
"""

import ast
import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from shopseg.core import CORE_PATH as UDF_PATH, load_core

da = load_core()

VOCAB5 = ["v0", "v1", "v2", "v3", "v4"]
COMM_LABELS = ["no_contact", "self_service", "email_preferred", "chat_preferred", "phone_preferred", "social_media"]
COMM_FEATURES = ["tickets_per_order", "share_email", "share_chat", "share_phone", "share_social", "share_help_center"]
COMM_MATCH = {
    "no_contact": "tickets_per_order",
    "self_service": "share_help_center",
    "email_preferred": "share_email",
    "chat_preferred": "share_chat",
    "phone_preferred": "share_phone",
    "social_media": "share_social",
}


def ranked_spec(names=("a", "b", "c"), transforms=None, labels=VOCAB5, ranking="a", direction="asc", **extra):
    transforms = transforms or ["none"] * len(names)
    spec = {
        "axis": "test_axis",
        "kind": "ranked",
        "features": [{"name": n, "transform": t} for n, t in zip(names, transforms)],
        "ranking_feature": ranking,
        "ranking_direction": direction,
        "labels": list(labels),
        "k_min": 2,
        "k_max": 6,
        "random_state": 11,
        "n_init": 10,
        "min_customers": 50,
        "silhouette_sample_size": 2000,
        "continuity_threshold": 0.5,
    }
    spec.update(extra)
    return spec


def blobs(centers, per_blob=200, scale=0.3, seed=0):
    """Well-separated Gaussian blobs; returns (X, planted class)."""
    rng = np.random.default_rng(seed)
    centers = np.asarray(centers, dtype=float)
    X = np.vstack([c + rng.normal(0.0, scale, size=(per_blob, centers.shape[1])) for c in centers])
    y = np.repeat(np.arange(len(centers)), per_blob)
    return X, y


THREE_BLOBS = [[0.0, 0.0, 0.0], [10.0, 0.0, 5.0], [5.0, 10.0, 0.0]]


def standardized(out, X):
    T = da.transform(np.asarray(X, float), out["transforms"])
    return (T - np.asarray(out["mean"])) / np.asarray(out["std"])


def out_centers(out):
    return np.array([c["center"] for c in out["clusters"]])


def predicted(out, X):
    return da.assign(standardized(out, X), out_centers(out), out["weights"])


def check_shape(out, spec):
    """Invariants every ok result satisfies."""
    assert out["status"] == "ok" and out["reason"] is None
    k = out["k"]
    labels = [c["label"] for c in out["clusters"]]
    assert len(labels) == k == len(set(labels))
    assert all(label in spec["labels"] for label in labels)
    positions = [spec["labels"].index(label) for label in labels]
    assert positions == sorted(positions)
    assert [c["cluster_index"] for c in out["clusters"]] == list(range(k))
    p = len(spec["features"])
    for c in out["clusters"]:
        assert len(c["center"]) == p and len(c["center_original"]) == p
    assert sum(c["size"] for c in out["clusters"]) == out["sample_size"]
    assert out["silhouette"] == max(out["silhouettes"].values())


# --------------------------------------------------------------------------- PL/Python body


def test_file_is_a_valid_plpython_body():
    """Top level: only docstring, imports, constants and defs; never binds features/spec."""
    tree = ast.parse(UDF_PATH.read_text())
    for node in tree.body:
        if isinstance(node, ast.Expr):
            assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str), ast.dump(node)
        elif isinstance(node, ast.ImportFrom):
            assert node.module != "__future__"
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            assert len(targets) == len(node.targets)
            assert not {"features", "spec"} & set(targets)
            assert isinstance(node.value, (ast.Constant, ast.Tuple, ast.Dict, ast.List)), ast.dump(node)
        elif isinstance(node, ast.FunctionDef):
            assert node.name not in ("features", "spec")
        else:
            assert isinstance(node, ast.Import), ast.dump(node)
    assert "$shopseg_udf$" not in UDF_PATH.read_text()


def test_body_runs_wrapped_like_plpython():
    """PL/Python compiles the body inside a function with the arguments as globals."""
    X, _ = blobs(THREE_BLOBS, per_blob=60)
    spec_json = json.dumps(ranked_spec())
    body = UDF_PATH.read_text() + "\nreturn main(features, spec)\n"
    wrapped = "def __plpython_procedure():\n" + "".join("    " + line + "\n" for line in body.splitlines())
    env = {"features": X.tolist(), "spec": spec_json}
    exec(compile(wrapped, "<plpython>", "exec"), env)
    assert env["__plpython_procedure"]() == da.main(X.tolist(), spec_json)


# --------------------------------------------------------------------------- numeric steps


def test_log1p_transform_is_ln_of_one_plus_x_bitwise_and_clamps_negatives():
    x = np.array([[0.0, 1e-17, 0.3, 2.5, 1e6, -3.0]]).T
    t = da.transform(x, ["log1p"])[:, 0]
    expected = np.log(1.0 + np.maximum(x[:, 0], 0.0))
    assert np.array_equal(t, expected)
    assert t[1] == 0.0  # np.log1p would give 1e-17: PostgreSQL's ln(1 + x) gives 0
    assert t[-1] == 0.0
    assert np.array_equal(da.transform(x, ["none"]), x)


def test_standardize_uses_population_std_and_flags_constant_features():
    T = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0], [6.0, 7.0]])
    Z, mean, std, weights = da.standardize(T)
    assert mean[0] == 3.0 and std[0] == np.std(T[:, 0], ddof=0)
    assert list(weights) == [1.0, 0.0]
    assert mean[1] == 7.0 and std[1] == 1.0
    assert np.all(Z[:, 1] == 0.0)


@pytest.mark.parametrize(
    "k, n_labels, expected",
    [(2, 5, [0, 4]), (3, 5, [0, 2, 4]), (4, 5, [0, 1, 3, 4]), (5, 5, [0, 1, 2, 3, 4]),
     (4, 4, [0, 1, 2, 3]), (2, 4, [0, 3]), (3, 4, [0, 2, 3]), (6, 6, [0, 1, 2, 3, 4, 5])],
)
def test_spread_positions(k, n_labels, expected):
    assert da.spread_positions(k, n_labels) == expected


def test_spread_positions_rejects_more_clusters_than_labels():
    with pytest.raises(ValueError):
        da.spread_positions(6, 5)


def test_rank_ties_are_broken_by_centroid_vector():
    centers = np.array([[0.5, 1.0], [0.5, -1.0], [-2.0, 0.0]])
    assert da.rank_order([1.0, 1.0, 1.0], centers, "asc") == [2, 1, 0]
    assert da.rank_order([1.0, 1.0, 0.0], centers, "desc") == [1, 0, 2]


def test_best_silhouette_ties_go_to_the_smaller_k():
    assert da.best_silhouette_k({2: 0.5, 3: 0.7, 4: 0.7, 5: 0.1}) == 3
    assert da.best_silhouette_k({4: 0.2, 2: 0.2}) == 2
    assert da.best_silhouette_k({2: -0.1, 3: 0.0}) == 3
    assert da.best_silhouette_k({}) is None


def test_nearest_free_position_prefers_the_lower_on_ties():
    assert da.nearest_free_position(2, set(), 5) == 2
    assert da.nearest_free_position(2, {2}, 5) == 1
    assert da.nearest_free_position(2, {1, 2}, 5) == 3
    assert da.nearest_free_position(0, {0, 1}, 5) == 2
    with pytest.raises(ValueError):
        da.nearest_free_position(0, {0, 1}, 2)


# --------------------------------------------------------------------------- discovery


def test_planted_clusters_are_recovered():
    X, y = blobs(THREE_BLOBS)
    spec = ranked_spec()
    out = da.discover(X, spec)
    check_shape(out, spec)
    assert out["k"] == 3
    assert set(out["silhouettes"]) == {"2", "3", "4", "5"}  # k <= 5 labels
    assert adjusted_rand_score(y, predicted(out, X)) == 1.0
    # ranked on raw mean of 'a' (0, 5, 10) -> spread positions 0, 2, 4
    assert [c["label"] for c in out["clusters"]] == ["v0", "v2", "v4"]
    assert [round(c["center_original"][0]) for c in out["clusters"]] == [0, 5, 10]
    assert [c["size"] for c in out["clusters"]] == [200, 200, 200]


def test_determinism_identical_json_in_process_and_in_a_fresh_interpreter():
    X, _ = blobs(THREE_BLOBS + [[0.0, 10.0, 10.0]], scale=1.5, seed=3)
    spec_json = json.dumps(ranked_spec(transforms=["log1p", "none", "log1p"]))
    first = da.main(X.tolist(), spec_json)
    assert da.main(X.tolist(), spec_json) == first
    code = (
        "import importlib.util, json, sys\n"
        "s = importlib.util.spec_from_file_location('d', sys.argv[1])\n"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        "sys.stdout.write(m.main(json.loads(sys.stdin.read()), sys.argv[2]))\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code, str(UDF_PATH), spec_json],
                           input=json.dumps(X.tolist()), capture_output=True, text=True, check=True)
    assert fresh.stdout == first


def test_labels_do_not_depend_on_row_order():
    X, _ = blobs(THREE_BLOBS + [[10.0, 10.0, 10.0]], seed=5)
    spec = ranked_spec()
    out = da.discover(X, spec)
    perm = np.random.default_rng(1).permutation(len(X))
    out_perm = da.discover(X[perm], spec)
    assert out["k"] == out_perm["k"] == 4
    # same centroid (up to summation-order rounding) -> same label, same cluster_index
    for c in out["clusters"]:
        twin = min(out_perm["clusters"], key=lambda d: np.linalg.norm(np.subtract(d["center"], c["center"])))
        assert np.allclose(twin["center"], c["center"], atol=1e-9)
        assert (twin["label"], twin["cluster_index"]) == (c["label"], c["cluster_index"])


def test_labels_do_not_depend_on_kmeans_numbering():
    X, _ = blobs(THREE_BLOBS, seed=2)
    spec = da.parse_spec(ranked_spec())
    out = da.discover(X, spec)
    centers = out_centers(out)
    raw = np.array([c["center_original"] for c in out["clusters"]])
    expected = [c["label"] for c in out["clusters"]]
    for perm in ([0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]):
        positions, _ = da.label_clusters(centers[perm], raw[perm], spec, np.array(out["weights"]),
                                         np.array(out["mean"]), np.array(out["std"]))
        assert [spec["labels"][p] for p in positions] == [expected[i] for i in perm]


def _renumbered_fit(monkeypatch, reorder):
    original = da.fit_kmeans

    def fit(Zu, k, random_state, n_init):
        centers, labels = original(Zu, k, random_state, n_init)
        perm = reorder(k)                       # new number -> old number
        inverse = np.argsort(perm)
        return centers[perm], inverse[labels]

    monkeypatch.setattr(da, "fit_kmeans", fit)


@pytest.mark.parametrize("reorder", [lambda k: np.arange(k)[::-1], lambda k: np.roll(np.arange(k), 1)])
def test_discover_output_does_not_depend_on_kmeans_numbering(monkeypatch, reorder):
    """Two clusters tie on every categorical score (tickets above the no-contact threshold but
    no channel share): which of them gets which leftover label must still not depend on how
    KMeans numbered them."""
    rng = np.random.default_rng(12)
    rows = []
    for tickets, help_center in [(0.0, 0.0), (0.3, 0.0), (0.8, 0.0), (0.5, 0.95)]:
        for _ in range(150):
            row = [tickets + (rng.uniform(0, 0.01) if tickets else 0.0), 0.0, 0.0, 0.0, 0.0, 0.0]
            if help_center:
                row[5] = help_center + rng.uniform(-0.001, 0.001)
                row[1] = 1.0 - row[5]
            rows.append(row)
    X = np.array(rows)
    X_ranked, _ = blobs(THREE_BLOBS + [[10.0, 10.0, 10.0]], seed=5)
    expected = [da.main(X.tolist(), comm_spec()), da.main(X_ranked.tolist(), ranked_spec())]
    assert json.loads(expected[0])["k"] == 4
    _renumbered_fit(monkeypatch, reorder)
    assert [da.main(X.tolist(), comm_spec()), da.main(X_ranked.tolist(), ranked_spec())] == expected


def test_desc_direction_reverses_the_labels():
    X, _ = blobs(THREE_BLOBS)
    asc = da.discover(X, ranked_spec(direction="asc"))
    desc = da.discover(X, ranked_spec(direction="desc"))
    by_a_asc = {round(c["center_original"][0]): c["label"] for c in asc["clusters"]}
    by_a_desc = {round(c["center_original"][0]): c["label"] for c in desc["clusters"]}
    assert by_a_asc == {0: "v0", 5: "v2", 10: "v4"}
    assert by_a_desc == {0: "v4", 5: "v2", 10: "v0"}


def test_k_is_capped_by_the_vocabulary():
    X, _ = blobs(THREE_BLOBS + [[10.0, 10.0, 10.0], [-10.0, 5.0, 0.0]])
    spec = ranked_spec(labels=["low", "high"])
    out = da.discover(X, spec)
    check_shape(out, spec)
    assert out["k"] == 2 and set(out["silhouettes"]) == {"2"}
    assert [c["label"] for c in out["clusters"]] == ["low", "high"]


def test_constant_feature_gets_weight_zero_and_a_zero_center():
    X, y = blobs([[0.0, 0.0], [10.0, 10.0]], per_blob=100)
    X = np.column_stack([X[:, 0], np.full(len(X), 4.25), X[:, 1]])
    spec = ranked_spec(transforms=["none", "log1p", "none"])
    out = da.discover(X, spec)
    check_shape(out, spec)
    assert out["weights"] == [1.0, 0.0, 1.0]
    assert out["std"][1] == 1.0 and out["mean"][1] == float(np.log(1.0 + 4.25))
    assert all(c["center"][1] == 0.0 for c in out["clusters"])
    assert all(c["center_original"][1] == 4.25 for c in out["clusters"])
    assert adjusted_rand_score(y, predicted(out, X)) == 1.0


def test_all_identical_axis_is_insufficient_data():
    X = np.tile([1.0, 2.0, 3.0], (500, 1))
    out = da.discover(X, ranked_spec())
    assert out["status"] == "insufficient_data"
    assert "constant" in out["reason"]
    assert out["clusters"] == [] and out["k"] is None and out["weights"] == [0.0, 0.0, 0.0]


def test_too_few_rows_is_insufficient_data():
    X, _ = blobs(THREE_BLOBS, per_blob=10)
    out = json.loads(da.main(X.tolist(), ranked_spec(min_customers=50)))
    assert out["status"] == "insufficient_data"
    assert "30 customers" in out["reason"] and out["clusters"] == []
    assert da.discover(X, ranked_spec(min_customers=30))["status"] == "ok"


def test_no_rows_is_insufficient_data():
    out = json.loads(da.main([], ranked_spec()))
    assert out["status"] == "insufficient_data" and out["sample_size"] == 0 and out["mean"] is None


def test_two_distinct_rows_leave_no_valid_k():
    X = np.column_stack([np.repeat([0.0, 1.0], 100), np.full(200, 3.0), np.full(200, 1.0)])
    out = da.discover(X, ranked_spec())
    assert out["status"] == "insufficient_data" and out["reason"].startswith("no valid k")


# --------------------------------------------------------------------------- categorical


def comm_data(seed=0, per_group=150):
    """Groups: no contact, help center, email, chat (tickets per order, then channel shares)."""
    rng = np.random.default_rng(seed)
    rows, groups = [], []
    profiles = {
        "no_contact": (0.0, None),
        "self_service": (0.6, "share_help_center"),
        "email_preferred": (0.5, "share_email"),
        "chat_preferred": (0.7, "share_chat"),
    }
    for g, (tpo, channel) in enumerate(profiles.values()):
        for _ in range(per_group):
            row = dict.fromkeys(COMM_FEATURES, 0.0)
            if channel is None:
                row["tickets_per_order"] = float(rng.choice([0.0, 0.0, 0.0, 0.01]))
            else:
                row["tickets_per_order"] = tpo + rng.uniform(-0.1, 0.1)
                share = rng.uniform(0.8, 1.0)
                row[channel] = share
                row["share_phone"] = 1.0 - share
            rows.append([row[f] for f in COMM_FEATURES])
            groups.append(g)
    return np.array(rows), np.array(groups), list(profiles)


def comm_spec(**extra):
    spec = {
        "axis": "communication_preference",
        "kind": "categorical",
        "features": [{"name": f, "transform": "log1p" if f == "tickets_per_order" else "none"} for f in COMM_FEATURES],
        "ranking_feature": "tickets_per_order",
        "ranking_direction": "asc",
        "labels": COMM_LABELS,
        "match_features": COMM_MATCH,
        "random_state": 3,
        "no_contact_threshold": 0.05,
    }
    spec.update(extra)
    return spec


def test_categorical_labels_follow_the_dominant_channel():
    X, groups, names = comm_data()
    spec = comm_spec()
    out = da.discover(X, spec)
    check_shape(out, spec)
    assert out["k"] == 4
    pred = predicted(out, X)
    assert adjusted_rand_score(groups, pred) == 1.0
    label_of_group = {names[g]: out["clusters"][pred[groups == g][0]]["label"] for g in range(4)}
    assert label_of_group == {n: n for n in names}


def test_categorical_scores_and_assignment_keep_labels_unique():
    means = np.zeros((3, 6))
    means[0, 0] = 0.01                     # nearly no tickets
    means[1, 0] = 0.02                     # nearly no tickets too: only one may be no_contact
    means[2, 0], means[2, 5] = 0.4, 0.9    # help center
    scores = da.categorical_scores(means, COMM_FEATURES, COMM_LABELS, COMM_MATCH, "tickets_per_order", 0.05)
    assert list(scores[:, 0]) == [1.0, 1.0, -1.0] and scores[2, 1] == 0.9
    assignment = da.categorical_labels(scores)
    assert assignment[2] == COMM_LABELS.index("self_service")
    assert sorted(assignment.values()) == sorted(set(assignment.values()))
    assert COMM_LABELS.index("no_contact") in (assignment[0], assignment[1])
    # the tie-break gives no_contact to the cluster with fewer tickets, whatever the row order
    tiebreak = da.categorical_tiebreak(means, COMM_FEATURES, COMM_LABELS, COMM_MATCH, "tickets_per_order", 0.05)
    assert np.allclose(tiebreak[:, 0], [-0.2, -0.4, -1.0]) and not tiebreak[:, 1:].any()
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        got = da.categorical_labels(scores[order], tiebreak=tiebreak[order])
        assert got[order.index(0)] == COMM_LABELS.index("no_contact")
        assert got[order.index(2)] == COMM_LABELS.index("self_service")


# --------------------------------------------------------------------------- continuity


def previous_from(out):
    return [{"label": c["label"], "center": c["center"], "mean": out["mean"], "std": out["std"],
             "feature_names": out["feature_names"]} for c in out["clusters"]]


def test_continuity_keeps_previous_labels_on_perturbed_data():
    X, _ = blobs(THREE_BLOBS, seed=4)
    first = da.discover(X, ranked_spec())
    # a previous version that named the clusters differently from today's rule
    swapped = previous_from(first)
    swapped[0]["label"], swapped[2]["label"] = swapped[2]["label"], swapped[0]["label"]
    X2 = X + np.random.default_rng(9).normal(0.0, 0.05, size=X.shape)
    rule = da.discover(X2, ranked_spec())
    kept = da.discover(X2, ranked_spec(previous=swapped))
    by_a = lambda out: {round(c["center_original"][0]): c["label"] for c in out["clusters"]}  # noqa: E731
    assert by_a(rule) == {0: "v0", 5: "v2", 10: "v4"}
    assert by_a(kept) == {0: "v4", 5: "v2", 10: "v0"}
    assert all(c["label_source"] == "continuity" for c in kept["clusters"])
    same = da.discover(X2, ranked_spec(previous=previous_from(first)))
    assert by_a(same) == by_a(first)


def test_continuity_ignores_far_previous_centroids_and_fills_free_labels():
    X, _ = blobs(THREE_BLOBS, seed=4)
    first = da.discover(X, ranked_spec())
    prev = previous_from(first)
    prev[0]["label"] = "v3"                                  # a close match keeps v3
    prev[1]["center"] = [c + 3.0 for c in prev[1]["center"]]  # too far: rule label
    prev[2]["label"] = "not_in_vocabulary"                   # unknown: rule label
    out = da.discover(X, ranked_spec(previous=prev))
    check_shape(out, ranked_spec())
    by_a = {round(c["center_original"][0]): (c["label"], c["label_source"]) for c in out["clusters"]}
    assert by_a == {0: ("v3", "continuity"), 5: ("v2", "rule"), 10: ("v4", "rule")}


def test_continuity_rule_labels_skip_taken_positions():
    X, _ = blobs(THREE_BLOBS, seed=4)
    first = da.discover(X, ranked_spec())
    prev = previous_from(first)[1:2]  # only the middle cluster (a ~ 5) ...
    prev[0]["label"] = "v0"           # ... previously called v0
    out = da.discover(X, ranked_spec(previous=prev))
    by_a = {round(c["center_original"][0]): c["label"] for c in out["clusters"]}
    assert by_a == {0: "v1", 5: "v0", 10: "v4"}  # v0 taken -> nearest free position


# --------------------------------------------------------------------------- assignment reference


def test_assign_equals_sklearn_predict():
    X, _ = blobs(THREE_BLOBS + [[10.0, 10.0, 10.0]], scale=2.5, seed=6)
    X = np.column_stack([X, np.full(len(X), 2.0)])  # a weight-0 feature
    spec = ranked_spec(names=("a", "b", "c", "d"), transforms=["none", "log1p", "none", "none"])
    out = da.discover(X, spec)
    assert out["weights"][3] == 0.0 and out["k"] >= 3
    rng = np.random.default_rng(7)
    new = np.abs(X + rng.normal(0.0, 3.0, size=X.shape))  # the population: also varies d
    Z = standardized(out, new)
    used = np.array(out["weights"]) == 1.0
    C = out_centers(out)[:, used]
    km = KMeans(n_clusters=len(C), init=C, n_init=1, max_iter=1).fit(C)
    km.cluster_centers_ = C.copy()
    expected = km.predict(np.ascontiguousarray(Z[:, used]))
    got = da.assign(Z, out_centers(out), out["weights"])
    assert np.array_equal(got, expected)
    assert len(np.unique(got)) == len(C)


def test_assign_ties_go_to_the_lowest_index():
    centers = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 5.0]])
    assert list(da.assign([[0.0, 0.0], [0.0, 9.0], [-2.0, 0.0]], centers, [1.0, 1.0])) == [0, 2, 1]
    assert list(da.assign([[0.0, 3.0]], [[0.0, 0.0], [0.0, 1.0]], [1.0, 0.0])) == [0]


def test_fuzzy_memberships():
    rng = np.random.default_rng(8)
    D = rng.uniform(0.01, 20.0, size=(1000, 5))
    U = da.fuzzy_memberships(D)
    assert np.all(np.abs(U.sum(axis=1) - 1.0) <= 1e-12)
    assert np.array_equal(U.argmax(axis=1), D.argmin(axis=1))
    inv = 1.0 / D
    assert np.allclose(U, inv / inv.sum(axis=1, keepdims=True), rtol=1e-12, atol=0)
    assert list(da.fuzzy_memberships([4.0, 0.0, 0.0, 1.0])) == [0.0, 1.0, 0.0, 0.0]
    assert list(da.fuzzy_memberships([1.0, 1.0])) == [0.5, 0.5]
    tiny = da.fuzzy_memberships([1e-320, 2e-320, 1.0])
    assert np.all(np.isfinite(tiny)) and abs(tiny.sum() - 1.0) <= 1e-12
    with pytest.raises(ValueError):
        da.fuzzy_memberships([1.0, -1.0])


# --------------------------------------------------------------------------- entry point


def test_main_round_trips_json_for_string_and_dict_specs():
    X, _ = blobs(THREE_BLOBS, per_blob=50)
    spec = ranked_spec()
    text = da.main(X.tolist(), json.dumps(spec))
    assert isinstance(text, str) and "NaN" not in text and "Infinity" not in text
    out = json.loads(text)
    assert da.main(X.tolist(), spec) == text
    assert json.dumps(out, allow_nan=False) == text
    assert out == da.discover(X, spec)
    assert set(out) >= {"axis", "status", "reason", "k", "silhouette", "silhouettes", "sample_size",
                        "feature_names", "transforms", "mean", "std", "weights", "clusters"}
    assert set(out["clusters"][0]) >= {"cluster_index", "label", "center", "center_original", "size"}
    assert out["axis"] == "test_axis" and out["feature_names"] == ["a", "b", "c"]


def test_main_rejects_null_features_naming_the_feature():
    rows = [[1.0, 2.0, 3.0]] * 60 + [[1.0, None, 3.0]]
    with pytest.raises(ValueError, match=r"feature 'b' is NULL in row 60"):
        da.main(rows, ranked_spec())
    with pytest.raises(ValueError, match=r"feature 'c'.*nan"):
        da.main([[1.0, 2.0, float("nan")]], ranked_spec())
    with pytest.raises(ValueError, match=r"must have 3 values"):
        da.main([[1.0, 2.0]], ranked_spec())


@pytest.mark.parametrize(
    "change, message",
    [({"ranking_feature": "zzz"}, "ranking_feature"),
     ({"kind": "fuzzy"}, "kind"),
     ({"features": [{"name": "a", "transform": "sqrt"}]}, "transform"),
     ({"labels": ["only"]}, "fewer than k_min"),
     ({"kind": "categorical"}, "match_features")],
)
def test_bad_spec_is_rejected_clearly(change, message):
    with pytest.raises(ValueError, match=message):
        da.main([[1.0, 2.0, 3.0]], {**ranked_spec(), **change})
