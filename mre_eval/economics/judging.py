"""Whether a cached answer is right for the request it was served to.

Two judges:

- :func:`key_judge` (the default): right when the two requests have the same
  answer key (an answer id, an answer group, or equal references);
- :class:`GraderJudge`: right when the task type's grader passes the stored
  answer against the new request's example, as a run would have graded it.

:func:`near_misses` lists the wrong hits that looked most alike, and tags what
kind of look-alike each is.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mre_eval.errors import ConfigError, DataError

if TYPE_CHECKING:
    from mre_eval.economics.traffic import Request

log = logging.getLogger(__name__)

Pair = tuple[int, int]  # (cached request index, new request index)

_NEGATIONS = {"not", "no", "never", "without", "dont", "don't", "doesnt",
              "doesn't", "cant", "can't", "cannot", "isnt", "isn't",
              "wont", "won't", "didnt", "didn't", "nor"}


# words whose swap turns a request into its opposite
_OPPOSITES = {frozenset(p) for p in (
    ("on", "off"), ("enable", "disable"), ("add", "remove"),
    ("upgrade", "downgrade"), ("create", "revoke"), ("create", "delete"),
    ("annual", "monthly"), ("yearly", "monthly"), ("start", "stop"),
    ("pause", "resume"), ("lock", "unlock"), ("increase", "decrease"),
    ("more", "fewer"), ("allow", "block"), ("subscribe", "unsubscribe"))}


class Judge(Protocol):
    """Says, for each (cached, new) pair, whether the cached answer is right."""

    def __call__(self, requests: Sequence[Request],
                 pairs: Sequence[Pair]) -> list[bool]: ...


def key_judge(requests: Sequence[Request], pairs: Sequence[Pair]) -> list[bool]:
    """Right when both requests carry the same answer key.

    Raises:
        DataError: when a request has no answer key to judge by.
    """
    out = []
    for cached, new in pairs:
        for i in (cached, new):
            if requests[i].answer_key is None:
                raise DataError(
                    f"request {requests[i].id!r} has no answer to judge a cache "
                    "hit by: give every row an answer id or a reference, or "
                    "judge with the suite's graders (--grader)")
        out.append(requests[cached].answer_key == requests[new].answer_key)
    return out


class GraderJudge:
    """Grades the stored answer against the new request with its task's grader.

    Args:
        suite: the suite whose task types name the graders and pass marks.
        examples: example id -> dataset example, for requests without one.
    """

    def __init__(self, suite: Any, examples: dict[str, Any] | None = None) -> None:
        from mre_eval.graders import make_grader

        self.suite = suite
        self.examples = examples or {}
        replayed = [t.name for t in suite.task_types if t.grader.kind == "recorded"]
        if replayed:
            raise ConfigError(
                f"task types {replayed} replay recorded scores, which cannot "
                "judge a cached answer against another request: judge by "
                "reference instead (drop --grader)")
        self.graders = {t.name: make_grader(t.grader, suite.base_dir)
                        for t in suite.task_types}
        self.grading_cost: float | None = 0.0

    def __call__(self, requests: Sequence[Request],
                 pairs: Sequence[Pair]) -> list[bool]:
        return asyncio.run(self._all(requests, pairs))

    async def _all(self, requests: Sequence[Request],
                   pairs: Sequence[Pair]) -> list[bool]:
        return list(await asyncio.gather(
            *(self._one(requests[c], requests[n]) for c, n in pairs)))

    async def _one(self, cached: Request, new: Request) -> bool:
        from mre_eval.graders import Sample

        example = new.example or self.examples.get(new.id)
        if example is None or cached.answer is None:
            raise DataError(
                f"cannot grade the cached answer for request {new.id!r}: its "
                "example or the cached answer is missing")
        grade = await self.graders[new.group].grade(Sample(cached.answer, example))
        if grade.cost_usd is None or self.grading_cost is None:
            self.grading_cost = None
        else:
            self.grading_cost += grade.cost_usd
        return grade.score >= self.suite.task(new.group).pass_mark


def judge_pairs(requests: Sequence[Request], pairs: Iterable[Pair],
                judge: Judge | None = None) -> set[Pair]:
    """The pairs whose cached answer is wrong for the new request."""
    ordered = sorted(pairs)
    if not ordered:
        return set()
    verdicts = (judge or key_judge)(requests, ordered)
    return {pair for pair, right in zip(ordered, verdicts) if not right}


@dataclass(frozen=True)
class NearMiss:
    """Two requests that look alike but deserve different answers.

    ``served`` says the new request was given the cached one's wrong answer
    in the replay at the recommended threshold, not only at a looser one.
    """

    new: str
    cached: str
    similarity: float
    kind: str  # swapped | negation | amount | name | opposite | other
    served: bool = False


def near_misses(requests: Sequence[Request],
                wrong: Iterable[tuple[int, int, float]],
                per_kind: int = 3,
                served: Iterable[Pair] = ()) -> list[NearMiss]:
    """The most alike wrong hits of each kind, one per pair of distinct texts.

    The kind is a heuristic read of the two texts (:func:`look_alike_kind`).
    Up to ``per_kind`` of each kind: pairs in ``served`` (wrong at the
    recommended threshold) first, then the most alike; listed most alike first.
    """
    served_texts = {frozenset((requests[c].text, requests[n].text))
                    for c, n in served}
    seen: set[frozenset[str]] = set()
    taken: dict[str, int] = {}
    out = []
    rows = [(c, n, sim, frozenset((requests[c].text, requests[n].text)))
            for c, n, sim in wrong]
    for cached, new, sim, pair in sorted(
            rows, key=lambda r: (r[3] not in served_texts, -r[2], r[1])):
        a, b = requests[cached].text, requests[new].text
        kind = look_alike_kind(a, b)
        if pair in seen or taken.get(kind, 0) >= per_kind:
            continue
        seen.add(pair)
        taken[kind] = taken.get(kind, 0) + 1
        out.append(NearMiss(b, a, sim, kind, pair in served_texts))
    return sorted(out, key=lambda m: -m.similarity)


def look_alike_kind(a: str, b: str) -> str:
    """What separates two similar texts.

    One of ``swapped`` (the same words in another order: "from Tom to Sara"),
    ``negation``, ``amount``, ``name``, ``opposite`` (a word and its opposite:
    "enable" and "disable") or ``other``.
    """
    words_a, words_b = _words(a), _words(b)
    core_a, core_b = _core(a), _core(b)
    if core_a != core_b and sorted(core_a) == sorted(core_b):
        return "swapped"
    if _reordered(_name_list(a), _name_list(b)):
        return "swapped"
    if bool(words_a & _NEGATIONS) != bool(words_b & _NEGATIONS):
        return "negation"
    if _numbers(a) != _numbers(b):
        return "amount"
    if _names(a) != _names(b):
        return "name"
    if _opposed(Counter(core_a), Counter(core_b)):
        return "opposite"
    return "other"


def _opposed(a: Counter[str], b: Counter[str]) -> bool:
    # counted, so "turn on ... sign-on" still differs from "turn off ... sign-on"
    return any(frozenset((x, y)) in _OPPOSITES for x in a - b for y in b - a)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def _core(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)?", text))


def _names(text: str) -> set[str]:
    return set(_name_list(text))


def _name_list(text: str) -> list[str]:
    # a word opening the text or a sentence is capitalised by grammar
    found = re.finditer(r"(^|[.!?:]\s*)?\b([A-Za-z][a-z]+)", text)
    return [m.group(2) for m in found
            if m.group(1) is None and m.group(2)[0].isupper()]


def _reordered(names_a: list[str], names_b: list[str]) -> bool:
    # the names both texts share, met in another order ("from Tom to Sara")
    shared = set(names_a) & set(names_b)
    order_a = [n for n in names_a if n in shared]
    order_b = [n for n in names_b if n in shared]
    return len(shared) > 1 and order_a != order_b
