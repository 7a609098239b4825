"""The multiple-choice grader: find the option letter a model chose.

Real answers are rarely just ``C``.  They come as ``C``, ``(B)``, ``B) dry
palms``, ``The answer is (B).``, ``Answer: D`` or a truncated refusal such as
``I do``.  The letter is looked for in this order, and the first rule that
finds one decides:

1. the whole answer is a letter, maybe wrapped: ``B``, ``(B)``, ``B.``, ``B)``;
2. an explicit statement: ``answer is B``, ``Answer: (b)``, ``option C``;
3. the answer starts with a letter followed by ``)``, ``.``, ``:`` or a line
   break: ``B) dry palms``, ``C. Because…``;
4. the answer starts with a letter and a space, unless that letter is ``A`` or
   ``I`` followed by a lowercase word (the English words "a" and "I");
5. a single distinct parenthesised letter anywhere: ``… so (D) fits``.

An answer with no letter scores 0 and says so in the detail.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import field_validator

from mre_eval.errors import DataError
from mre_eval.graders.base import ExpectedOptions, Grade, Grader, Sample, expected_value

_WRAPPERS = "()[]{}*_`'\" \t\r\n.:"


class ChoiceOptions(ExpectedOptions):
    """Options of the ``choice`` grader."""

    letters: str = "ABCDEFGHIJ"

    @field_validator("letters")
    @classmethod
    def _upper_letters(cls, letters: str) -> str:
        if not letters or not letters.isalpha() or not letters.isupper():
            raise ValueError("letters must be upper-case letters such as 'ABCD'")
        return letters


class ChoiceGrader(Grader):
    """1 when the option letter found in the response is the reference letter."""

    kind: ClassVar[str] = "choice"
    options_model = ChoiceOptions
    needs_reference = True
    options: ChoiceOptions

    async def grade(self, sample: Sample) -> Grade:
        wanted = self._reference_letter(sample)
        chosen = extract_choice(sample.response, self.options.letters)
        if chosen is None:
            return Grade(0.0, f"no choice letter found in {sample.response[:60]!r}")
        if chosen == wanted:
            return Grade(1.0, f"chose {chosen}")
        return Grade(0.0, f"chose {chosen}, expected {wanted}")

    def _reference_letter(self, sample: Sample) -> str:
        value = str(expected_value(self.options, sample, self.kind))
        letter = value.strip(_WRAPPERS).upper()
        if len(letter) != 1 or letter not in self.options.letters:
            example = sample.example
            raise DataError(
                f"example {example.id!r} ({example.where}): reference {value!r} "
                f"is not one of the letters {self.options.letters!r}; the choice "
                "grader needs the correct option's letter as its reference")
        return letter


def extract_choice(response: str, letters: str = "ABCDEFGHIJ") -> str | None:
    """The option letter a response chose, or ``None`` when it names none.

    Args:
        response: the model's raw answer.
        letters: the option letters that exist, upper case.

    Returns:
        The chosen letter, upper case, or ``None``.
    """
    text = response.strip()
    rules = (_whole, _stated, _leading_marked, _leading_word, _parenthesised)
    for rule in rules:
        letter = rule(text, letters)
        if letter is not None:
            return letter
    return None


def _whole(text: str, letters: str) -> str | None:
    core = text.strip(_WRAPPERS)
    return core if len(core) == 1 and core in letters else None


_STATED = re.compile(
    r"\b(?i:answer(?:\s+is)?|correct\s+(?:option|choice)(?:\s+is)?|option|choice)"
    r"\b\s*[:=]?\s*"
    r"(?:[(\[]([A-Za-z])[)\]]|\*{0,2}([A-Z])\b|([a-z])(?=\s*(?:[.)]|$)))")


def _stated(text: str, letters: str) -> str | None:
    found = [next(g for g in m.groups() if g).upper()
             for m in _STATED.finditer(text)]
    found = [letter for letter in found if letter in letters]
    return found[-1] if found else None


_LEADING_MARKED = re.compile(r"^[(\[*]*([A-Z])(?:[)\].:]|\s*\n)")


def _leading_marked(text: str, letters: str) -> str | None:
    match = _LEADING_MARKED.match(text)
    return match.group(1) if match and match.group(1) in letters else None


_LEADING_WORD = re.compile(r"^([A-Z])\s+(\S)")


def _leading_word(text: str, letters: str) -> str | None:
    match = _LEADING_WORD.match(text)
    if not match or match.group(1) not in letters:
        return None
    if match.group(1) in "AI" and match.group(2).islower():
        return None  # the article "a" or the pronoun "I", not an option
    return match.group(1)


_PARENTHESISED = re.compile(r"\(([A-Z])\)")


def _parenthesised(text: str, letters: str) -> str | None:
    found = {m.group(1) for m in _PARENTHESISED.finditer(text)} & set(letters)
    return found.pop() if len(found) == 1 else None
