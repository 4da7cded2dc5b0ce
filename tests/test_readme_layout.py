"""The README's layout table names every folder of the repository (docs/architecture.md)."""

from __future__ import annotations

import re
import subprocess

from shopseg.settings import PROJECT_ROOT

# folders the layout table must cover: the tracked top-level folders and their direct sub-folders
# (a package's own tree is described by its own README)
OWN_TREE = ("packages/dbt_plpython/", "docs/img")


def tracked_folders() -> set[str]:
    files = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    folders = set()
    for path in files:
        parts = path.split("/")
        for depth in (1, 2):
            if len(parts) > depth:
                folders.add("/".join(parts[:depth]))
    return {f for f in folders if not any(f.startswith(prefix) for prefix in OWN_TREE)}


def test_readme_layout_covers_every_folder():
    readme = (PROJECT_ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    named = set(re.findall(r"`([\w./-]+?)/?`", layout))
    missing = sorted(
        folder
        for folder in tracked_folders()
        # a folder is covered when it or a parent (or a child: `models/staging/` covers `models`) is named
        if not any(name == folder or folder.startswith(name + "/") or name.startswith(folder + "/") for name in named)
    )
    assert not missing, f"README layout table does not name: {missing}"
