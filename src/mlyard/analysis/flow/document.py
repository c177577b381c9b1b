"""Flow files: parsing YAML or JSON with line numbers, and validating the steps.

A flow file::

    version: 1
    description: what the flow does          # optional
    inputs: [raw]                             # bound by `mlyard flow run --input raw=FILE`
    steps:
      - rename: {"Review Text": review_body}  # the first step works on the only input
      - drop_missing: [review_body]
      - output: prepared                      # the current frame is the output `prepared`
      - split: {fractions: {train: 0.9, test: 0.1}, stratify: [sentiment], seed: 0}
      - input: train                          # go on from an input or an earlier output
      - lowercase: [review_body]
      - output: train_lower

Each step is a mapping with one key, the step type (:data:`STEP_TYPES`), whose value holds
its parameters (a list, text or mapping binds to the step's main parameter, e.g.
``drop: [a, b]``). Steps form a chain over a current frame; ``output`` and ``split`` name
the flow's outputs. A flow with neither has one output, ``output``: the last frame.

YAML 1.1 reads an unquoted ``yes``/``no``/``on``/``off`` as a boolean: quote such values
(``{Oslo: 'NO'}``). In JSON, mapping keys are always text (a ``map`` of numbers needs YAML).

Errors say ``<file> line N: step K (<type>): <problem>``. PyYAML's node marks give the
lines (JSON is parsed as YAML for them, after a strict ``json`` check). Column names are
checked statically by passing the inputs' headers through the steps
(:meth:`FlowDocument.check`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError as PydanticError

from mlyard.analysis.flow.steps import STEP_TYPES, ChainState, Schema, Step, Where
from mlyard.errors import NotFoundError, ValidationError

#: The flow format's version.
VERSION = 1
_TOP_KEYS = ("version", "description", "inputs", "steps")


class _Marked(dict[Any, Any]):
    """A mapping that remembers its line and its keys' lines (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    """A safe loader whose mappings are :class:`_Marked` (duplicate keys refused)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Marked:
    loader.flatten_mapping(node)
    data = _Marked()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a single value", key_node.start_mark
            ) from None
        if key in data:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line
    return data


class _MarkedList(list[Any]):
    """A sequence that remembers its items' lines (1-based)."""

    item_lines: list[int]


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _MarkedList:
    data = _MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    return data


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)  # type: ignore[arg-type]


def _load(text: str, source: str) -> Any:
    """The document's data (mappings marked with lines), or a ValidationError with a line."""
    if text.lstrip().startswith(("{", "[")):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{source} line {exc.lineno}: not valid JSON: {exc.msg}") \
                from None
        except RecursionError:
            raise ValidationError(f"{source}: the JSON is nested too deeply") from None
        text = text.replace("\t", " ")  # tabs may only be whitespace in valid JSON
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed"
        raise ValidationError(f"{source}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ValidationError(f"{source}: the document is nested too deeply") from None


def _line_of(data: Any, key: Any, default: int) -> int:
    if isinstance(data, _Marked):
        return data.key_lines.get(key, data.line)
    return default


@dataclass
class FlowDocument:
    """A parsed, validated flow: its inputs and steps (see the module doc)."""

    source: str
    inputs: tuple[str, ...]
    steps: list[Step]
    description: str = ""
    version: int = VERSION
    text: str = field(default="", repr=False)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of the flow's outputs, in the order they are made."""
        state = self._walk(None)
        return tuple(state.outputs)

    def _walk(self, headers: Mapping[str, Sequence[str]] | None) -> ChainState:
        named: dict[str, Any] = {
            name: Schema(tuple(str(c) for c in headers[name]))
            if headers is not None and name in headers else Schema.unknown()
            for name in self.inputs}
        state = ChainState(named=named)
        if len(self.inputs) == 1 and not isinstance(self.steps[0], STEP_TYPES["input"]):
            state.current = named[self.inputs[0]]
        for step in self.steps:
            step.check_static(state)
        if not state.outputs:
            state.outputs.append("output")
        return state

    def check(self, headers: Mapping[str, Sequence[str]] | None = None) -> None:
        """Check the chain and, with the inputs' column names, every column a step names
        (a ValidationError with the file, line and step)."""
        if headers is not None:
            missing = [name for name in self.inputs if name not in headers]
            if missing:
                raise ValidationError(f"{self.source}: the flow's input(s) {missing} are not "
                                      f"given; it reads {list(self.inputs)}")
        self._walk(headers)


def _step(item: Any, index: int, source: str, default_line: int) -> Step:
    line = item.line if isinstance(item, _Marked) else default_line
    if isinstance(item, str):
        kind, value = item, None
    elif isinstance(item, dict) and len(item) == 1:
        kind, value = next(iter(item.items()))
    else:
        raise ValidationError(f"{source} line {line}: step {index}: a step is a mapping with "
                              "one key, its type (e.g. '- drop: [column]'); known types: "
                              f"{', '.join(STEP_TYPES)}")
    if not isinstance(kind, str) or kind not in STEP_TYPES:
        raise ValidationError(f"{source} line {line}: step {index} ({kind}): unknown step "
                              f"type; known: {', '.join(STEP_TYPES)}")
    cls = STEP_TYPES[kind]
    where = Where(source, index, line)
    if value is None:
        params: Any = {}
    elif isinstance(value, dict) and not (
            cls.shorthand_mapping and set(value) != {cls.shorthand}):
        params = value
        where = Where(source, index, line, {str(k): _line_of(value, k, line) for k in value})
    elif cls.shorthand is not None:
        params = {cls.shorthand: [value] if isinstance(value, str) and cls.shorthand == "columns"
                  else value}
        where = Where(source, index, line, {cls.shorthand: _line_of(value, None, line)})
    else:
        raise ValidationError(f"{source} line {line}: step {index} ({kind}): give the "
                              f"parameters as a mapping: {', '.join(cls.Params.model_fields)}")
    bad_keys = [k for k in params if not isinstance(k, str)]
    if bad_keys:
        raise ValidationError(f"{source} line {line}: step {index} ({kind}): parameter names "
                              f"must be text, got {bad_keys[:3]}")
    try:
        validated = cls.Params.model_validate(params)
    except PydanticError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        param = loc[0] if loc else None
        at = where.param_lines.get(param or "", line)
        if err["type"] == "missing":
            problem = f"missing parameter {'.'.join(loc)!r}"
        elif err["type"] == "extra_forbidden":
            problem = (f"unknown parameter {'.'.join(loc)!r}; known: "
                       f"{', '.join(cls.Params.model_fields)}")
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            problem = f"parameter {'.'.join(loc)!r}: {message}" if loc else message
        raise ValidationError(f"{source} line {at}: step {index} ({kind}): {problem}") \
            from None
    return cls(validated, where)


def parse_flow(text: str, source: str = "<flow>") -> FlowDocument:
    """The flow in ``text`` (YAML or JSON), parsed and checked (columns are checked against
    the inputs later, by :meth:`FlowDocument.check` or the run)."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(f"{source}: the flow file is empty")
    data = _load(text, source)
    if not isinstance(data, dict):
        raise ValidationError(f"{source} line 1: a flow is a mapping with {', '.join(_TOP_KEYS)}")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise ValidationError(f"{source} line {_line_of(data, unknown[0], 1)}: unknown key "
                              f"{unknown[0]!r}; a flow has {', '.join(_TOP_KEYS)}")
    for key in ("version", "inputs", "steps"):
        if key not in data:
            raise ValidationError(f"{source} line {_line_of(data, None, 1)}: the flow lacks "
                                  f"{key!r}")
    version = data["version"]
    if version != VERSION or isinstance(version, bool):
        raise ValidationError(f"{source} line {_line_of(data, 'version', 1)}: version "
                              f"{version!r} is not supported; use {VERSION}")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise ValidationError(f"{source} line {_line_of(data, 'description', 1)}: the "
                              "description is a text")
    inputs = data["inputs"]
    if isinstance(inputs, str):
        inputs = [inputs]
    line = _line_of(data, "inputs", 1)
    if not isinstance(inputs, list) or not inputs or not all(
            isinstance(name, str) and name for name in inputs):
        raise ValidationError(f"{source} line {line}: inputs is a list of names, e.g. [raw]")
    if len(set(inputs)) != len(inputs):
        raise ValidationError(f"{source} line {line}: an input is named twice in {inputs}")
    items = data["steps"]
    line = _line_of(data, "steps", 1)
    if not isinstance(items, list) or not items:
        raise ValidationError(f"{source} line {line}: steps is a list of one or more steps")
    lines = items.item_lines if isinstance(items, _MarkedList) else [line] * len(items)
    steps = [_step(item, index, source, lines[index - 1])
             for index, item in enumerate(items, start=1)]
    if len(inputs) > 1 and not isinstance(steps[0], STEP_TYPES["input"]):
        raise ValidationError(f"{source} line {steps[0].where.line}: step 1 "
                              f"({steps[0].kind}): the flow has several inputs; start with "
                              "'- input: NAME'")
    doc = FlowDocument(source=source, inputs=tuple(inputs), steps=steps,
                       description=description, text=text)
    doc.check()
    return doc


def load_flow(path: Path | str) -> FlowDocument:
    """The flow file at ``path`` (ValidationError with the file and line if it is bad)."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"flow file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: the flow file is not UTF-8 text") from None
    return parse_flow(text, source=str(path))
