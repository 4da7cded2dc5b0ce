"""The benchmark runs dbt on a frozen copy of the project (shopseg/bench/dbt_runs.py
freeze_project). After `make test`, the package's integration-test project holds a `dbt deps`
symlink back to the package itself; the copy must not follow it (it did, until the path was too
long: `make bench` failed on any checkout whose tests had run)."""

from __future__ import annotations

import os
from pathlib import Path

from shopseg.bench.dbt_runs import freeze_project


def test_freeze_copies_the_project_and_skips_nested_installs(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    package = root / "packages" / "pkg"
    (package / "macros").mkdir(parents=True)
    (package / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}")
    nested = package / "integration_tests"
    (nested / "dbt_packages").mkdir(parents=True)
    os.symlink(package, nested / "dbt_packages" / "pkg")  # what `dbt deps` of a local package writes
    (nested / "target").mkdir()
    (nested / "target" / "manifest.json").write_text("{}")
    (root / "models").mkdir()
    (root / "models" / "a.sql").write_text("select 1")
    (root / "dbt_packages").mkdir()
    os.symlink(package, root / "dbt_packages" / "pkg")  # the root project's install: copied, not linked
    (root / "dbt_project.yml").write_text("name: x\n")

    dest = freeze_project(root, tmp_path / "frozen")

    assert (dest / "dbt_project.yml").read_text() == "name: x\n"
    assert (dest / "models" / "a.sql").read_text() == "select 1"
    installed = dest / "dbt_packages" / "pkg"
    assert not installed.is_symlink() and (installed / "macros" / "m.sql").exists()
    assert (dest / "packages" / "pkg" / "macros" / "m.sql").exists()
    assert not (dest / "packages" / "pkg" / "integration_tests" / "dbt_packages").exists()
    assert not (dest / "packages" / "pkg" / "integration_tests" / "target").exists()
