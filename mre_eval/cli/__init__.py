"""The ``mre-eval`` command line.

Each module below registers the commands of one concept on the shared app.
"""

from mre_eval.cli.app import app
from mre_eval.cli import (  # noqa: F401  (imported to register their commands)
    run_cmd,
    optimize_cmd,
    gate_cmd,
    economics_cmd,
    costs_cmd,
)


def main() -> None:
    """Console-script entry point."""
    app()
