"""The traffic a cache simulation replays, read from a dataset, a suite or a run.

Every source becomes a list of :class:`Request` in arrival order.  A dataset
file is read with the column names given (or the usual ones); a suite's dataset
through :mod:`mre_eval.datasets`; a run from its examples table and the
responses of one model and prompt variant.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mre_eval.errors import ConfigError, DataError

log = logging.getLogger(__name__)

TEXT_COLUMNS = ("input", "text", "request", "question", "prompt")
ANSWER_COLUMNS = ("answer_id", "answer_group", "reference")
ORDER_COLUMNS = ("arrived_at", "timestamp", "seq")


@dataclass(frozen=True)
class Request:
    """One request as the cache sees it.

    Attributes:
        id: the example id.
        text: what is embedded and compared.
        group: the cache partition (the task type); "" when there is one.
        answer_key: requests with equal keys deserve the same answer.
        answer: the answer text a miss stores and a hit serves.
        cost_usd: what answering it costs; ``None`` when unpriced.
        example: the dataset example, for graders; ``None`` without a suite.
    """

    id: str
    text: str
    group: str = ""
    answer_key: str | None = None
    answer: str | None = None
    cost_usd: float | None = None
    example: Any = None


def exact_key(text: str) -> str:
    """What an exact-match cache keys on: the text, case and spacing folded."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def from_file(path: Path, text_column: str | None = None,
              answer_column: str | None = None, order_column: str | None = None,
              group_column: str | None = None,
              cost_per_request: float | None = None) -> list[Request]:
    """Read requests from a JSONL, CSV or parquet file, in arrival order.

    Columns default to the first present of :data:`TEXT_COLUMNS`,
    :data:`ANSWER_COLUMNS` and :data:`ORDER_COLUMNS`; the group to ``task_type``
    when present.  A ``cost_usd`` column gives each request's cost unless
    ``cost_per_request`` is set.

    Raises:
        DataError: when the file has no request text or a row lacks it.
    """
    from mre_eval.datasets import read_rows

    rows = list(read_rows(Path(path)))
    if not rows:
        raise DataError(f"{path}: the dataset has no rows")
    columns = list(rows[0][1])
    text_col = _pick(path, columns, text_column, TEXT_COLUMNS, "request text")
    answer_col = _pick(path, columns, answer_column, ANSWER_COLUMNS, "answer")
    order_col = _optional(path, columns, order_column, ORDER_COLUMNS)
    group_col = _optional(path, columns, group_column, ("task_type",))
    if order_col is not None:
        keys = [_arrival(path, line, row.get(order_col), order_col)
                for line, row in rows]
        order = sorted(range(len(rows)), key=lambda i: (keys[i] is None,
                                                        keys[i] or 0.0, i))
        rows = [rows[i] for i in order]
    return [_file_request(path, line, row, text_col, answer_col, group_col,
                          cost_per_request) for line, row in rows]


def _arrival(path: Path, line: int, value: Any, column: str) -> float | None:
    """A row's place in arrival order: a number, or an ISO time in UTC seconds.

    An empty cell sorts last.  Times without a zone are read as UTC.

    Raises:
        DataError: for a value that is neither a number nor an ISO time.
    """
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise DataError(
                f"{path}:{line}: {column} {value!r} is neither a number nor an "
                "ISO time: write it as 2026-11-02T08:00:13+00:00, or as a "
                "sequence number") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def from_suite(suite: Any, cost_per_request: float | None = None) -> list[Request]:
    """Requests from a suite's dataset, in file order; graders can judge them."""
    from mre_eval.datasets import load_dataset

    out = []
    for ex in load_dataset(suite):
        ref = None if ex.reference is None else str(ex.reference)
        out.append(Request(ex.id, ex.text, ex.task_type, ref, ref,
                           cost_per_request, ex))
    return out


def from_run(run: Path, model: str | None = None, prompt_variant: str | None = None,
             ) -> tuple[list[Request], tuple[str, str]]:
    """Requests of a run: its examples in table order, answered by one config.

    The stored answer is the response the chosen model and prompt variant gave
    (first repeat), and its cost is that call's cost.  Examples carry no
    arrival time, so the examples table's order stands for arrival order.

    Returns:
        The requests, and the (model, prompt variant) whose answers they carry.

    Raises:
        ConfigError: for a model or prompt variant the run does not hold.
    """
    from mre_eval.results import read_examples, read_results

    results = read_results(run)
    examples = read_examples(run)
    chosen = _config(results, model, prompt_variant)
    rows = results[(results["model"] == chosen[0])
                   & (results["prompt_variant"] == chosen[1])]
    rows = rows.sort_values("repeat").drop_duplicates("example_id")
    by_id = {r.example_id: r for r in rows.itertuples()}
    out = []
    for ex in examples.itertuples():
        row = by_id.get(ex.example_id)
        if row is None or ex.input is None:
            continue
        cost = None if is_missing(row.cost_usd) else float(row.cost_usd)
        ref = None if is_missing(ex.reference) else str(ex.reference)
        answer = None if is_missing(row.response) else str(row.response)
        out.append(Request(str(ex.example_id), str(ex.input), str(ex.task_type),
                           ref, answer, cost))
    log.info("replaying %d requests answered by %s / %s", len(out), *chosen)
    return out, chosen


def _config(results: Any, model: str | None,
            variant: str | None) -> tuple[str, str]:
    configs = results[["model", "prompt_variant"]].drop_duplicates()
    if model is not None:
        configs = configs[configs["model"] == model]
    if variant is not None:
        configs = configs[configs["prompt_variant"] == variant]
    if configs.empty:
        raise ConfigError(
            f"the run has no results for model {model!r} and prompt variant "
            f"{variant!r}: choose one of "
            f"{sorted(set(map(tuple, results[['model', 'prompt_variant']].values)))}")
    if len(configs) > 1:
        options = sorted(map(tuple, configs.values))
        log.warning("the run holds %d configurations; replaying the answers of "
                    "%s / %s (choose with --model and --prompt-variant)",
                    len(options), *options[0])
        return options[0]
    return tuple(configs.iloc[0])  # type: ignore[return-value]


def _pick(path: Path, columns: list[str], given: str | None,
          usual: tuple[str, ...], what: str) -> str:
    if given is not None:
        if given not in columns:
            raise DataError(
                f"{path}: no column {given!r} for the {what}; the file has "
                f"{columns}")
        return given
    for name in usual:
        if name in columns:
            return name
    raise DataError(
        f"{path}: no {what} column: expected one of {list(usual)}, the file has "
        f"{columns}; name it with the matching --*-column option")


def _optional(path: Path, columns: list[str], given: str | None,
              usual: tuple[str, ...]) -> str | None:
    if given is not None:
        return _pick(path, columns, given, usual, "ordering")
    return next((c for c in usual if c in columns), None)


def _file_request(path: Path, line: int, row: dict[str, Any], text_col: str,
                  answer_col: str, group_col: str | None,
                  cost: float | None) -> Request:
    text = row.get(text_col)
    if not isinstance(text, str) or not text.strip():
        raise DataError(
            f"{path}:{line}: no request text in column {text_col!r}; every row "
            "needs a non-empty request")
    answer = row.get(answer_col)
    row_cost = row.get("cost_usd")
    if cost is None and not is_missing(row_cost):
        cost = float(row_cost)
    return Request(
        id=str(row.get("id", line)), text=text,
        group="" if group_col is None else str(row.get(group_col, "")),
        answer_key=None if is_missing(answer) else str(answer),
        answer=None if is_missing(answer) else str(row.get("reference", answer)),
        cost_usd=cost)


def is_missing(value: Any) -> bool:
    """Whether a table cell is empty: None, NaN or pandas' NA."""
    return value is None or (isinstance(value, float) and value != value) or \
        (value.__class__.__name__ == "NAType")
