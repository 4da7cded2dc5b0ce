"""Render the label table of docs/labels.md from the catalog seeds (one source of truth).

    python -m shopseg.labels_doc            # prints the table
    python -m shopseg.labels_doc --write    # rewrites the table between the markers in docs/labels.md

tests/test_discover_core.py checks that docs/labels.md holds exactly this table.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict

from shopseg import settings

ROOT = settings.PROJECT_ROOT
SEEDS = ROOT / "seeds"
DOC = ROOT / "docs" / "labels.md"
BEGIN, END = "<!-- labels:begin (python -m shopseg.labels_doc --write) -->", "<!-- labels:end -->"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the table in docs/labels.md")
    args = parser.parse_args(argv)
    rendered = table()
    if not args.write:
        print(rendered)
        return 0
    text = DOC.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + rendered + "\n" + text[stop:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
