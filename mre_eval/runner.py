"""Run a suite end to end: validate, plan, execute, and write the run folder.

Nothing is written until the suite, its dataset and its credentials have been
checked, so bad input leaves no half-made run behind.  While the run goes,
finished rows are checkpointed; at the end the results, examples, resolved
suite, summary and ``run.json`` are all in ``reports/<suite>-<timestamp>/``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mre_eval import results as store
from mre_eval.cache import DEFAULT_CACHE_PATH
from mre_eval.datasets import Example, load_dataset
from mre_eval.errors import ConfigError
from mre_eval.execution import Execution, RunObserver, Tally, tally_of
from mre_eval.llm import litellm_version
from mre_eval.plan import Job, ModelEstimate, estimate, plan_jobs, unbounded_models
from mre_eval.providers.base import Provider
from mre_eval.providers.live import LiveProvider
from mre_eval.suite import Suite
from mre_eval.suite_loader import load_run_suite, load_suite, suite_hash
from mre_eval.summary import summarize, totals

log = logging.getLogger(__name__)

DEFAULT_CACHE = DEFAULT_CACHE_PATH
OFFLINE_SUITE = "suites/routerbench.yaml"


@dataclass(frozen=True)
class RunSettings:
    """Options of one run; ``None`` keeps the suite's own setting."""

    reports: Path = store.DEFAULT_REPORTS
    cache_path: Path | None = DEFAULT_CACHE
    max_spend_usd: float | None = None
    concurrency: int | None = None
    repeats: int | None = None
    limit: int | None = None


@dataclass
class RunReport:
    """How a run went."""

    run_dir: Path
    status: str
    jobs: int
    tally: Tally
    summary: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    resumed_rows: int = 0


def run_suite(suite_path: Path, settings: RunSettings = RunSettings(),
              observer: RunObserver | None = None) -> RunReport:
    """Run a suite file and write a new run folder.

    Raises:
        MreEvalError: bad suite, dataset or missing credentials, before
            anything is written.
    """
    suite = load_suite(suite_path)
    examples, jobs = _prepare(suite, settings)
    provider = _provider(suite, settings)
    run_dir = store.new_run_dir(settings.reports, suite.name)
    return _execute(suite, examples, jobs, provider, run_dir, settings, observer, [])


def resume_run(run_ref: str | None, settings: RunSettings = RunSettings(),
               observer: RunObserver | None = None) -> RunReport:
    """Continue a run that stopped: re-run only the jobs it has no row for.

    Rows that ended in an error are tried again; finished live calls come
    from the response cache, so nothing paid for is paid again.
    """
    run_dir = store.find_run(run_ref, settings.reports, require=store.META_FILE)
    suite = load_run_suite(run_dir, check_data=True)
    meta = store.read_meta(run_dir)
    settings = _settings_from_meta(settings, meta)
    examples, jobs = _prepare(suite, settings)
    kept = _finished_rows(run_dir)
    done = {(r["example_id"], r["model"], r["prompt_variant"], r["repeat"])
            for r in kept}
    todo = [job for job in jobs if job.key not in done]
    log.info("resuming %s: %d rows kept, %d jobs to run", run_dir.name,
             len(kept), len(todo))
    provider = _provider(suite, settings)
    return _execute(suite, examples, todo, provider, run_dir, settings, observer,
                    kept, total_jobs=len(jobs))


def dry_run(suite_path: Path, settings: RunSettings = RunSettings()
            ) -> tuple[Suite, list[ModelEstimate]]:
    """What a run would call and cost at most, per model; calls nothing."""
    suite = load_suite(suite_path)
    _, jobs = _prepare(suite, settings)
    return suite, estimate(jobs)


def _prepare(suite: Suite, settings: RunSettings) -> tuple[list[Example], list[Job]]:
    examples = load_dataset(suite)
    if settings.limit is not None:
        examples = _first_per_task(examples, settings.limit)
    repeats = settings.repeats or suite.run.repeats
    return examples, plan_jobs(suite, examples, repeats)


def _first_per_task(examples: list[Example], limit: int) -> list[Example]:
    counts: dict[str, int] = {}
    kept = []
    for example in examples:
        if counts.get(example.task_type, 0) < limit:
            counts[example.task_type] = counts.get(example.task_type, 0) + 1
            kept.append(example)
    return kept


def _provider(suite: Suite, settings: RunSettings) -> Provider:
    if suite.is_recorded:
        from mre_eval.providers.recorded import RecordedProvider

        return RecordedProvider.from_suite(suite)
    return _live_provider(suite, settings)


def _live_provider(suite: Suite, settings: RunSettings) -> Provider:
    from mre_eval.cache import ResponseCache
    from mre_eval.providers.live import missing_credentials
    from mre_eval.retry import RetryPolicy

    missing = missing_credentials(suite.models)
    missing.update(_grader_credentials(suite))
    if missing:
        raise ConfigError(
            f"suite {suite.name!r} calls live models but keys are not set: "
            f"{_by_variable(missing)}. Export them, or run the offline suite: "
            f"mre-eval run {OFFLINE_SUITE}")
    cap = _cap(suite, settings)
    if cap is not None and (problems := unbounded_models(suite)):
        raise ConfigError(
            f"--max-spend ${cap:.2f} cannot bound calls to: {'; '.join(problems)}. "
            "Set params.max_tokens and a price for them, or run without a cap")
    cache = ResponseCache(settings.cache_path) if settings.cache_path else None
    return LiveProvider(suite.run.timeout_s, RetryPolicy(suite.run.retries), cache)


def _by_variable(missing: dict[str, list[str]]) -> str:
    """``VAR (for a, b); VAR2 (for c)`` from a user -> variables map."""
    users: dict[str, list[str]] = {}
    for user, variables in missing.items():
        for variable in variables:
            users.setdefault(variable, []).append(user)
    return "; ".join(f"{variable} (for {', '.join(names)})"
                     for variable, names in users.items())


def _grader_credentials(suite: Suite) -> dict[str, list[str]]:
    """Environment variables graders (an LLM judge) need, by grader."""
    import os

    from mre_eval.graders import make_grader

    missing = {}
    for task in suite.task_types:
        grader = make_grader(task.grader, suite.base_dir)
        unset = [name for name in grader.required_env() if not os.environ.get(name)]
        if unset:
            missing[f"the {task.name} grader"] = unset
    return missing


def _cap(suite: Suite, settings: RunSettings) -> float | None:
    if settings.max_spend_usd is not None:
        return settings.max_spend_usd
    return suite.run.max_spend_usd


def _execute(suite: Suite, examples: list[Example], jobs: list[Job],
             provider: Provider, run_dir: Path, settings: RunSettings,
             observer: RunObserver | None, kept: list[dict[str, Any]],
             total_jobs: int | None = None) -> RunReport:
    run_id = run_dir.name
    meta = _start_meta(suite, run_dir, settings, total_jobs or len(jobs))
    _write_inputs(suite, examples, run_dir, meta)
    if isinstance(provider, LiveProvider):
        provider.run_id = run_id
    execution = Execution(
        provider=provider, suite=suite, run_id=run_id,
        max_spend_usd=None if suite.is_recorded else _cap(suite, settings),
        concurrency=settings.concurrency or suite.run.concurrency,
        per_model_concurrency=suite.run.per_model_concurrency,
        live=not suite.is_recorded, observer=observer,
        tally=tally_of(kept, live=not suite.is_recorded),
        # a replay pays for nothing, so only live runs checkpoint as they go
        checkpoint=None if suite.is_recorded
        else lambda rows: _write_rows(run_dir, kept + rows))
    if observer is not None:
        observer.started(len(jobs))
    status = "interrupted"
    try:
        asyncio.run(execution.run(jobs))
        status = "stopped_by_spend_cap" if execution.tally.not_launched else "complete"
    finally:
        _close(provider)
        rows = kept + execution.rows
        _write_rows(run_dir, rows)
        report = _finish(suite, run_dir, meta, rows, execution.tally, status)
    report.resumed_rows = len(kept)
    return report


def _start_meta(suite: Suite, run_dir: Path, settings: RunSettings,
                jobs: int) -> dict[str, Any]:
    old = store.read_meta(run_dir)
    return {
        "schema_version": store.SCHEMA_VERSION,
        "run_id": run_dir.name,
        "suite": suite.name,
        "suite_path": str(suite.source) if suite.source else None,
        "suite_sha256": suite_hash(suite),
        "mode": "recorded" if suite.is_recorded else "live",
        "status": "running",
        "started_at": old.get("started_at") or datetime.now(UTC).isoformat(),
        "litellm_version": litellm_version(),
        "jobs": jobs,
        "settings": {"max_spend_usd": settings.max_spend_usd,
                     "repeats": settings.repeats, "limit": settings.limit,
                     "concurrency": settings.concurrency},
    }


def _write_inputs(suite: Suite, examples: list[Example], run_dir: Path,
                  meta: dict[str, Any]) -> None:
    import pandas as pd

    store.atomic_write_text(run_dir / store.SUITE_FILE, suite.resolved_yaml())
    frame = pd.DataFrame({
        "example_id": [e.id for e in examples],
        "task_type": [e.task_type for e in examples],
        "input": [e.text for e in examples],
        "reference": [None if e.reference is None else str(e.reference)
                      for e in examples]})
    store.write_table(frame, run_dir / store.EXAMPLES_FILE, store.EXAMPLE_COLUMNS)
    store.atomic_write_json(run_dir / store.META_FILE, meta)


def _write_rows(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    store.write_results(store.results_frame(rows), run_dir / store.RESULTS_FILE)


def _finish(suite: Suite, run_dir: Path, meta: dict[str, Any],
            rows: list[dict[str, Any]], tally: Tally, status: str) -> RunReport:
    frame = store.results_frame(rows)
    summary = summarize(frame, suite) if len(frame) else []
    run_totals = totals(frame)
    store.atomic_write_json(run_dir / store.SUMMARY_FILE, {
        "schema_version": store.SCHEMA_VERSION, "run_id": run_dir.name,
        "suite": suite.name, "totals": run_totals, "rows": summary})
    meta.update(status=status, finished_at=datetime.now(UTC).isoformat(),
                rows=len(rows), calls=tally.calls, cache_hits=tally.cache_hits,
                errors=tally.errors, spent_usd=tally.spent_usd,
                unpriced_calls=tally.unpriced,
                grader_unpriced_calls=tally.grader_unpriced,
                not_launched=tally.not_launched,
                stop_reason=tally.stop_reason)
    store.atomic_write_json(run_dir / store.META_FILE, meta)
    return RunReport(run_dir, status, meta["jobs"], tally, summary, run_totals)


def _finished_rows(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / store.RESULTS_FILE
    if not path.exists():
        return []
    frame = store.read_results(run_dir)
    frame = frame[frame["error"].isna()]
    return [{k: (None if _missing(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def _missing(value: Any) -> bool:
    import pandas as pd

    return (value is None or value is pd.NA
            or (isinstance(value, float) and value != value))


def _settings_from_meta(settings: RunSettings, meta: dict[str, Any]) -> RunSettings:
    saved = meta.get("settings") or {}
    return RunSettings(
        reports=settings.reports, cache_path=settings.cache_path,
        max_spend_usd=settings.max_spend_usd if settings.max_spend_usd is not None
        else saved.get("max_spend_usd"),
        concurrency=settings.concurrency or saved.get("concurrency"),
        repeats=saved.get("repeats"), limit=saved.get("limit"))


def _close(provider: Provider) -> None:
    cache = getattr(provider, "cache", None)
    if cache is not None:
        cache.close()
