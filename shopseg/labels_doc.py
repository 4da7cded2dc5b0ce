"""Render the feature and label tables of docs/labels.md from the catalog seeds (one source of truth).

    python -m shopseg.labels_doc            # prints the tables
    python -m shopseg.labels_doc --write    # rewrites the tables between the markers in docs/labels.md

The feature table names, per axis, the features with their weight and the model that computes
each (found in the feature models' YAML docs), so one axis can be followed from this page to its
SQL (docs/architecture.md). tests/test_discover_core.py checks that docs/labels.md holds exactly
these tables.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict

from shopseg import settings

ROOT = settings.PROJECT_ROOT
SEEDS = ROOT / "seeds"
DOC = ROOT / "docs" / "labels.md"
BEGIN, END = "<!-- labels:begin (python -m shopseg.labels_doc --write) -->", "<!-- labels:end -->"
FEATURES_BEGIN = "<!-- features:begin (python -m shopseg.labels_doc --write) -->"
FEATURES_END = "<!-- features:end -->"
FEATURE_MODELS = ROOT / "models" / "intermediate" / "features"
# the model that gathers every feature into one row per customer: named only for the features it derives
GATHERING_MODEL = "int_customer_features"


def _read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _bound(value: str) -> str:
    return value if value else ""


def condition_text(feature: str, lower: str, upper: str) -> str:
    if lower and upper:
        return f"{_bound(lower)} ≤ `{feature}` < {_bound(upper)}"
    if lower:
        return f"`{feature}` ≥ {lower}"
    return f"`{feature}` < {upper}"


def seed_rows(name: str) -> list[dict]:
    """The rows of seeds/<name>.csv."""
    with open(SEEDS / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def table() -> str:
    axes = sorted(seed_rows("segment_axes"), key=lambda r: int(r["axis_order"]))
    labels = sorted(seed_rows("segment_axis_labels"), key=lambda r: (r["axis"], int(r["label_order"])))
    conditions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in seed_rows("segment_label_definitions"):
        conditions[(row["axis"], row["label"])].append(
            condition_text(row["feature"], row["min_value"], row["max_value"])
        )
    signals: dict[str, list[str]] = defaultdict(list)
    for row in seed_rows("segment_axis_signals"):
        signals[row["axis"]].append(row["signal_name"])
    lines = [
        "| axis | label | definition | in numbers (all hold; first label in order wins) |",
        "| --- | --- | --- | --- |",
    ]
    for axis in axes:
        name = axis["axis"]
        needs = ", ".join(signals[name]) or "orders"
        first = True
        for row in (r for r in labels if r["axis"] == name):
            cell = f"**{name}** (needs: {needs})" if first else ""
            first = False
            lines.append(
                f"| {cell} | `{row['label']}` | {row['description']} | "
                f"{' and '.join(conditions[(name, row['label'])])} |"
            )
    return "\n".join(lines)


def feature_models(features: list[str]) -> dict[str, str]:
    """feature -> path of the feature model that computes it: the model whose SQL selects it
    (`as <feature>`) or whose YAML documents it; the gathering model for the features it derives."""
    import yaml

    specific: list[tuple[str, str, set[str]]] = []
    for doc in sorted(FEATURE_MODELS.glob("_*__models.yml")):
        for model in yaml.safe_load(doc.read_text()).get("models", []):
            sql = FEATURE_MODELS / f"{model['name']}.sql"
            if model["name"] != GATHERING_MODEL and sql.exists():
                columns = {column["name"] for column in model.get("columns", [])}
                specific.append((str(sql.relative_to(ROOT)), sql.read_text(), columns))
    templated = re.compile(r"\bas\s+(\w*)\{\{[^}]*\}\}(\w*)")  # e.g. `as share_{{ channel }}`

    def selects(text: str, feature: str) -> bool:
        if re.search(rf"\bas\s+{re.escape(feature)}\b", text):
            return True
        # an alias that is all template (`as {{ ... }}`, e.g. a CTE's materialization) names nothing
        return any(
            (head or tail)
            and feature.startswith(head)
            and feature.endswith(tail)
            and len(feature) > len(head) + len(tail)
            for head, tail in templated.findall(text)
        )

    found: dict[str, str] = {}
    for feature in features:
        matches = [path for path, text, columns in specific if selects(text, feature) or feature in columns]
        found[feature] = matches[0] if matches else f"models/intermediate/features/{GATHERING_MODEL}.sql"
    return found


def features_table() -> str:
    axes = sorted(_read_seed("segment_axes"), key=lambda r: int(r["axis_order"]))
    features = sorted(_read_seed("segment_axis_features"), key=lambda r: (r["axis"], int(r["feature_order"])))
    models = feature_models([row["feature"] for row in features])
    lines = [
        "| axis | feature (weight in the distance; 1 = a feature the label definitions use) | unit | computed in |",
        "| --- | --- | --- | --- |",
    ]
    for axis in axes:
        first = True
        for row in (r for r in features if r["axis"] == axis["axis"]):
            cell = f"**{axis['axis']}**" if first else ""
            first = False
            where = models[row["feature"]]
            lines.append(f"| {cell} | `{row['feature']}` ({row['weight']}) | {row['unit']} | `{where}` |")
    return "\n".join(lines)


def _replace_between(text: str, begin: str, end: str, rendered: str) -> str:
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + rendered + "\n" + text[stop:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the table in docs/labels.md")
    args = parser.parse_args(argv)
    if not args.write:
        print(features_table() + "\n\n" + table())
        return 0
    text = _replace_between(DOC.read_text(), FEATURES_BEGIN, FEATURES_END, features_table())
    DOC.write_text(_replace_between(text, BEGIN, END, table()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
