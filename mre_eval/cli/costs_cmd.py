"""Commands: (not written yet)."""

from mre_eval.cli.app import app  # noqa: F401
