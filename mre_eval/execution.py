"""Execute a run's jobs: call (or replay) each one, grade it, keep its row.

Calls run under a global and a per-model concurrency limit.  Finished rows are
checkpointed to the run folder every few seconds and the response cache keeps
every finished live call, so a killed run loses nothing that was paid for and
``--resume`` picks up where it stopped.  With a spend cap, a call is launched
only while the money spent plus the worst case of every call in flight stays
under the cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mre_eval.console import usd
from mre_eval.errors import MreEvalError
from mre_eval.graders import Grader, Sample, make_grader
from mre_eval.plan import Job, worst_case_cost
from mre_eval.providers.base import CallOutcome, Provider
from mre_eval.suite import Suite

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 5.0


class RunObserver(Protocol):
    """Told about a run's progress; the CLI draws a progress bar from it."""

    def started(self, total: int) -> None: ...

    def finished(self, row: dict[str, Any], spent_usd: float) -> None: ...


@dataclass
class Tally:
    """What a run did, as it goes."""

    calls: int = 0          # live calls sent, cache hits excluded
    cache_hits: int = 0
    errors: int = 0
    unpriced: int = 0       # live calls sent whose price is unknown
    grader_unpriced: int = 0  # LLM judge calls whose price is unknown
    spent_usd: float = 0.0
    not_launched: int = 0
    stop_reason: str | None = None


def tally_of(rows: list[dict[str, Any]], live: bool) -> Tally:
    """What a run's finished rows already did, so a resumed run counts on.

    A resumed run's spend, calls and spend cap cover the whole run, not only
    what is left to do.
    """
    tally = Tally()
    for row in rows:
        hit = bool(row["cache_hit"])
        tally.cache_hits += hit
        _count_grader(tally, row)
        if live and not hit:
            tally.calls += 1
            if row["cost_usd"] is not None:
                tally.spent_usd += row["cost_usd"]
            else:
                tally.unpriced += 1
    return tally


@dataclass
class Execution:
    """Executes jobs against a provider and collects result rows.

    Args:
        provider: answers the calls.
        suite: the suite, for graders and concurrency.
        run_id: written into every row.
        max_spend_usd: stop launching before spend could pass it; ``None``
            for no cap.
        concurrency: calls in flight at once, over all models.
        per_model_concurrency: calls in flight at once to one model.
        live: whether calls cost money (a live provider, not a replay).
        checkpoint: called with the rows so far, every few seconds.
        observer: told about every finished row.
    """

    provider: Provider
    suite: Suite
    run_id: str
    max_spend_usd: float | None
    concurrency: int
    per_model_concurrency: int
    live: bool = False
    checkpoint: Any = None
    observer: RunObserver | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self._graders: dict[str, Grader] = {
            task.name: make_grader(task.grader, self.suite.base_dir)
            for task in self.suite.task_types}
        self._reserved = 0.0
        # counted apart from the dollars: float sums of reservations added and
        # released in different orders need not come back to exactly zero
        self._in_flight = 0
        self._next_checkpoint = time.monotonic() + CHECKPOINT_EVERY_S

    async def run(self, jobs: list[Job]) -> None:
        """Run ``jobs`` in order, stopping early only for the spend cap."""
        slots = asyncio.Semaphore(self.concurrency)
        per_model = {m.name: asyncio.Semaphore(self.per_model_concurrency)
                     for m in self.suite.models}
        self._room = asyncio.Condition()
        running: set[asyncio.Task[None]] = set()
        for index, job in enumerate(jobs):
            await slots.acquire()
            worst = await self._reserve(job)
            if worst is None:
                slots.release()
                self.tally.not_launched = len(jobs) - index
                break
            task = asyncio.create_task(self._one(job, worst, slots,
                                                 per_model[job.model.name]))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)

    async def _reserve(self, job: Job) -> float | None:
        """Reserve the job's worst-case cost under the cap; ``None`` to stop.

        An LLM judge's cost counts toward spend once paid but is not reserved
        in advance, so with a judge the cap can be passed by the judge calls
        in flight (at most one per call in flight).
        """
        if self.max_spend_usd is None:
            return 0.0
        worst = worst_case_cost(job) or 0.0
        async with self._room:
            while self.tally.spent_usd + self._reserved + worst > self.max_spend_usd:
                if self._in_flight == 0:
                    self.tally.stop_reason = (
                        f"spend cap {usd(self.max_spend_usd)}: "
                        f"{usd(self.tally.spent_usd)} spent, and the next call "
                        f"({job.model.name} on example {job.example.id!r}) could "
                        f"cost up to {usd(worst)}")
                    return None
                await self._room.wait()
            self._reserved += worst
            self._in_flight += 1
        return worst

    async def _one(self, job: Job, worst: float, slots: asyncio.Semaphore,
                   model_slots: asyncio.Semaphore) -> None:
        try:
            async with model_slots:
                outcome = await self.provider.complete(job.request())
            row = await self._row(job, outcome)
            self._record(row, outcome)
        finally:
            slots.release()
            if self.max_spend_usd is not None:
                async with self._room:
                    self._reserved -= worst
                    self._in_flight -= 1
                    if self._in_flight == 0:
                        self._reserved = 0.0
                    self._room.notify_all()

    async def _row(self, job: Job, outcome: CallOutcome) -> dict[str, Any]:
        score, grader_cost, error = None, 0.0, outcome.error
        if error is None and outcome.response is not None:
            score, grader_cost, error = await self._grade(job, outcome)
        usage = outcome.usage
        return {
            "run_id": self.run_id, "example_id": job.example.id,
            "task_type": job.task.name, "model": job.model.name,
            "litellm_model": job.model.model, "prompt_variant": job.prompt.id,
            "repeat": job.repeat,
            "input_tokens": usage.input_tokens if usage else None,
            "output_tokens": usage.output_tokens if usage else None,
            "cached_tokens": usage.cached_tokens if usage else None,
            "cache_write_tokens": usage.cache_write_tokens if usage else None,
            "cache_write_1h_tokens": usage.cache_write_1h_tokens if usage else None,
            "reasoning_tokens": usage.reasoning_tokens if usage else None,
            "cost_usd": outcome.cost.usd, "cost_source": outcome.cost.source,
            "grader_cost_usd": grader_cost, "latency_s": outcome.latency_s,
            "score": score,
            "passed": None if score is None else score >= job.task.pass_mark,
            "error": error, "cache_hit": outcome.cache_hit,
            "response_hash": _digest(outcome.response), "response": outcome.response,
        }

    async def _grade(self, job: Job, outcome: CallOutcome
                     ) -> tuple[float | None, float | None, str | None]:
        sample = Sample(outcome.response or "", job.example, outcome.recorded_score)
        try:
            grade = await self._graders[job.task.name].grade(sample)
        except MreEvalError as exc:
            log.warning("could not grade %s / %s: %s", job.example.id,
                        job.model.name, exc)
            # a judge paid for a reply it could not use: keep that cost
            return None, getattr(exc, "cost_usd", 0.0), f"grading failed: {exc}"
        return grade.score, grade.cost_usd, None

    def _record(self, row: dict[str, Any], outcome: CallOutcome) -> None:
        tally = self.tally
        tally.cache_hits += outcome.cache_hit
        tally.errors += row["error"] is not None
        # an LLM judge is called on every run, cached response or not
        _count_grader(tally, row)
        if self.live and not outcome.cache_hit:
            tally.calls += 1
            if outcome.cost.usd is not None:
                tally.spent_usd += outcome.cost.usd
            elif outcome.error is None:
                tally.unpriced += 1
        self.rows.append(row)
        if self.observer is not None:
            self.observer.finished(row, tally.spent_usd)
        if self.checkpoint and time.monotonic() >= self._next_checkpoint:
            self._save_checkpoint()

    def _save_checkpoint(self) -> None:
        # a checkpoint rewrites every row so far; spacing them by ten times
        # their own cost keeps that under a tenth of a long run's time
        start = time.monotonic()
        self.checkpoint(self.rows)
        took = time.monotonic() - start
        self._next_checkpoint = time.monotonic() + max(CHECKPOINT_EVERY_S, 10 * took)


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def _count_grader(tally: Tally, row: dict[str, Any]) -> None:
    # grader_cost_usd is null only for an LLM judge call of unknown price
    if row["grader_cost_usd"] is None:
        tally.grader_unpriced += 1
    else:
        tally.spent_usd += row["grader_cost_usd"]
