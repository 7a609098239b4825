"""Cost and quality across dated runs: catch a bill that outgrows its traffic.

Each point of a series is a date, a request volume, what those requests cost
and their quality.  Between consecutive points :func:`alerts` flags

- cost per request growing faster than volume (``cost_outgrows_volume``);
- quality falling while cost per request rises (``quality_down_cost_up``),
  marked significant when the two 95% intervals do not overlap.

Points come from run folders (every call of the run, or one task type or
model) or from a CSV of production figures with columns ``date``,
``requests``, ``cost_usd`` and optionally ``quality``, ``quality_low``,
``quality_high``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mre_eval.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Point:
    """One dated measurement."""

    label: str
    date: str
    requests: int
    cost_usd: float | None    # priced total; None when nothing was priced
    unpriced: int
    quality: float | None = None
    quality_low: float | None = None
    quality_high: float | None = None

    @property
    def cost_per_request(self) -> float | None:
        priced = self.requests - self.unpriced
        if self.cost_usd is None or priced <= 0:
            return None
        return self.cost_usd / priced


@dataclass(frozen=True)
class Alert:
    """A flagged step between two points, with the numbers behind it."""

    kind: str
    before: str
    after: str
    message: str
    significant: bool = True


def alerts(points: list[Point]) -> list[Alert]:
    """Flags for every consecutive pair of points, in date order."""
    ordered = sorted(points, key=lambda p: p.date)
    out = []
    for a, b in zip(ordered, ordered[1:]):
        out += _step(a, b)
    return out


def _step(a: Point, b: Point) -> list[Alert]:
    cpr_a, cpr_b = a.cost_per_request, b.cost_per_request
    if cpr_a is None or cpr_b is None or cpr_a == 0 or a.requests == 0:
        return []
    cost_growth = cpr_b / cpr_a - 1
    volume_growth = b.requests / a.requests - 1
    out = []
    if cost_growth > 0 and cost_growth > volume_growth:
        out.append(Alert(
            "cost_outgrows_volume", a.label, b.label,
            f"cost per request {_usd(cpr_a)} -> {_usd(cpr_b)} "
            f"({cost_growth:+.1%}) while volume went {a.requests:,} -> "
            f"{b.requests:,} ({volume_growth:+.1%})"))
    if a.quality is not None and b.quality is not None and \
            b.quality < a.quality and cost_growth > 0:
        separate = _disjoint(a, b)
        out.append(Alert(
            "quality_down_cost_up", a.label, b.label,
            f"quality {a.quality:.3f} -> {b.quality:.3f} while cost per request "
            f"rose {cost_growth:+.1%} ({_usd(cpr_a)} -> {_usd(cpr_b)})"
            + ("" if separate else "; the quality intervals overlap, so the "
               "drop may be noise"), separate))
    return out


def _disjoint(a: Point, b: Point) -> bool:
    if a.quality_low is None or b.quality_high is None:
        return True
    return b.quality_high < a.quality_low


def from_runs(runs: list[Path], task_type: str | None = None,
              model: str | None = None) -> list[Point]:
    """One point per run folder, from its results and its start time."""
    from mre_eval.results import read_meta, read_results
    from mre_eval.stats import is_binary, quality

    points = []
    for run in runs:
        frame = read_results(run)
        if task_type is not None:
            frame = frame[frame["task_type"] == task_type]
        if model is not None:
            frame = frame[frame["model"] == model]
        if frame.empty:
            log.info("%s has no calls for this selection; skipped", run.name)
            continue
        costs = frame["cost_usd"].dropna().astype(float)
        scores = frame["score"].dropna().astype(float).to_numpy()
        est = quality(scores, is_binary(scores)) if len(scores) else None
        started = read_meta(run).get("started_at")
        if started is None:
            raise DataError(f"{run}: run.json has no started_at, so the run "
                            "cannot be placed in time; pass dated runs only")
        points.append(Point(
            run.name, _date(run / "run.json", None, started), len(frame),
            float(costs.sum()) if len(costs) else None, len(frame) - len(costs),
            None if est is None else est.point,
            None if est is None else est.low, None if est is None else est.high))
    return points


def from_csv(path: Path) -> list[Point]:
    """Points from a CSV with date, requests, cost_usd (and quality) columns."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read series file {path}: {exc}") from exc
    missing = [c for c in ("date", "requests", "cost_usd") if c not in frame]
    if missing:
        raise DataError(f"{path}: columns {missing} are missing; a series needs "
                        "date, requests and cost_usd (quality optional)")
    return [_csv_point(path, i + 2, row) for i, row in enumerate(
        frame.to_dict("records"))]


def _csv_point(path: Path, line: int, row: dict[str, Any]) -> Point:
    requests = row["requests"]
    if not isinstance(requests, int | float) or requests != requests or requests < 0:
        raise DataError(f"{path}:{line}: requests {requests!r} is not allowed: "
                        "give a count of zero or more")
    cost = _num(row.get("cost_usd"))
    if cost is not None and cost < 0:
        raise DataError(f"{path}:{line}: cost_usd {cost!r} is negative: give the "
                        "period's spend in dollars, zero or more")
    date = _date(path, line, row["date"])
    return Point(str(row["date"]), date, int(requests), cost, 0,
                 _num(row.get("quality")), _num(row.get("quality_low")),
                 _num(row.get("quality_high")))


def _date(path: Path | str, line: int | None, value: Any) -> str:
    """``value`` as a sortable UTC timestamp; a DataError when it is not a date."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        where = f"{path}:{line}" if line is not None else str(path)
        raise DataError(f"{where}: date {value!r} is not an ISO date: write it "
                        "as 2026-11-01 or 2026-11-01T09:00:00+00:00") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    # dates are compared as text, so every one is written the same way
    return moment.isoformat()


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return float(value)


def _usd(value: float) -> str:
    return f"${value:.4g}"


def series_alerts(runs: list[Path] | None, series: Path | None,
                  task_type: str | None = None,
                  model: str | None = None) -> tuple[list[Point], list[Alert]]:
    """Points from a CSV series or from runs (all runs when none are given).

    Raises:
        DataError: when fewer than two points can be compared.
    """
    from mre_eval.results import find_run, list_runs

    if series is not None:
        points = from_csv(series)
    else:
        dirs = [find_run(r) for r in runs] if runs else \
            [r.path for r in list_runs()]
        points = from_runs(dirs, task_type, model)
    if len(points) < 2:
        raise DataError(
            f"a trend needs at least two dated points, found {len(points)}: give "
            "two or more runs, or a --series CSV with two or more rows")
    points = sorted(points, key=lambda p: p.date)
    return points, alerts(points)
