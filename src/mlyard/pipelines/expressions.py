"""Run-time values in pipeline objects: property references, ``Join``, ``JsonGet``,
execution variables, property files.

An :class:`Expression` stands for a value known only while the pipeline runs. It is a ``str``
whose text is a unique token (``{{mlyard-expr-7}}``), so it goes wherever a string goes: into
an Estimator's channels and hyperparameters, a ``ProcessingInput``'s source, an f-string
(``f"--min={threshold}"``). :func:`to_json` turns a value back into definition JSON: a
string that is one token becomes that expression's JSON (``{"Get": ...}``), a string with
tokens among other text becomes a ``Std:Join`` of its pieces.

``step.properties`` records attribute and item access:
``prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri`` is
``{"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}``.
"""

from __future__ import annotations

import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from mlyard.errors import ValidationError

_TOKEN_RE = re.compile(r"\{\{mlyard-expr-(\d+)\}\}")
_COUNTER = itertools.count(1)
#: Every expression made in this process by its token number (tokens must stay resolvable
#: for as long as strings holding them may exist).
_REGISTRY: dict[int, Expression] = {}


class Expression(str, ABC):
    """Base of every run-time value; subclasses define :attr:`expr` (its JSON)."""

    _token: int

    def __new__(cls, *args: Any, **kwargs: Any) -> Expression:
        n = next(_COUNTER)
        obj = super().__new__(cls, f"{{{{mlyard-expr-{n}}}}}")
        obj._token = n
        _REGISTRY[n] = obj
        return obj

    @property
    @abstractmethod
    def expr(self) -> Any:
        """The expression as definition JSON."""

    def to_string(self) -> Join:
        """The value as a string (SageMaker's ``to_string()``): a one-item Join."""
        return Join(on="", values=[self])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expr!r})"


class Properties(Expression):
    """A step's property, recorded from attribute (``.Name``: PascalCase names only) and
    item (``['key']``, ``[0]``) access."""

    def __init__(self, step_name: str, path: str = "") -> None:
        self._step_name = step_name
        self._path = path

    @property
    def expr(self) -> dict[str, Any]:
        return {"Get": f"Steps.{self._step_name}{self._path}"}

    def __getattr__(self, name: str) -> Properties:
        # Properties are PascalCase (SageMaker's); anything else (``__deepcopy__``,
        # ``name``, ``tolist``) is a probe by other code and must not become a path.
        if not name[:1].isupper():
            raise AttributeError(name)
        return Properties(self._step_name, f"{self._path}.{name}")

    def __getitem__(self, key: Any) -> Properties:  # type: ignore[override]
        if isinstance(key, int) and not isinstance(key, bool) and key >= 0:
            return Properties(self._step_name, f"{self._path}[{key}]")
        if isinstance(key, str) and "'" not in key and "]" not in key:
            return Properties(self._step_name, f"{self._path}['{key}']")
        raise ValidationError(f"a property index must be a name (without ' or ]) or an "
                              f"integer >= 0, got {key!r}")


def to_json(value: Any) -> Any:
    """``value`` as definition JSON: expressions (and strings holding their tokens) become
    expression JSON; mappings, lists and tuples are walked."""
    if isinstance(value, Expression):
        return value.expr
    if isinstance(value, PropertyFile):
        return value.expr
    if isinstance(value, str):
        return _embed(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _embed(text: str) -> Any:
    parts = _TOKEN_RE.split(text)
    if len(parts) == 1:
        return text
    values: list[Any] = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            if part:
                values.append(part)
            continue
        expr = _REGISTRY.get(int(part))
        if expr is None:
            raise ValidationError(f"unknown pipeline expression token in {text!r}")
        values.append(expr.expr)
    if len(parts) == 3 and not parts[0] and not parts[2]:
        return values[0]
    return {"Std:Join": {"On": "", "Values": values}}


class Join(Expression):
    """``Join(on="/", values=[...])``: the values' texts joined at run time."""

    def __init__(self, on: str = "", values: Sequence[Any] = ()) -> None:
        if not isinstance(on, str):
            raise ValidationError("Join: on must be a string")
        self.on = on
        self.values = list(values)

    @property
    def expr(self) -> dict[str, Any]:
        return {"Std:Join": {"On": self.on, "Values": [to_json(v) for v in self.values]}}


class ExecutionVariable(Expression):
    """A value of the running execution (``ExecutionVariables.PIPELINE_EXECUTION_ID``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def expr(self) -> dict[str, Any]:
        return {"Get": f"Execution.{self.name}"}


class ExecutionVariables:
    """The execution variables, SageMaker's names."""

    PIPELINE_EXECUTION_ID = ExecutionVariable("PipelineExecutionId")
    PIPELINE_NAME = ExecutionVariable("PipelineName")
    PIPELINE_EXECUTION_ARN = ExecutionVariable("PipelineExecutionArn")
    START_DATETIME = ExecutionVariable("StartDateTime")
    CURRENT_DATETIME = ExecutionVariable("CurrentDateTime")


class PropertyFile:
    """A JSON file ``path`` inside a processing step's output ``output_name``, read with
    :class:`JsonGet` (e.g. the evaluation's ``evaluation.json``)."""

    def __init__(self, name: str, output_name: str, path: str) -> None:
        self.name = name
        self.output_name = output_name
        self.path = path

    @property
    def expr(self) -> dict[str, Any]:
        return {"PropertyFileName": self.name, "OutputName": self.output_name,
                "FilePath": self.path}

    def __repr__(self) -> str:
        return f"PropertyFile({self.name!r}, {self.output_name!r}, {self.path!r})"


class JsonGet(Expression):
    """A value inside a step's property file at run time:
    ``JsonGet(step_name=ev, property_file=evaluation, json_path="metrics.accuracy.value")``
    (``step_name``: the step or its name; ``property_file``: a PropertyFile or its name)."""

    def __init__(self, step_name: Any = None, property_file: PropertyFile | str | None = None,
                 json_path: str | None = None, step: Any = None) -> None:
        target = step if step is not None else step_name
        name = target if isinstance(target, str) else getattr(target, "name", None)
        if not isinstance(name, str) or not name:
            raise ValidationError("JsonGet needs the step (step_name= or step=)")
        pf = getattr(property_file, "name", property_file)
        if not isinstance(pf, str) or not pf:
            raise ValidationError("JsonGet needs property_file= (a PropertyFile or its name)")
        if not isinstance(json_path, str) or not json_path:
            raise ValidationError("JsonGet needs json_path=, e.g. 'metrics.accuracy.value'")
        self.step_name = name
        self.property_file = pf
        self.json_path = json_path

    @property
    def expr(self) -> dict[str, Any]:
        return {"Std:JsonGet": {
            "PropertyFile": {"Get": f"Steps.{self.step_name}.PropertyFiles."
                                    f"{self.property_file}"},
            "Path": self.json_path}}
