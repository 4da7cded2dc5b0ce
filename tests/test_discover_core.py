"""Pure-Python tests of python_udfs/discover_axis.py (no database).

The file is loaded by path (python_udfs/ is not a package), exactly the file dbt deploys as
the body of the PL/Python function discover_axis(features, spec). The naming rule (docs/labels.md)
is tested with hand-made data in every awkward position: clusters inside one definition, a
handful of extreme customers, clusters straddling a definition cut, catalogs with gaps.
"""

import ast
import csv
import json
import re
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from shopseg.core import CORE_PATH as UDF_PATH
from shopseg.core import load_core

da = load_core()
SEEDS = UDF_PATH.parents[1] / "seeds"


def seed_rows(name: str) -> list[dict]:
    """The rows of seeds/<name>.csv."""
    with open(SEEDS / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


# a ranked test axis: one defining feature "a" (bands), two context features
BANDS = {"v0": (None, 1.0), "v1": (1.0, 3.0), "v2": (3.0, 6.0), "v3": (6.0, 9.0), "v4": (9.0, None)}


def band_spec(names=("a", "b", "c"), transforms=None, weights=None, bands=None, **extra):
    bands = bands or BANDS
    transforms = transforms or ["none"] * len(names)
    weights = weights or [1.0] + [0.05] * (len(names) - 1)
    spec = {
        "axis": "test_axis",
        "features": [{"name": n, "transform": t, "weight": w} for n, t, w in zip(names, transforms, weights)],
        "labels": list(bands),
        "definitions": {label: [{"feature": names[0], "min": lo, "max": hi}] for label, (lo, hi) in bands.items()},
        "k_max": 6,
        "random_state": 11,
        "min_customers": 50,
        "min_cluster_share": 0.02,
        "silhouette_sample_size": 2000,
    }
    spec.update(extra)
    return spec


def blobs(centers, per_blob=200, scale=0.3, seed=0):
    """Gaussian blobs; returns (X, planted class)."""
    rng = np.random.default_rng(seed)
    centers = np.asarray(centers, dtype=float)
    per = per_blob if isinstance(per_blob, (list, tuple)) else [per_blob] * len(centers)
    X = np.vstack([c + rng.normal(0.0, scale, size=(n, centers.shape[1])) for c, n in zip(centers, per)])
    y = np.repeat(np.arange(len(centers)), per)
    return X, y


THREE_BLOBS = [[0.0, 0.0, 0.0], [4.5, 0.0, 5.0], [12.0, 10.0, 0.0]]


def standardized(out, X):
    T = da.transform(np.asarray(X, float), out["transforms"])
    return (T - np.asarray(out["mean"])) / np.asarray(out["std"])


def out_centers(out):
    return np.array([c["center"] for c in out["clusters"]])


def predicted(out, X):
    return da.assign(standardized(out, X), out_centers(out), out["weights"])


def labels_of(out):
    return [c["label"] for c in out["clusters"]]


def check_truthful(out, spec):
    """Invariants of every ok result: distinct labels in vocabulary order, every centroid's median
    inside its label's definition, sizes adding up to the sample."""
    assert out["status"] == "ok" and out["reason"] is None
    parsed = da.parse_spec(spec)
    labels = labels_of(out)
    assert len(labels) == out["k"] == len(set(labels))
    positions = [parsed["labels"].index(label) for label in labels]
    assert positions == sorted(positions)
    assert [c["cluster_index"] for c in out["clusters"]] == list(range(out["k"]))
    for c in out["clusters"]:
        assert da.contradictions(c["label"], c["center_original"], parsed["definitions"], parsed["feature_names"]) == []
    assert sum(c["size"] for c in out["clusters"]) == out["sample_size"]


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
    assert "$dbt_plpython_udf$" not in UDF_PATH.read_text()  # the delimiter the package deploys it in


def test_body_runs_wrapped_like_plpython():
    """PL/Python compiles the body inside a function with the arguments as globals."""
    X, _ = blobs(THREE_BLOBS, per_blob=60)
    spec_json = json.dumps(band_spec())
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


def test_standardize_uses_population_std_and_flags_constant_features_four_rows():
    T = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0], [6.0, 7.0]])
    Z, mean, std, weights = da.standardize(T)
    assert mean[0] == 3.0 and std[0] == np.std(T[:, 0], ddof=0)
    assert list(weights) == [1.0, 0.0]
    assert mean[1] == 7.0 and std[1] == 1.0
    assert np.all(Z[:, 1] == 0.0)


def test_standardize_uses_population_std_and_flags_constant_features_three_rows():
    T = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    Z, mean, std, usable = da.standardize(T)
    assert mean[0] == 3.0 and std[0] == pytest.approx(np.sqrt(8.0 / 3.0))
    assert (mean[1], std[1], usable[1], usable[0]) == (5.0, 1.0, 0.0, 1.0)
    assert np.all(Z[:, 1] == 0.0)


def test_definition_labels_take_the_first_label_whose_conditions_all_hold():
    spec = da.parse_spec(band_spec())
    X = np.array(
        [[0.5, 0, 0], [1.0, 0, 0], [2.99, 0, 0], [3.0, 0, 0], [8.0, 0, 0], [9.0, 0, 0], [1e9, 0, 0], [-5, 0, 0]]
    )
    assert da.definition_labels(X, spec["definitions"], spec["labels"]).tolist() == [0, 1, 1, 2, 3, 4, 4, 0]
    overlapping = dict(BANDS, v1=(0.0, 3.0))  # v0 and v1 overlap on [0, 1): v0 comes first
    spec = da.parse_spec(band_spec(bands=overlapping))
    assert da.definition_labels(np.array([[0.5, 0, 0]]), spec["definitions"], spec["labels"]).tolist() == [0]


def test_contradictions_name_the_feature_value_and_bounds():
    spec = da.parse_spec(band_spec())
    assert da.contradictions("v2", [4.0, 0, 0], spec["definitions"], spec["feature_names"]) == []
    assert da.contradictions("v2", [6.0, 0, 0], spec["definitions"], spec["feature_names"]) == [
        "a = 6 is outside [3, 6)"
    ]
    assert da.contradictions("v0", [1.0, 0, 0], spec["definitions"], spec["feature_names"]) == [
        "a = 1 is outside [-inf, 1)"
    ]


@pytest.mark.parametrize(
    "bands, gap",
    [({"lo": (None, 1.0), "hi": (2.0, None)}, "a=1, b=0"), ({"lo": (0.0, 1.0), "hi": (1.0, None)}, "a=-1, b=0")],
)
def test_a_catalog_with_a_gap_between_definitions_is_rejected(bands, gap):
    """A point between definitions could only get a contradicting name: refused at parse time."""
    with pytest.raises(ValueError, match="leave a gap: no label covers " + gap):
        da.parse_spec(band_spec(bands=bands))


def test_a_gap_in_a_multi_feature_catalog_is_found():
    spec = band_spec(names=("a", "b"), bands={"lo": (None, 5.0), "hi": (5.0, None)})
    spec["definitions"]["hi"].append({"feature": "b", "min": 0.0, "max": None})  # hi with b < 0: nobody
    with pytest.raises(ValueError, match=r"no label covers a=\S+, b=-1"):
        da.parse_spec(spec)


def test_the_shipped_catalog_covers_every_point_of_every_axis():
    """seeds/segment_label_definitions.csv: every label defined, no gaps (parse_spec proves it)."""
    features, labels, definitions = defaultdict(list), defaultdict(list), defaultdict(lambda: defaultdict(list))
    for row in seed_rows("segment_axis_features"):
        features[row["axis"]].append(
            {"name": row["feature"], "transform": row["transform"], "weight": float(row["weight"])}
        )
    for row in sorted(seed_rows("segment_axis_labels"), key=lambda r: int(r["label_order"])):
        labels[row["axis"]].append(row["label"])
    for row in seed_rows("segment_label_definitions"):
        definitions[row["axis"]][row["label"]].append(
            {"feature": row["feature"], "min": row["min_value"], "max": row["max_value"]}
        )
    assert len(features) == 13
    for axis in features:
        parsed = da.parse_spec(
            {"axis": axis, "features": features[axis], "labels": labels[axis], "definitions": definitions[axis]}
        )
        assert set(parsed["definitions"]) == set(labels[axis])


# --------------------------------------------------------------------------- naming rule


def test_planted_bands_are_recovered_with_truthful_distinct_names():
    X, y = blobs([[0.0, 0.0, 0.0], [4.5, 0.0, 5.0], [12.0, 10.0, 0.0]], per_blob=200, scale=0.4)
    spec = band_spec()
    out = da.discover(X, spec)
    check_truthful(out, spec)
    assert labels_of(out) == ["v0", "v2", "v4"]
    assert adjusted_rand_score(y, predicted(out, X)) == 1.0
    assert out["truthfulness"] > 0.99 and out["definition_shares"]["v1"] < 0.02  # a few v0 members reach 1.0


def test_clusters_inside_one_definition_become_one_segment():
    """Two well separated blobs that both satisfy v2 ([3, 6)): one segment named v2 (k = 1), not
    two near-identical clusters whose order a rounding error would decide."""
    X, _ = blobs([[3.5, -5.0, 0.0], [5.5, 5.0, 0.0]], per_blob=300, scale=0.2)
    spec = band_spec()
    out = da.discover(X, spec)
    check_truthful(out, spec)
    assert labels_of(out) == ["v2"] and out["k"] == 1 and out["silhouette"] is None
    assert np.all(predicted(out, X) == 0)


def test_a_handful_of_extreme_customers_get_no_segment_of_their_own():
    """12 degenerate customers (like buyers without categorised lines) under min_cluster_share:
    they join their nearest segment instead of taking a label."""
    X, _ = blobs([[4.0, 0.0, 0.0], [7.5, 0.0, 0.0], [20.0, 0.0, 0.0]], per_blob=[400, 400, 12], scale=0.3)
    spec = band_spec()
    out = da.discover(X, spec)
    check_truthful(out, spec)
    assert labels_of(out) == ["v2", "v3"]
    assert all(c["size"] >= 0.02 * len(X) for c in out["clusters"])


def test_a_single_extreme_but_large_cluster_keeps_its_true_name():
    X, _ = blobs([[2.0, 0.0, 0.0], [50.0, 0.0, 0.0]], per_blob=[500, 60], scale=0.3)
    spec = band_spec()
    out = da.discover(X, spec)
    check_truthful(out, spec)
    assert labels_of(out) == ["v1", "v4"]


def test_a_cluster_straddling_a_cut_is_named_by_its_median():
    """One blob centred on the cut 3.0 between v1 and v2 plus a clear v4 blob: the straddling
    blob's members split by the definitions, but the published segment carries the one name its
    median satisfies, never both and never a contradicting one."""
    X, _ = blobs([[3.05, 0.0, 0.0], [12.0, 0.0, 0.0]], per_blob=[600, 300], scale=0.5, seed=3)
    spec = band_spec()
    out = da.discover(X, spec)
    check_truthful(out, spec)
    assert set(labels_of(out)) <= {"v1", "v2", "v4"} and "v4" in labels_of(out)


def test_centres_are_placed_so_boundaries_fall_at_the_definition_cuts():
    """A skewed, unclustered defining feature (log-normal, like order values): Lloyd's boundaries
    sit halfway between neighbouring means, not at the cuts; the placement step moves the centres
    so that the nearest-centre assignment names (almost) every member by its own definition,
    while every published median still satisfies its label."""
    rng = np.random.default_rng(5)
    a = rng.lognormal(mean=1.2, sigma=0.8, size=3000)
    X = np.column_stack([a, rng.normal(0.0, 1.0, 3000), rng.normal(0.0, 1.0, 3000)])
    spec = band_spec(transforms=["log1p", "none", "none"])
    placed = da.discover(X, spec)
    lloyd = da.discover(X, {**spec, "placement_steps": 0})
    check_truthful(placed, spec)
    check_truthful(lloyd, spec)
    assert labels_of(placed) == labels_of(lloyd)
    parsed = da.parse_spec(spec)
    own = np.array(parsed["labels"])[da.definition_labels(X, parsed["definitions"], parsed["labels"])]

    def agreement(out):
        return float(np.mean(np.array(labels_of(out))[predicted(out, X)] == own))

    assert agreement(lloyd) < 0.95
    assert agreement(placed) > 0.98 and agreement(placed) > agreement(lloyd) + 0.03
    assert placed["truthfulness"] > lloyd["truthfulness"]


def test_placement_never_renames_or_starves_a_segment():
    """Two blobs whose members lie mostly in v1 but each with a tail across a cut: whatever the
    placement does, the names are those Lloyd's clusters earned and no segment falls under
    min_cluster_share."""
    X, _ = blobs([[2.9, 0.0, 0.0], [6.1, 0.0, 0.0]], per_blob=[400, 400], scale=0.8, seed=9)
    spec = band_spec()
    out = da.discover(X, spec)
    check_truthful(out, spec)
    assert labels_of(out) == labels_of(da.discover(X, {**spec, "placement_steps": 0}))
    assert all(c["size"] >= 0.02 * len(X) for c in out["clusters"])


def test_everyone_identical_but_one_feature_is_insufficient_only_when_all_constant():
    X = np.column_stack([np.full(200, 4.0), np.full(200, 1.0), np.full(200, 2.0)])
    out = da.discover(X, band_spec())
    assert out["status"] == "insufficient_data" and "constant" in out["reason"]


def test_missing_signals_make_the_axis_insufficient_with_the_reason():
    X, _ = blobs(THREE_BLOBS, per_blob=100)
    out = da.discover(X, band_spec(missing_signals=["no support tickets in the sources"]))
    assert out["status"] == "insufficient_data" and out["clusters"] == []
    assert out["reason"] == "no signal: no support tickets in the sources"


def test_too_few_rows_is_insufficient_data():
    X, _ = blobs(THREE_BLOBS, per_blob=10)
    out = da.discover(X, band_spec(min_customers=50))
    assert out["status"] == "insufficient_data" and "fewer than min_customers=50" in out["reason"]
    assert da.discover(np.zeros((0, 3)), band_spec())["status"] == "insufficient_data"


def test_k_is_capped_by_k_max_keeping_the_most_populated_definitions():
    X, _ = blobs(
        [[0.0, 0, 0], [2.0, 0, 0], [4.5, 0, 0], [7.5, 0, 0], [12.0, 0, 0]], per_blob=[300, 50, 300, 300, 100], scale=0.2
    )
    out = da.discover(X, band_spec(k_max=3))
    check_truthful(out, band_spec(k_max=3))
    assert out["k"] <= 3 and "v1" not in labels_of(out)


def test_context_features_weigh_less_than_defining_ones():
    """A context feature with a wide spread (b) must not split a definition: with weight 0.05 the
    two b-blobs inside v2 stay one segment."""
    X, _ = blobs([[4.0, -8.0, 0.0], [4.0, 8.0, 0.0], [10.0, 0.0, 0.0]], per_blob=200, scale=0.3)
    out = da.discover(X, band_spec())
    assert labels_of(out) == ["v2", "v4"]
    assert out["weights"] == [1.0, 0.05, 0.05]


def test_determinism_identical_json_in_process_and_in_a_fresh_interpreter():
    X, _ = blobs(THREE_BLOBS, per_blob=150, scale=1.0, seed=4)
    spec = band_spec()
    first = da.main(X.tolist(), json.dumps(spec))
    assert first == da.main(X.tolist(), json.dumps(spec))
    code = (
        "import json, sys; from shopseg.core import load_core; da = load_core(); "
        "X, spec = json.load(sys.stdin); print(da.main(X, json.dumps(spec)), end='')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps([X.tolist(), spec]), capture_output=True, text=True, check=True
    )
    assert done.stdout == first


def test_labels_do_not_depend_on_row_order():
    X, _ = blobs(THREE_BLOBS, per_blob=150, scale=0.6, seed=5)
    order = np.random.default_rng(1).permutation(len(X))
    a, b = da.discover(X, band_spec()), da.discover(X[order], band_spec())
    assert labels_of(a) == labels_of(b)
    assert np.array_equal(predicted(a, X), predicted(b, X))


def test_stability_across_resamples():
    """Two samples of one population give the same segments (ARI of the population's labels)."""
    X, _ = blobs([[0.5, 0, 0], [2.0, 1, 0], [4.5, 0, 1], [7.5, 2, 0], [12.0, 0, 0]], per_blob=2000, scale=0.6)
    rng = np.random.default_rng(2)
    outs = [da.discover(X[rng.choice(len(X), 1500, replace=False)], band_spec()) for _ in range(3)]
    named = [np.array(labels_of(o), dtype=object)[predicted(o, X)] for o in outs]
    assert min(adjusted_rand_score(named[0], other) for other in named[1:]) >= 0.95


# --------------------------------------------------------------------------- assignment reference


def test_assign_equals_sklearn_predict():
    X, _ = blobs(THREE_BLOBS + [[10.0, 10.0, 10.0]], scale=2.5, seed=6)
    X = np.column_stack([X, np.full(len(X), 2.0)])  # a weight-0 feature
    X[:, 0] = np.repeat([0.5, 2.0, 4.5, 12.0], 200)[: len(X)] + X[:, 0] * 0.05
    spec = band_spec(
        names=("a", "b", "c", "d"), transforms=["none", "log1p", "none", "none"], weights=[1.0, 0.05, 0.05, 1.0]
    )
    out = da.discover(X, spec)
    assert out["weights"][3] == 0.0 and out["k"] >= 3
    rng = np.random.default_rng(7)
    new = np.abs(X + rng.normal(0.0, 3.0, size=X.shape))  # the population: also varies d
    Z = standardized(out, new)
    w = np.array(out["weights"])
    used = w > 0
    C = out_centers(out)[:, used] * np.sqrt(w[used])
    km = KMeans(n_clusters=len(C), init=C, n_init=1, max_iter=1).fit(C)
    km.cluster_centers_ = C.copy()
    expected = km.predict(np.ascontiguousarray(Z[:, used] * np.sqrt(w[used])))
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
    spec = band_spec()
    text = da.main(X.tolist(), json.dumps(spec))
    assert isinstance(text, str) and "NaN" not in text and "Infinity" not in text
    out = json.loads(text)
    assert da.main(X.tolist(), spec) == text
    assert out == da.discover(X, spec)
    assert set(out) >= {
        "axis",
        "status",
        "reason",
        "k",
        "silhouette",
        "truthfulness",
        "definition_shares",
        "sample_size",
        "feature_names",
        "transforms",
        "mean",
        "std",
        "weights",
        "clusters",
    }
    assert set(out["clusters"][0]) >= {"cluster_index", "label", "center", "center_original", "size"}
    assert out["axis"] == "test_axis" and out["feature_names"] == ["a", "b", "c"]


def test_main_rejects_null_features_naming_the_feature():
    rows = [[1.0, 2.0, 3.0]] * 60 + [[1.0, None, 3.0]]
    with pytest.raises(ValueError, match=r"feature 'b' is NULL in row 60"):
        da.main(rows, band_spec())
    with pytest.raises(ValueError, match=r"feature 'c'.*nan"):
        da.main([[1.0, 2.0, float("nan")]], band_spec())
    with pytest.raises(ValueError, match=r"must have 3 values"):
        da.main([[1.0, 2.0]], band_spec())


@pytest.mark.parametrize(
    "change, message",
    [
        ({"features": [{"name": "a", "transform": "sqrt"}]}, "transform"),
        ({"features": [{"name": "a", "weight": 0}]}, "weight must be a positive number"),
        ({"definitions": {"v0": [{"feature": "a", "max": 1}]}}, "label 'v1' has no definition"),
        ({"definitions": {**band_spec()["definitions"], "zz": [{"feature": "a", "max": 1}]}}, "not in the vocabulary"),
        (
            {"definitions": {**band_spec()["definitions"], "v0": [{"feature": "q", "max": 1}]}},
            "not one of the axis features",
        ),
        ({"definitions": {**band_spec()["definitions"], "v0": [{"feature": "a", "min": 2, "max": 1}]}}, "min < max"),
        ({"definitions": {**band_spec()["definitions"], "v0": [{"feature": "a"}]}}, "neither a lower nor an upper"),
        ({"min_cluster_share": 0.9}, "min_cluster_share"),
        ({"k_max": 0}, "k_max"),
        ({"placement_steps": -1}, "placement_steps"),
        ({"placement_beta": 0}, "placement_beta"),
        ({"placement_rate": float("nan")}, "placement_rate"),
    ],
)
def test_bad_spec_is_rejected_clearly(change, message):
    with pytest.raises(ValueError, match=message):
        da.main([[1.0, 2.0, 3.0]], {**band_spec(), **change})


def test_docs_label_table_is_rendered_from_the_seeds():
    """docs/labels.md holds exactly the table the seeds give (python -m shopseg.labels_doc --write)."""
    from shopseg import labels_doc

    text = labels_doc.DOC.read_text()
    start = text.index(labels_doc.BEGIN) + len(labels_doc.BEGIN)
    assert text[start : text.index(labels_doc.END)].strip() == labels_doc.table().strip()
    start = text.index(labels_doc.FEATURES_BEGIN) + len(labels_doc.FEATURES_BEGIN)
    features = labels_doc.features_table()
    assert text[start : text.index(labels_doc.FEATURES_END)].strip() == features.strip()
    # every catalog feature is traced to a feature model that exists
    for path in re.findall(r"`(models/[^`]+\.sql)`", features):
        assert (labels_doc.ROOT / path).exists(), path
