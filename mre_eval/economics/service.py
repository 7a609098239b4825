"""What each economics command does, from its inputs to a plain report.

The CLI parses options and calls one function here; each function loads its
inputs (a dataset, a suite, a run, a routing file, a scenario), calls the
module that does the work, appends to the decision log when asked, and
returns data the CLI renders.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mre_eval.economics import decisions
from mre_eval.economics.budget import BudgetReport, check_budgets
from mre_eval.economics.cacherates import CacheRates, load_rates
from mre_eval.economics.cachesim import (CacheSimResult, by_task_type,
                                         hit_rate_by_quarter, simulate,
                                         sweep_table)
from mre_eval.economics.forecast import Forecast, check_multiples, months_to_budget
from mre_eval.economics.routing import (ROUTED, RoutedCosts, check_known,
                                        from_results, from_routing)
from mre_eval.errors import ConfigError, DataError

log = logging.getLogger(__name__)


@dataclass
class CacheSimSource:
    """Where the traffic comes from: exactly one of dataset, suite or run."""

    dataset: Path | None = None
    suite: Path | None = None
    run: str | None = None
    model: str | None = None
    prompt_variant: str | None = None
    text_column: str | None = None
    answer_column: str | None = None
    cost_per_request: float | None = None
    use_grader: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)


def cache_sim(source: CacheSimSource, embedder: str = "tfidf",
              thresholds: list[float] | None = None, tolerance: float = 0.02,
              record: Path | None = None) -> tuple[CacheSimResult, dict[str, Any]]:
    """Replay the source's traffic and return the result and its report."""
    from mre_eval.economics.cachesim import DEFAULT_THRESHOLDS, check_sweep
    from mre_eval.economics.similarity import make_embedder

    sweep = thresholds or list(DEFAULT_THRESHOLDS)
    check_sweep(sweep, tolerance, 1)
    if source.cost_per_request is not None and source.cost_per_request < 0:
        raise ConfigError(f"cost per request {source.cost_per_request!r} is "
                          "negative: give dollars per request, zero or more")
    requests, judge = _traffic(source)
    result = simulate(requests, make_embedder(embedder), sweep, tolerance, judge)
    report = cache_report(result, source.inputs)
    if record is not None:
        decisions.append_decision(record, "cache_threshold", _cache_decision(report),
                                  {"sweep": report["sweep"]}, source.inputs)
    return result, report


def cache_report(result: CacheSimResult, inputs: dict[str, Any]) -> dict[str, Any]:
    """The plain report of a cache simulation."""
    rec = result.recommended
    recommended = None
    if rec is not None:
        recommended = {
            "threshold": rec.threshold, "embedder": result.embedder,
            "hit_rate": rec.hit_rate, "hits": len(rec.hits),
            "false_hits": len(rec.false_hits),
            "false_hit_rate": rec.false_rate.point,
            "false_hit_rate_high": rec.false_rate.high,
            "tolerance": result.tolerance, "saved_usd": rec.saved_usd,
            "hit_rate_by_quarter": hit_rate_by_quarter(rec),
            "by_task_type": by_task_type(result, rec)}
    rate = result.embedded_texts / result.embed_seconds \
        if result.embed_seconds else None
    return {
        "embedder": result.embedder, "tolerance": result.tolerance,
        "requests": len(result.requests),
        "interval": "Wilson score, 95% two-sided",
        "sweep": sweep_table(result), "recommended": recommended,
        "near_misses": [n.__dict__ for n in result.near_misses],
        "embedding": {"texts": result.embedded_texts,
                      "seconds": result.embed_seconds, "texts_per_second": rate},
        "inputs": inputs,
    }


def _cache_decision(report: dict[str, Any]) -> dict[str, Any]:
    # "do not cache semantically" is a decision too, and worth its record
    if report["recommended"] is not None:
        return report["recommended"]
    return {"threshold": None, "embedder": report["embedder"],
            "tolerance": report["tolerance"],
            "decision": "do not cache semantically: no threshold's false-hit "
                        "rate has a 95% upper bound under the tolerance"}


def _traffic(source: CacheSimSource) -> tuple[list[Any], Any]:
    from mre_eval.economics import traffic

    given = [x for x in (source.dataset, source.suite, source.run) if x is not None]
    if len(given) != 1:
        raise ConfigError("give exactly one source: a dataset file, --suite "
                          "SUITE or --run RUN")
    if source.dataset is not None:
        source.inputs.update(dataset=str(source.dataset),
                             dataset_sha256=_file_hash(source.dataset))
        return traffic.from_file(source.dataset, source.text_column,
                                 source.answer_column,
                                 cost_per_request=source.cost_per_request), None
    if source.suite is not None:
        suite = _load_suite(source.suite)
        source.inputs.update(suite=suite.name, suite_sha256=suite.sha256())
        judge = _grader_judge(suite) if source.use_grader else None
        return traffic.from_suite(suite, source.cost_per_request), judge
    return _run_traffic(source)


def _run_traffic(source: CacheSimSource) -> tuple[list[Any], Any]:
    from mre_eval.economics import traffic
    from mre_eval.results import find_run, read_meta

    run = find_run(source.run)
    meta = read_meta(run)
    source.inputs.update(run_id=meta.get("run_id", run.name),
                         suite_sha256=meta.get("suite_sha256"))
    requests, (model, variant) = traffic.from_run(run, source.model,
                                                  source.prompt_variant)
    source.inputs.update(answers_of=f"{model} / {variant}")
    judge = None
    if source.use_grader:
        from mre_eval.datasets import load_dataset
        from mre_eval.suite_loader import load_run_suite

        suite = load_run_suite(run)
        judge = _grader_judge(suite, {e.id: e for e in load_dataset(suite)})
    return requests, judge


def _grader_judge(suite: Any, examples: dict[str, Any] | None = None) -> Any:
    from mre_eval.economics.judging import GraderJudge

    return GraderJudge(suite, examples)


def budget(run: str | None = None, routing: Path | None = None,
           suite: Path | None = None, days_per_month: float = 30.0,
           task_types: list[str] | None = None,
           record: Path | None = None) -> BudgetReport:
    """Check a run, or a routing file, against the suite's budgets."""
    loaded, costs, inputs = _costs(run, routing, suite)
    report = check_budgets(loaded, costs, days_per_month, task_types)
    if record is not None:
        over = [f"{x.task_type} ({x.config})" for x in report.over_budget]
        decisions.append_decision(record, "budget", {"over_budget": over},
                                  report.as_dict(), inputs)
    return report


def forecast(scenario: Path | None = None, run: str | None = None,
             routing: Path | None = None, suite: Path | None = None,
             hit_rate: float | None = None, cache_sim_report: Path | None = None,
             days_per_month: float | None = None,
             multiples: list[float] | None = None,
             record: Path | None = None) -> Forecast:
    """The monthly bill of a scenario file, or of a run under its routing."""
    from mre_eval.economics.forecast import project
    from mre_eval.economics.scenario import (from_costs, load_scenario,
                                             parse_scenario)

    if multiples is not None:
        multiples = check_multiples(multiples)
    rates = load_rates(hit_rate, cache_sim_report)
    if scenario is not None and (run, routing, suite) != (None, None, None):
        raise ConfigError("give a scenario file, or a run / routing file / suite, "
                          "not both: a scenario carries its own tiers and prices")
    if scenario is not None and rates != CacheRates():
        raise ConfigError(
            "--cache-hit-rate and --cache-sim apply to the task types of a run "
            "or routing file, not to a scenario: set cache_hit_rate or "
            "cached_price on the scenario's tiers instead")
    caching = None
    if scenario is not None:
        plan = load_scenario(scenario)
        update = {"multiples": multiples, "days_per_month": days_per_month}
        given = {k: v for k, v in update.items() if v is not None}
        # validated again: an option may not set what the file could not
        plan = parse_scenario(plan.model_dump() | given, "command line")
        inputs: dict[str, Any] = {"scenario": str(scenario),
                                  "scenario_sha256": _file_hash(scenario)}
        extra: list[str] = []
    else:
        loaded, costs, inputs = _costs(run, routing, suite)
        config = ROUTED if routing is not None else _only_config(costs)
        days = 30.0 if days_per_month is None else days_per_month
        plan, caching = from_costs(loaded, costs, config, rates, days, multiples)
        extra = _horizons(loaded, plan, days)
    result = project(plan, caching)
    result.findings += extra
    if record is not None:
        first = result.as_dict()["projections"][0]
        decisions.append_decision(
            record, "forecast",
            {"monthly_usd": first["routed_cached_usd"],
             "reduction": first["reduction"]}, result.as_dict(), inputs)
    return result


def _costs(run: str | None, routing: Path | None,
           suite: Path | None) -> tuple[Any, RoutedCosts, dict[str, Any]]:
    from mre_eval.results import find_run, read_examples, read_meta, read_results
    from mre_eval.suite_loader import load_run_suite

    if run is None and routing is None:
        raise ConfigError("nothing to price: give a run (its folder or name), "
                          "or a routing file (--routing) with its suite "
                          "(--suite); forecast also takes --scenario FILE")
    run_dir = find_run(run) if run is not None else None
    if suite is None and run_dir is None:
        raise ConfigError("a routing file alone names no budgets or volumes: "
                          "give --suite SUITE, or a run")
    loaded = _load_suite(suite) if suite is not None else load_run_suite(run_dir)
    inputs: dict[str, Any] = {"suite": loaded.name, "suite_sha256": loaded.sha256()}
    costs = None
    if run_dir is not None:
        inputs["run_id"] = read_meta(run_dir).get("run_id", run_dir.name)
        costs = from_results(read_results(run_dir))
    if routing is not None:
        examples = read_examples(run_dir) if run_dir is not None else None
        costs = from_routing(routing, costs, examples)
        check_known(costs, loaded)
        inputs["routing"] = str(routing)
        inputs["routing_sha256"] = _file_hash(routing)
    return loaded, costs, inputs


def _only_config(costs: RoutedCosts) -> str:
    configs = {c for per in costs.per_request.values() for c in per}
    if len(configs) != 1:
        raise ConfigError(
            f"the run holds {len(configs)} configurations and no routing file "
            "says which one serves traffic: give --routing routing.json (from "
            "`mre-eval optimize`)")
    return configs.pop()


def _horizons(suite: Any, plan: Any, days: float) -> list[str]:
    notes = []
    for stream in plan.streams():
        budget_spec = suite.task(stream.name).budget
        if budget_spec.monthly_usd is None:
            continue
        limit = f"{budget_spec.monthly_usd:,.2f} USD budget"
        now = stream.month_cost(stream.requests_per_day * days, cached=True)
        months = months_to_budget(now, budget_spec.monthly_usd,
                                  budget_spec.monthly_growth)
        if months == 0:
            notes.append(f"{stream.name}: already over its {limit}")
        elif months is not None:
            notes.append(f"{stream.name}: over its {limit} in {months} month(s) "
                         f"at {budget_spec.monthly_growth:.0%} monthly growth")
        over = [m for m in plan.multiples if _over(stream, m, days, budget_spec)]
        if months != 0 and over:
            notes.append(f"{stream.name}: over its {limit} from {over[0]:g}x "
                         "traffic")
    return notes


def _over(stream: Any, multiple: float, days: float, budget_spec: Any) -> bool:
    cost = stream.month_cost(stream.requests_per_day * multiple * days, cached=True)
    return cost is not None and cost > budget_spec.monthly_usd


def _load_suite(path: Path) -> Any:
    from mre_eval.suite_loader import load_suite

    return load_suite(path, check_models=False)


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}; check the path") \
            from exc
