"""The report's plots: matplotlib figures rendered to inline SVG text.

Text is drawn as paths (matplotlib's default ``svg.fonttype``), so the SVG
needs no font and no network to look the same everywhere.
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from mre_eval.report.data import Point, TaskView

FRONTIER = "#d62728"
POINT = "#1f77b4"
ROUTED = "#2ca02c"
THRESHOLD = "#7f7f7f"
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


def new_figure(width: float, height: float, left: float = 0.8) -> Figure:
    """A figure on the Agg canvas, never touching a GUI backend.

    Margins are fixed (in inches) rather than computed by a layout engine,
    which would lay out every label twice and double the drawing time.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=left / width, right=1 - 0.2 / width,
                           bottom=0.6 / height, top=1 - 0.4 / height)
    return figure


def to_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element, without prologue or metadata.

    The metadata block only names its vocabularies by URL; dropping it leaves
    the SVG and XLink namespace names as the only URLs (names, never loaded).
    """
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return _METADATA.sub("", text, count=1)


def cost_quality(view: TaskView) -> str:
    """Cost per request (log) against quality with 95% intervals.

    Every priced configuration is a point; the Pareto frontier is a red line;
    the threshold a dashed line; the routed policy, when given, a green star.
    """
    figure = new_figure(7.5, 4.6)
    axes = figure.add_subplot()
    priced = [p for p in view.points if p.cost.complete and p.cost.per_request]
    _points(axes, priced)
    frontier = sorted((p for p in priced if p.pareto),
                      key=lambda p: p.cost.per_request)
    if frontier:
        axes.plot([p.cost.per_request for p in frontier],
                  [p.quality.point for p in frontier], color=FRONTIER,
                  drawstyle="steps-post", label="Pareto frontier", zorder=2)
    axes.axhline(view.threshold, color=THRESHOLD, linestyle="--",
                 label=f"threshold {view.threshold:.2f}")
    routed = view.routed
    if routed is not None and routed.cost.per_request:
        q = routed.quality
        if not math.isnan(q.point):
            axes.errorbar([routed.cost.per_request], [q.point], fmt="none",
                          yerr=[[max(0.0, q.point - q.low)],
                                [max(0.0, q.high - q.point)]],
                          ecolor=ROUTED, capsize=3, zorder=4)
        axes.scatter([routed.cost.per_request], [routed.quality.point], s=260,
                     marker="*", color=ROUTED, edgecolor="black", zorder=5,
                     label="routed policy")
    if priced:
        _log_dollars(axes)
    axes.set_xlabel("cost per request (USD, log scale)")
    axes.set_ylabel(view.threshold_on.replace("_", " "))
    axes.set_title(f"{view.name}: cost vs quality")
    axes.grid(True, alpha=0.3)
    axes.margins(x=0.12)
    axes.legend(loc="best", fontsize=8)
    return to_svg(figure)


def spend_by_model(spend: pd.DataFrame, xlabel: str) -> str:
    """Dollars by model, stacked by task type, one bar per model."""
    figure = new_figure(7.5, 1.2 + 0.35 * max(1, len(spend)), left=2.4)
    axes = figure.add_subplot()
    # bars show priced spend; unpriced cells are named in the table beside
    ordered = spend.fillna(0.0)
    ordered = ordered.loc[ordered.sum(axis=1).sort_values().index]
    left = [0.0] * len(ordered)
    for task in ordered.columns:
        values = ordered[task].tolist()
        axes.barh(list(ordered.index), values, left=left, label=task)
        left = [a + b for a, b in zip(left, values)]
    axes.set_xlabel(xlabel)
    axes.set_title("Where the money goes")
    axes.legend(fontsize=8, loc="lower right")
    axes.tick_params(axis="y", labelsize=8)
    return to_svg(figure)


def latency(frame: pd.DataFrame) -> str:
    """Latency per call by model: box 25-75%, line 5-95%, tick at the median."""
    import numpy as np

    models = sorted(frame["model"].unique())
    figure = new_figure(7.5, 1.2 + 0.35 * max(1, len(models)), left=2.4)
    axes = figure.add_subplot()
    for row, model in enumerate(models):
        values = frame.loc[frame["model"] == model, "latency_s"].to_numpy()
        p5, q1, q2, q3, p95 = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
        axes.hlines(row, p5, p95, color=POINT, linewidth=1)
        axes.barh(row, q3 - q1, left=q1, height=0.5, color=POINT, alpha=0.5)
        axes.vlines(q2, row - 0.25, row + 0.25, color="black", linewidth=2)
    if models:
        axes.set_yticks(range(len(models)), models)
        if float(frame["latency_s"].min()) > 0:
            _log_seconds(axes)
    axes.set_xlabel("latency per call (s): box 25-75%, line 5-95%, tick median")
    axes.set_title("Latency distribution")
    axes.tick_params(axis="y", labelsize=8)
    return to_svg(figure)


def _log_dollars(axes: object) -> None:
    # plain dollar labels: log axes default to mathtext, which is slow to lay out
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.set_xscale("log")
    axes.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())


def _log_seconds(axes: object) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} s"))
    axes.xaxis.set_minor_formatter(NullFormatter())


def _points(axes: object, points: list[Point]) -> None:
    if not points:
        return
    xs = [p.cost.per_request for p in points]
    ys = [p.quality.point for p in points]
    low = [max(0.0, p.quality.point - p.quality.low) for p in points]
    high = [max(0.0, p.quality.high - p.quality.point) for p in points]
    axes.errorbar(xs, ys, yerr=[low, high], fmt="o", color=POINT, ecolor=POINT,
                  alpha=0.8, capsize=2, label="configuration (95% CI)", zorder=3)
    priced = [x for x in xs if x and x > 0]
    right_edge = math.log(max(priced)) if priced else 0.0
    span = right_edge - math.log(min(priced)) if priced else 0.0
    for point, x, y in zip(points, xs, ys):
        if math.isnan(y):
            continue
        # labels of the dearest points go to their left, inside the figure
        near_edge = bool(x and x > 0 and span
                         and right_edge - math.log(x) < 0.25 * span)
        axes.annotate(point.label, (x, y), fontsize=6,
                      xytext=(-4, 3) if near_edge else (4, 3),
                      ha="right" if near_edge else "left",
                      textcoords="offset points")
