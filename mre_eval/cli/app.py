"""The typer application and the one place errors become exit codes.

Command modules register on :data:`app`; each command parses its options and
calls one library function.  Nothing here imports litellm, pandas or
scikit-learn at module level, so ``mre-eval --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from mre_eval.errors import MreEvalError

_state = {"debug": False}


class _Group(TyperGroup):
    """Runs a command and turns an :class:`MreEvalError` into its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MreEvalError as exc:
            _report(exc)
            raise typer.Exit(exc.exit_code) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they were registered


app = typer.Typer(
    name="mre-eval",
    cls=_Group,
    help="Benchmark LLM models and prompts on your tasks, then route each request "
    "to the cheapest configuration that keeps quality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug",
                               help="Show tracebacks and debug logs."),
) -> None:
    from mre_eval.console import setup_logging

    _state["debug"] = debug
    setup_logging(debug)


def _report(exc: MreEvalError) -> None:
    from mre_eval.console import STYLE_ERROR, err_console

    if _state["debug"]:
        err_console.print_exception()
    err_console.print(f"error: {exc}", style=STYLE_ERROR, soft_wrap=True,
                      markup=False, highlight=False)
