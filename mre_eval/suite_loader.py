"""Read a suite file into a :class:`~mre_eval.suite.Suite`, or say exactly why not.

Every error names the file, the line and column of the offending value, the
value, what is allowed and, for an unknown key, the closest allowed key.
Beyond the schema it checks what only the whole suite can tell: unique names,
prompt variants that serve declared task types, known graders, model strings
litellm can route, and placeholders that the dataset's columns can fill.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from mre_eval import suite as schema
from mre_eval.errors import ConfigError, DataError, SuiteError

Position = tuple[int, int]
_Path = tuple[str | int, ...]

RUN_SUITE_FILE = "suite.resolved.yaml"


def load_suite(path: Path | str, check_models: bool | None = None,
               check_data: bool = True) -> schema.Suite:
    """Load and validate a suite file.

    A ``suite.resolved.yaml`` inside a run folder resolves its relative paths
    against the original suite's folder, which the run recorded.

    Args:
        path: the YAML file.
        check_models: also check that litellm can route every model string;
            by default only for suites that call models live (a replay never
            routes a call, and checking would import litellm for nothing).
        check_data: also check the dataset and recorded files and their
            columns against the suite.

    Raises:
        SuiteError: with file, line and column, for any invalid content.
    """
    path = Path(path)
    text = _read(path)
    data, positions = _parse(text, path)
    suite = _validate(data, positions, path)
    suite._source = _source_for(path)
    suite._text = text
    _check_names(suite, positions, path)
    _check_graders(suite, positions, path)
    if check_models or (check_models is None and not suite.is_recorded):
        _check_models(suite, positions, path)
    if check_data:
        _check_dataset(suite, positions, path)
    return suite


def load_run_suite(run: Path, check_data: bool = False) -> schema.Suite:
    """Load the suite a run was made with, from its run folder.

    Its dataset is not checked unless asked: a run copied to another machine
    (a committed baseline) keeps its results but not the original dataset.
    """
    return load_suite(run / RUN_SUITE_FILE, check_models=False,
                      check_data=check_data)


def suite_hash(suite: schema.Suite) -> str:
    """A hash of the suite's validated content: same suite, same hash."""
    import hashlib

    canonical = json.dumps(suite.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError("suite file not found; give the path to a suite YAML "
                         "file, e.g. suites/routerbench.yaml", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite file: {exc}", path) from None


def _parse(text: str, path: Path) -> tuple[Any, dict[_Path, Position]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SuiteError(f"YAML syntax error: {problem}; fix the YAML at this "
                         "place", path, *_mark(mark)) from None
    if not isinstance(data, dict):
        raise SuiteError("a suite must be a YAML mapping with keys name, dataset, "
                         "task_types, models and prompts", path, 1, 1)
    positions: dict[_Path, Position] = {}
    _collect(node, (), positions)
    return data, positions


def _mark(mark: Any) -> tuple[int | None, int | None]:
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


def _collect(node: yaml.Node, at: _Path, out: dict[_Path, Position]) -> None:
    out[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = at + (key.value,)
            _collect(value, child, out)
            out[child + ("<key>",)] = (key.start_mark.line + 1,
                                       key.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect(item, at + (index,), out)


def _where(positions: dict[_Path, Position], at: _Path,
           key: bool = False) -> Position | tuple[None, None]:
    if key and at + ("<key>",) in positions:
        return positions[at + ("<key>",)]
    while at and at not in positions:
        at = at[:-1]
    return positions.get(at, (None, None))


def _dotted(at: _Path) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "the suite"


def _validate(data: dict[str, Any], positions: dict[_Path, Position],
              path: Path) -> schema.Suite:
    try:
        return schema.Suite.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        at = tuple(p for p in first["loc"] if not _is_union_tag(p))
        message = _explain(first, at, data)
        if len(errors) > 1:
            message += f" ({len(errors) - 1} more problem(s) after this one)"
        unknown_key = first["type"] == "extra_forbidden"
        raise SuiteError(message, path, *_where(positions, at, unknown_key)) from None


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"function-after",
                                                                "function-before"})


def _explain(error: dict[str, Any], at: _Path, data: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(at)
    if kind == "missing":
        return f"{_dotted(at)} is required but missing; add it"
    value = error.get("input")
    shown = json.dumps(value, default=str) if not isinstance(value, dict) else "{...}"
    if len(shown) > 80:
        shown = shown[:77] + "..."
    reason = error["msg"].removeprefix("Value error, ")
    return f"{_dotted(at)}: {shown} is not allowed: {reason}"


def _unknown_key(at: _Path) -> str:
    key = str(at[-1])
    model = _model_at(at[:-1])
    allowed = sorted(model.model_fields) if model else []
    hint = difflib.get_close_matches(key, allowed, n=1)
    message = f"unknown key {key!r} in {_dotted(at[:-1])}"
    if hint:
        message += f"; did you mean {hint[0]!r}?"
    if allowed:
        message += f" Allowed keys: {', '.join(allowed)}"
    return message


def _model_at(at: _Path) -> type[BaseModel] | None:
    model: type[BaseModel] = schema.Suite
    for part in at:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        inner = _model_in(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _source_for(path: Path) -> Path:
    # a run folder's resolved copy resolves paths against the original suite
    meta = path.parent / "run.json"
    if path.name == RUN_SUITE_FILE and meta.exists():
        original = json.loads(meta.read_text()).get("suite_path")
        if original:
            return Path(original)
    return path.resolve()


def _fail(message: str, path: Path, positions: dict[_Path, Position],
          at: _Path) -> SuiteError:
    return SuiteError(message, path, *_where(positions, at))


def _check_names(suite: schema.Suite, positions: dict[_Path, Position],
                 path: Path) -> None:
    for section, attr in (("task_types", "name"), ("models", "name"),
                          ("prompts", "id")):
        seen: set[str] = set()
        for index, item in enumerate(getattr(suite, section)):
            value = getattr(item, attr)
            if value in seen:
                raise _fail(f"duplicate {attr} {value!r} in {section}; each "
                            f"{attr} must be unique", path, positions,
                            (section, index, attr))
            seen.add(value)
    declared = [t.name for t in suite.task_types]
    for index, prompt in enumerate(suite.prompts):
        for name in prompt.task_types or []:
            if name not in declared:
                raise _fail(_unknown("task type", name, declared), path, positions,
                            ("prompts", index, "task_types"))
    for index, task in enumerate(suite.task_types):
        if not suite.prompts_for(task.name):
            raise _fail(f"no prompt variant serves task type {task.name!r}; add "
                        "it to a prompt's task_types or omit task_types there",
                        path, positions, ("task_types", index, "name"))


def _unknown(what: str, value: str, allowed: list[str]) -> str:
    hint = difflib.get_close_matches(value, allowed, n=1)
    message = f"unknown {what} {value!r}; declared: {', '.join(allowed)}"
    return message + (f"; did you mean {hint[0]!r}?" if hint else "")


def _check_graders(suite: schema.Suite, positions: dict[_Path, Position],
                   path: Path) -> None:
    from mre_eval.graders import make_grader

    for index, task in enumerate(suite.task_types):
        try:
            make_grader(task.grader, suite.base_dir)
        except ConfigError as exc:
            raise _fail(str(exc), path, positions,
                        ("task_types", index, "grader")) from None


def _check_models(suite: schema.Suite, positions: dict[_Path, Position],
                  path: Path) -> None:
    from mre_eval.providers.live import check_routable

    for index, model in enumerate(suite.models):
        try:
            check_routable(model)
        except ConfigError as exc:
            raise _fail(str(exc), path, positions,
                        ("models", index, "model")) from None


def _check_dataset(suite: schema.Suite, positions: dict[_Path, Position],
                   path: Path) -> None:
    spec = suite.dataset
    columns = _file_columns(suite, spec.path, spec.format, positions, path,
                            ("dataset", "path"))
    named = {key: getattr(spec, key) for key in
             ("id", "input", "messages", "reference", "task_type_column")}
    if spec.messages:
        named.pop("input")
    _check_columns(named, columns, spec.path, positions, path, ("dataset",))
    for index, prompt in enumerate(suite.prompts):
        for name in prompt.placeholders():
            if name not in columns:
                hint = difflib.get_close_matches(name, columns, n=1)
                raise _fail(
                    f"placeholder {{{name}}} has no column in the dataset; its "
                    f"columns are: {', '.join(columns)}"
                    + (f"; did you mean {{{hint[0]}}}?" if hint else ""),
                    path, positions, ("prompts", index, "template"))
    if suite.recorded is not None:
        recorded = suite.recorded
        columns = _file_columns(suite, recorded.path, recorded.format, positions,
                                path, ("recorded", "path"))
        _check_columns(recorded.columns.model_dump(), columns, recorded.path,
                       positions, path, ("recorded", "columns"))


def _file_columns(suite: schema.Suite, relative: str, fmt: str | None,
                  positions: dict[_Path, Position], path: Path,
                  at: _Path) -> list[str]:
    from mre_eval.datasets import dataset_columns

    try:
        return dataset_columns(suite.resolve(relative), fmt)
    except DataError as exc:
        raise _fail(str(exc), path, positions, at) from None


def _check_columns(named: dict[str, str | None], columns: list[str], data_file: str,
                   positions: dict[_Path, Position], path: Path,
                   at: _Path) -> None:
    for key, column in named.items():
        if column is not None and column not in columns:
            hint = difflib.get_close_matches(column, columns, n=1)
            raise _fail(
                f"{_dotted(at + (key,))}: {data_file} has no column {column!r}; its "
                f"columns are: {', '.join(columns)}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f". Set {key} to one of them", path, positions, at + (key,))
