"""Terminal output: the consoles, styles and number formats every command uses.

Library code never prints; it returns data and logs.  The CLI renders with the
helpers here so that money, quality and "unpriced" look the same everywhere.
"""

from __future__ import annotations

import logging
import math

from rich.console import Console
from rich.logging import RichHandler

STYLE_ERROR = "bold red"
STYLE_WARN = "yellow"
STYLE_OK = "green"
STYLE_FAIL = "red"
STYLE_DIM = "dim"
STYLE_UNPRICED = "magenta"

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
if not console.is_terminal:
    # logs and CI output have no width; 80 columns would fold every table
    console.width = max(console.width, 140)

UNPRICED_TEXT = "unpriced"


def setup_logging(debug: bool = False) -> None:
    """Send library logs to stderr through one rich handler."""
    handler = RichHandler(console=err_console, show_time=False, show_path=debug,
                          markup=False, rich_tracebacks=debug)
    root = logging.getLogger("mre_eval")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)


def usd(value: float | None, unknown: str = UNPRICED_TEXT) -> str:
    """Format dollars: cents for whole amounts, more digits for a call's cost.

    ``None`` means the price is not known and prints as ``unknown``, never $0.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return unknown
    if value == 0:
        return "$0.00"
    magnitude = abs(value)
    if magnitude >= 1:
        return f"${value:,.2f}"
    # three significant digits for a call's cost: $0.00504, $0.0000704
    digits = min(10, 2 - math.floor(math.log10(magnitude)))
    return f"${value:.{digits}f}"


def pct(value: float | None, digits: int = 1) -> str:
    """Format a fraction as a percentage; ``None`` or NaN prints as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value * 100:.{digits}f}%"


def quality(point: float | None, low: float | None, high: float | None) -> str:
    """Format a quality estimate with its 95% interval, e.g. ``0.860 (0.82-0.90)``."""
    if point is None or (isinstance(point, float) and math.isnan(point)):
        return "-"
    return f"{point:.3f} ({low:.2f}-{high:.2f})"


def seconds(value: float | None) -> str:
    """Format a latency."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
