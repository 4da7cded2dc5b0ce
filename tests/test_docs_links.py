"""Docs point at files that exist (issue 18): every relative Markdown link in the repository's
.md files, and every `docs/<name>.md` named anywhere in code, SQL, YAML, scripts or docs, resolves
to a file of the checkout. No database needed."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# not the project's own text: top-level folders of environments, tool caches (pytest writes a
# README.md into its own), build and report output (report/out, bench/results), installed dbt
# packages, the local cluster
SKIP_TOP = {
    ".git",
    ".venv",
    ".pg",
    ".pytest_cache",
    ".ruff_cache",
    "target",
    "logs",
    "dbt_packages",
    "node_modules",
    "report",
    "bench",
}
THIS_FILE = Path(__file__).resolve()  # its examples name missing files on purpose
TEXT_SUFFIXES = {".md", ".py", ".sql", ".yml", ".yaml", ".sh", ".toml", ".csv", ".txt", ".example"}
MARKDOWN_LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]\n]*\]\(([^)\s]+)\)")
DOCS_MENTION = re.compile(r"(?<![\w/.-])docs/[\w./-]+?\.md\b")


def project_files(suffixes: set[str]) -> list[Path]:
    """The project's own files with these suffixes (and Makefiles). The skipped folders are pruned,
    not walked and filtered: other tests create and drop databases in the local cluster (.pg)
    meanwhile, and a folder that vanishes during a walk would stop it."""
    found = []
    for folder, dirnames, filenames in os.walk(ROOT):
        here = Path(folder)
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not (here == ROOT and d in SKIP_TOP)]
        for name in filenames:
            path = here / name
            if path != THIS_FILE and (path.suffix in suffixes or name == "Makefile") and path.is_file():
                found.append(path)
    return sorted(found)


def relative_links(text: str) -> list[str]:
    targets = []
    for match in MARKDOWN_LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http(s)://, mailto:, file:// and anchors within the page
        targets.append(target.split("#", 1)[0])
    return targets


def test_the_scan_sees_the_docs():
    markdown = project_files({".md"})
    assert ROOT / "README.md" in markdown and ROOT / "docs" / "spec.md" in markdown
    assert len(markdown) >= 10


@pytest.mark.parametrize("path", project_files({".md"}), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_markdown_links_resolve(path):
    missing = [t for t in relative_links(path.read_text(encoding="utf-8")) if not (path.parent / t).exists()]
    assert not missing, f"{path.relative_to(ROOT)} links to missing files: {missing}"


def test_docs_mentions_resolve():
    missing = {}
    for path in project_files(TEXT_SUFFIXES):
        text = path.read_text(encoding="utf-8", errors="replace")
        for mention in DOCS_MENTION.findall(text):
            if not (ROOT / mention).is_file():
                missing.setdefault(str(path.relative_to(ROOT)), []).append(mention)
    assert not missing, f"files name docs that do not exist: {missing}"


def test_the_checks_catch_a_missing_file():
    assert relative_links("see [x](docs/nope.md#part), [y](https://example.com), [z](#here)") == ["docs/nope.md"]
    assert DOCS_MENTION.findall("links a missing docs/data_contract.md (and ../docs/x.md is relative)") == [
        "docs/data_contract.md"
    ]
