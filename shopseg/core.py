"""python_udfs/discover_axis.py -- the numeric core of discovery, which the SQL assignment mirrors --
as an importable module for the tools and tests that run it outside PostgreSQL."""

import importlib.util
from pathlib import Path

CORE_PATH = Path(__file__).resolve().parents[1] / "python_udfs" / "discover_axis.py"


def load_core():
    """A fresh module object of python_udfs/discover_axis.py."""
    spec = importlib.util.spec_from_file_location("discover_axis", CORE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
