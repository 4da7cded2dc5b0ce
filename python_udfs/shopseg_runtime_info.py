def main():
    """Versions of the server-side Python stack, as JSON (a health check for PL/Python)."""
    import json
    import sys

    import numpy
    import sklearn

    return json.dumps(
        {
            "python": sys.version.split()[0],
            "numpy": numpy.__version__,
            "scikit_learn": sklearn.__version__,
        }
    )
