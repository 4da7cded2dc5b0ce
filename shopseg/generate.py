"""Entry point kept for ``python -m shopseg.generate`` and ``from shopseg.generate import generate``:
the generator lives in :mod:`shopseg.generator`."""

import sys

from shopseg.generator.cli import main
from shopseg.generator.run import generate

__all__ = ["generate", "main"]

if __name__ == "__main__":
    sys.exit(main())
