"""The step types of a data-preparation flow: one small class per type on a shared base.

Every step declares its parameters as a pydantic model (unknown parameters refused, types
checked when the flow is parsed), and implements

- :meth:`Step.columns_out` -- the columns after the step from the columns before it, refusing
  a column that does not exist (the static check, run on the inputs' headers before any data
  is processed; a :class:`Schema` that is *open* may hold columns not known statically, as
  after ``one_hot``, ``pandas`` or ``sql``, and checks against it are deferred to run time),
- :meth:`Step.apply` -- the step on a DataFrame,
- :meth:`Step.to_python` -- the same as lines of a standalone script (``df`` is the frame).

``input``, ``output`` and ``split`` move frames between the chain and the named inputs and
outputs (:class:`ChainState`). Errors say ``<file> line N: step K (<type>): <problem>``.
"""

from __future__ import annotations

import re
import textwrap
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from mlyard.analysis.flow import recipes
from mlyard.analysis.sampling import stratified_split
from mlyard.errors import ValidationError

#: A scalar parameter value (a filter's value, an impute constant, a mapping's key/value).
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr | None


@dataclass(frozen=True)
class Where:
    """Where a step is written: the file, its 1-based position and line, its parameters' lines."""

    source: str
    index: int
    line: int
    param_lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Schema:
    """The columns of a frame as far as they are known statically (``open``: more may exist)."""

    columns: tuple[str, ...] = ()
    open: bool = False

    @classmethod
    def unknown(cls) -> Schema:
        """A schema about which nothing is known (checks deferred to run time)."""
        return cls((), True)

    def has(self, column: str) -> bool:
        """Whether ``column`` exists, or may exist in an open schema."""
        return column in self.columns or self.open

    def with_columns(self, *added: str) -> Schema:
        """This schema with ``added`` appended (existing ones kept in place)."""
        return Schema(self.columns + tuple(c for c in added if c not in self.columns), self.open)

    def without(self, *removed: str) -> Schema:
        """This schema less ``removed``."""
        return Schema(tuple(c for c in self.columns if c not in removed), self.open)


@dataclass
class ChainState:
    """The frames a flow works on: named ones (inputs and outputs made so far) and the
    chain's current one. Statically the frames are :class:`Schema`; at run time DataFrames."""

    named: dict[str, Any]
    current: Any = None
    outputs: list[str] = field(default_factory=list)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def lit(value: Any) -> str:
    """``value`` as a Python literal (``float("nan")`` for NaN, infinities likewise)."""
    if isinstance(value, float) and not np.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    return repr(value)


class Step(ABC):
    """One step of a flow."""

    #: The step's name in a flow file.
    kind: ClassVar[str]
    #: The parameters' model.
    Params: ClassVar[type[_Params]]
    #: The parameter a non-mapping value binds to (``drop: [a, b]`` is ``columns: [a, b]``).
    shorthand: ClassVar[str | None] = None
    #: Whether a mapping value is the shorthand parameter itself (``rename: {a: b}``).
    shorthand_mapping: ClassVar[bool] = False

    def __init__(self, params: _Params, where: Where) -> None:
        self.params = params
        self.where = where

    def error(self, problem: str, param: str | None = None) -> ValidationError:
        """A ValidationError saying ``<file> line N: step K (<type>): <problem>``."""
        line = self.where.param_lines.get(param or "", self.where.line)
        return ValidationError(f"{self.where.source} line {line}: step {self.where.index} "
                               f"({self.kind}): {problem}")

    def require(self, schema: Schema, columns: list[str], param: str) -> None:
        """Refuse the columns of ``param`` that ``schema`` lacks."""
        missing = [c for c in columns if not schema.has(c)]
        if missing:
            raise self.error(f"column(s) {missing} named in {param!r} do not exist; the frame "
                             f"has {list(schema.columns)}", param)

    def need_kind(self, frame: pd.DataFrame, columns: list[str], kind: str, param: str) -> None:
        """Refuse a column that is not text (``kind="text"``) or not numeric."""
        for column in columns:
            dtype = frame[column].dtype
            if kind == "numeric":
                ok = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            else:
                ok = pd.api.types.is_string_dtype(dtype) and (
                    str(dtype) != "object" or bool(frame[column].map(
                        lambda v: isinstance(v, str) or v is None or v != v).all()))
            if not ok:
                raise self.error(f"column {column!r} holds {dtype}, not {kind} values", param)

    # -- the chain -------------------------------------------------------------------------
    def current(self, state: ChainState) -> Any:
        """The chain's current frame, or an error if there is none (after a split)."""
        if state.current is None:
            raise self.error("there is no frame to work on here: start with an 'input' step "
                             "(after a split, name one of its outputs)")
        return state.current

    def check_static(self, state: ChainState) -> None:
        """Move ``state``'s schemas through this step (errors name the step and line)."""
        state.current = self.columns_out(self.current(state))

    def execute(self, state: ChainState) -> None:
        """Move ``state``'s frames through this step."""
        frame = self.current(state)
        self.columns_out(Schema(tuple(str(c) for c in frame.columns)))
        state.current = self.apply(frame)

    def python(self) -> list[str]:
        """This step's lines in an exported script (the chain's frame is ``df``)."""
        return [f"df = {line}" if i == 0 else line for i, line in enumerate(self.to_python())]

    # -- a frame step --------------------------------------------------------------------------
    @abstractmethod
    def columns_out(self, columns_in: Schema) -> Schema:
        """The columns after this step (an error for a named column that does not exist)."""

    @abstractmethod
    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """This step over ``frame`` (a new frame; ``frame`` is not changed)."""

    @abstractmethod
    def to_python(self) -> list[str]:
        """An expression over ``df`` giving the step's result (further lines continue it)."""


# -- the chain steps ----------------------------------------------------------------------------
class _ChainStep(Step):
    """A step that moves frames between the chain and the named frames (its work is in
    :meth:`check_static`/:meth:`execute`/:meth:`python`): the frame itself is unchanged."""

    def columns_out(self, columns_in: Schema) -> Schema:
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame

    def to_python(self) -> list[str]:
        return ["df"]


class _Name(_Params):
    name: StrictStr = Field(min_length=1)


class InputStep(_ChainStep):
    """``input: NAME`` -- work on a declared input (or an output made earlier) from here on."""

    kind = "input"
    Params = _Name
    shorthand = "name"

    @property
    def name(self) -> str:
        return self.params.name  # type: ignore[attr-defined,no-any-return]

    def _frame(self, state: ChainState) -> Any:
        if self.name not in state.named:
            raise self.error(f"no input or earlier output is called {self.name!r}; known: "
                             f"{sorted(state.named)}", "name")
        return state.named[self.name]

    def check_static(self, state: ChainState) -> None:
        state.current = self._frame(state)

    def execute(self, state: ChainState) -> None:
        state.current = self._frame(state)

    def python(self) -> list[str]:
        return [f"df = frames[{self.name!r}]"]


class OutputStep(_ChainStep):
    """``output: NAME`` -- the current frame is an output of the flow (the chain goes on)."""

    kind = "output"
    Params = _Name
    shorthand = "name"

    @property
    def name(self) -> str:
        return self.params.name  # type: ignore[attr-defined,no-any-return]

    def _store(self, state: ChainState) -> None:
        frame = self.current(state)
        if self.name in state.named:
            raise self.error(f"the name {self.name!r} is already taken by an input or output",
                             "name")
        state.named[self.name] = frame
        state.outputs.append(self.name)

    def check_static(self, state: ChainState) -> None:
        self._store(state)

    def execute(self, state: ChainState) -> None:
        self._store(state)

    def python(self) -> list[str]:
        return [f"frames[{self.name!r}] = outputs[{self.name!r}] = df"]


class _SplitParams(_Params):
    fractions: dict[StrictStr, StrictFloat | StrictInt] = Field(min_length=2)
    stratify: list[StrictStr] | None = None
    seed: StrictInt = 0

    @model_validator(mode="after")
    def _shares(self) -> _SplitParams:
        shares = list(self.fractions.values())
        if any(not f > 0 for f in shares) or abs(sum(shares) - 1.0) > 1e-9:
            raise ValueError(f"fractions must be positive and sum to 1, got {shares}")
        return self


class SplitStep(_ChainStep):
    """``split: {fractions: {train: 0.8, test: 0.2}, stratify: [label], seed: 0}`` -- seeded
    (stratified) split into named outputs (:func:`mlyard.analysis.sampling.stratified_split`);
    the chain ends here (go on with ``input: train``)."""

    kind = "split"
    Params = _SplitParams

    @property
    def p(self) -> _SplitParams:
        return self.params  # type: ignore[return-value]

    def _store(self, state: ChainState, parts: list[Any]) -> None:
        for name, part in zip(self.p.fractions, parts, strict=True):
            if name in state.named:
                raise self.error(f"the name {name!r} is already taken by an input or output",
                                 "fractions")
            state.named[name] = part
            state.outputs.append(name)
        state.current = None

    def check_static(self, state: ChainState) -> None:
        schema = self.current(state)
        self.require(schema, list(self.p.stratify or []), "stratify")
        self._store(state, [schema] * len(self.p.fractions))

    def execute(self, state: ChainState) -> None:
        frame = self.current(state)
        self.columns_out(Schema(tuple(str(c) for c in frame.columns)))
        parts = stratified_split(frame, self.p.stratify, list(self.p.fractions.values()),
                                 self.p.seed)
        self._store(state, parts)

    def python(self) -> list[str]:
        names = list(self.p.fractions)
        return [f"parts = stratified_split(df, {lit(self.p.stratify or [])}, "
                f"{lit(list(self.p.fractions.values()))}, {self.p.seed})",
                *(f"frames[{name!r}] = outputs[{name!r}] = parts[{i}]"
                  for i, name in enumerate(names)),
                "df = None"]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, list(self.p.stratify or []), "stratify")
        return columns_in


# -- column steps -------------------------------------------------------------------------------
class _Columns(_Params):
    columns: list[StrictStr] = Field(min_length=1)


class _ColumnMap(_Params):
    columns: dict[StrictStr, StrictStr] = Field(min_length=1)


class RenameStep(Step):
    """``rename: {old: new, ...}`` -- rename columns."""

    kind = "rename"
    Params = _ColumnMap
    shorthand = "columns"
    shorthand_mapping = True

    @property
    def mapping(self) -> dict[str, str]:
        return dict(self.params.columns)  # type: ignore[attr-defined]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, list(self.mapping), "columns")
        renamed = tuple(self.mapping.get(c, c) for c in columns_in.columns)
        added = tuple(new for old, new in self.mapping.items() if old not in columns_in.columns)
        out = renamed + added
        duplicated = sorted({c for c in out if out.count(c) > 1})
        if duplicated:
            raise self.error(f"renaming gives duplicate column(s) {duplicated}", "columns")
        return Schema(out, columns_in.open)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns=self.mapping)

    def to_python(self) -> list[str]:
        return [f"df.rename(columns={lit(self.mapping)})"]


class DropStep(Step):
    """``drop: [col, ...]`` -- drop columns."""

    kind = "drop"
    Params = _Columns
    shorthand = "columns"

    @property
    def columns(self) -> list[str]:
        return list(self.params.columns)  # type: ignore[attr-defined]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.columns, "columns")
        return columns_in.without(*self.columns)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns=self.columns)

    def to_python(self) -> list[str]:
        return [f"df.drop(columns={lit(self.columns)})"]


class SelectStep(Step):
    """``select: [col, ...]`` -- keep these columns, in this order."""

    kind = "select"
    Params = _Columns
    shorthand = "columns"

    @property
    def columns(self) -> list[str]:
        return list(self.params.columns)  # type: ignore[attr-defined]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.columns, "columns")
        if len(set(self.columns)) != len(self.columns):
            raise self.error(f"a column is named twice in {self.columns}", "columns")
        return Schema(tuple(self.columns), False)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[self.columns].copy()

    def to_python(self) -> list[str]:
        return [f"df[{lit(self.columns)}].copy()"]


class _CastParams(_Params):
    columns: dict[StrictStr, Literal["int", "float", "str", "bool", "category", "datetime"]] = \
        Field(min_length=1)


class CastStep(Step):
    """``cast: {col: int|float|str|bool|category|datetime, ...}`` -- change column types
    (int and bool are pandas' nullable types, so missing values stay missing)."""

    kind = "cast"
    Params = _CastParams
    shorthand = "columns"
    shorthand_mapping = True

    @property
    def types(self) -> dict[str, str]:
        return dict(self.params.columns)  # type: ignore[attr-defined]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, list(self.types), "columns")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{c: recipes.cast(frame[c], t) for c, t in self.types.items()})

    def to_python(self) -> list[str]:
        items = ", ".join(f"{c!r}: cast(df[{c!r}], {t!r})" for c, t in self.types.items())
        return [f"df.assign(**{{{items}}})"]


class _Condition(_Params):
    column: StrictStr
    op: Literal[recipes.OPERATORS]  # type: ignore[valid-type]
    value: Scalar | list[Scalar] = None

    @model_validator(mode="after")
    def _value_fits(self) -> _Condition:
        if self.op in ("isin", "notin") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list value")
        if self.op in recipes.COMPARISONS and (self.value is None
                                               or isinstance(self.value, list)):
            raise ValueError(f"op {self.op!r} needs a single (non-null) value")
        if self.op == "contains" and not isinstance(self.value, str):
            raise ValueError("op 'contains' needs a text value")
        if self.op in ("isnull", "notnull") and self.value is not None:
            raise ValueError(f"op {self.op!r} takes no value")
        return self


class _FilterParams(_Params):
    column: StrictStr | None = None
    op: Literal[recipes.OPERATORS] | None = None  # type: ignore[valid-type]
    value: Scalar | list[Scalar] = None
    all: list[_Condition] | None = Field(default=None, min_length=1)
    any: list[_Condition] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> _FilterParams:
        forms = [self.column is not None or self.op is not None, self.all is not None,
                 self.any is not None]
        if sum(forms) != 1:
            raise ValueError("give one condition (column, op, value), or 'all' or 'any' "
                             "with a list of conditions")
        if forms[0]:
            if self.column is None or self.op is None:
                raise ValueError("a condition needs 'column' and 'op'")
            _Condition(column=self.column, op=self.op, value=self.value)
        return self

    def conditions(self) -> tuple[list[dict[str, Any]], str]:
        if self.all is not None:
            return [c.model_dump() for c in self.all], "all"
        if self.any is not None:
            return [c.model_dump() for c in self.any], "any"
        return [{"column": self.column, "op": self.op, "value": self.value}], "all"


class FilterStep(Step):
    """``filter: {column: c, op: ">=", value: 3}`` (or ``all:``/``any:`` a list of such
    conditions) -- keep the rows meeting it. Operators: ==, !=, <, <=, >, >=, isin, notin,
    isnull, notnull, contains. A missing value meets no condition but ``isnull``. No code
    is evaluated."""

    kind = "filter"
    Params = _FilterParams

    def columns_out(self, columns_in: Schema) -> Schema:
        conditions, _ = self.params.conditions()  # type: ignore[attr-defined]
        param = "column" if self.params.column is not None else (  # type: ignore[attr-defined]
            "all" if self.params.all is not None else "any")  # type: ignore[attr-defined]
        self.require(columns_in, [c["column"] for c in conditions], param)
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        conditions, combine = self.params.conditions()  # type: ignore[attr-defined]
        return recipes.filter_rows(frame, conditions, combine)

    def to_python(self) -> list[str]:
        conditions, combine = self.params.conditions()  # type: ignore[attr-defined]
        return [f"filter_rows(df, {lit(conditions)}, {combine!r})"]


class _MaybeColumns(_Params):
    columns: list[StrictStr] | None = Field(default=None, min_length=1)


class DropMissingStep(Step):
    """``drop_missing: [col, ...]`` (or ``{}``: every column) -- drop rows with a missing
    value in these columns."""

    kind = "drop_missing"
    Params = _MaybeColumns
    shorthand = "columns"

    @property
    def columns(self) -> list[str] | None:
        return self.params.columns  # type: ignore[attr-defined,no-any-return]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, list(self.columns or []), "columns")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.dropna(subset=self.columns).reset_index(drop=True)

    def to_python(self) -> list[str]:
        return [f"df.dropna(subset={lit(self.columns)}).reset_index(drop=True)"]


class _ImputeParams(_Params):
    columns: list[StrictStr] = Field(min_length=1)
    strategy: Literal["mean", "median", "mode", "constant"] = "mean"
    value: Scalar = None

    @model_validator(mode="after")
    def _constant(self) -> _ImputeParams:
        if self.strategy == "constant" and self.value is None:
            raise ValueError("strategy 'constant' needs a value")
        if self.strategy != "constant" and self.value is not None:
            raise ValueError(f"strategy {self.strategy!r} takes no value")
        return self


class ImputeStep(Step):
    """``impute: {columns: [...], strategy: mean|median|mode|constant, value: v}`` -- fill
    missing values."""

    kind = "impute"
    Params = _ImputeParams

    @property
    def p(self) -> _ImputeParams:
        return self.params  # type: ignore[return-value]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.p.columns, "columns")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.p.strategy in ("mean", "median"):
            self.need_kind(frame, self.p.columns, "numeric", "columns")
        return recipes.impute(frame, self.p.columns, self.p.strategy, self.p.value)

    def to_python(self) -> list[str]:
        return [f"impute(df, {lit(self.p.columns)}, {self.p.strategy!r}, {lit(self.p.value)})"]


class _OneHotParams(_Params):
    columns: list[StrictStr] = Field(min_length=1)
    prefix_sep: StrictStr = "_"


class OneHotStep(Step):
    """``one_hot: [col, ...]`` -- replace each column by 0/1 columns ``<col>_<value>``
    (``pd.get_dummies``; the new columns depend on the data, so later checks of them wait
    for run time)."""

    kind = "one_hot"
    Params = _OneHotParams
    shorthand = "columns"

    @property
    def p(self) -> _OneHotParams:
        return self.params  # type: ignore[return-value]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.p.columns, "columns")
        return Schema(columns_in.without(*self.p.columns).columns, True)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.get_dummies(frame, columns=self.p.columns, prefix_sep=self.p.prefix_sep,
                              dtype="int64")

    def to_python(self) -> list[str]:
        return [f"pd.get_dummies(df, columns={lit(self.p.columns)}, "
                f"prefix_sep={self.p.prefix_sep!r}, dtype='int64')"]


class _ScaleParams(_Params):
    columns: list[StrictStr] = Field(min_length=1)
    method: Literal["standard", "minmax"] = "standard"


class ScaleStep(Step):
    """``scale: {columns: [...], method: standard|minmax}`` -- scikit-learn's
    StandardScaler or MinMaxScaler over numeric columns."""

    kind = "scale"
    Params = _ScaleParams

    @property
    def p(self) -> _ScaleParams:
        return self.params  # type: ignore[return-value]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.p.columns, "columns")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.need_kind(frame, self.p.columns, "numeric", "columns")
        return recipes.scale(frame, self.p.columns, self.p.method)

    def to_python(self) -> list[str]:
        return [f"scale(df, {lit(self.p.columns)}, {self.p.method!r})"]


class _MapParams(_Params):
    column: StrictStr
    values: dict[StrictBool | StrictInt | StrictFloat | StrictStr, Scalar] = Field(min_length=1)
    to: StrictStr | None = None
    unmapped: Literal["keep", "null", "error"] = "keep"


class MapStep(Step):
    """``map: {column: c, values: {old: new, ...}, to: new_column, unmapped: keep|null|error}``
    -- replace values (into ``to``, default the column itself)."""

    kind = "map"
    Params = _MapParams

    @property
    def p(self) -> _MapParams:
        return self.params  # type: ignore[return-value]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, [self.p.column], "column")
        return columns_in.with_columns(self.p.to or self.p.column)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        mapped = recipes.map_values(frame[self.p.column], dict(self.p.values), self.p.unmapped)
        return frame.assign(**{self.p.to or self.p.column: mapped})

    def to_python(self) -> list[str]:
        return [f"df.assign(**{{{(self.p.to or self.p.column)!r}: map_values("
                f"df[{self.p.column!r}], {lit(dict(self.p.values))}, {self.p.unmapped!r})}})"]


class _DropRareParams(_Params):
    column: StrictStr
    at_most: StrictInt = Field(ge=0)


class DropRareStep(Step):
    """``drop_rare: {column: c, at_most: 10}`` -- drop the rows whose value of ``column``
    occurs ``at_most`` times or fewer (the course drops categories with 10 or fewer reviews)."""

    kind = "drop_rare"
    Params = _DropRareParams

    @property
    def p(self) -> _DropRareParams:
        return self.params  # type: ignore[return-value]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, [self.p.column], "column")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return recipes.drop_rare(frame, self.p.column, self.p.at_most)

    def to_python(self) -> list[str]:
        return [f"drop_rare(df, {self.p.column!r}, {self.p.at_most})"]


class _CodeParams(_Params):
    code: StrictStr = Field(min_length=1)


def pandas_function(code: str, name: str = "custom_step") -> str:
    """The source of a function ``name(df)`` running ``code`` (which changes, reassigns or
    returns ``df``) and returning the frame."""
    return (f"def {name}(df):\n{textwrap.indent(textwrap.dedent(code).strip(), '    ')}\n"
            "    return df\n")


class PandasStep(Step):
    """``pandas: <code>`` -- Python over ``df`` (pandas as ``pd``, numpy as ``np``) that
    changes, reassigns or returns ``df``. This runs the flow author's code with the rights
    of the process: a flow file is trusted as a training script is; never run one you did
    not write or review."""

    kind = "pandas"
    Params = _CodeParams
    shorthand = "code"

    @property
    def code(self) -> str:
        return self.params.code  # type: ignore[attr-defined,no-any-return]

    def __init__(self, params: _Params, where: Where) -> None:
        super().__init__(params, where)
        source = pandas_function(self.code)
        try:
            self._compiled = compile(source, f"<{where.source} step {where.index}>", "exec")
        except SyntaxError as exc:
            raise self.error(f"the code does not parse: {exc.msg} (code line "
                             f"{(exc.lineno or 2) - 1})", "code") from None

    def columns_out(self, columns_in: Schema) -> Schema:
        return Schema.unknown()

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        namespace: dict[str, Any] = {"pd": pd, "np": np}
        exec(self._compiled, namespace)
        result = namespace["custom_step"](frame.copy())
        if not isinstance(result, pd.DataFrame):
            raise self.error(f"the code left df as a {type(result).__name__}, not a DataFrame",
                             "code")
        return result

    def python(self) -> list[str]:
        return [*pandas_function(self.code, f"custom_step_{self.where.index}").splitlines(),
                *super().python()]

    def to_python(self) -> list[str]:
        return [f"custom_step_{self.where.index}(df.copy())"]


class _SqlParams(_Params):
    query: StrictStr = Field(min_length=1)


class SqlStep(Step):
    """``sql: <query>`` -- a DuckDB query over the current frame as the table ``df``."""

    kind = "sql"
    Params = _SqlParams
    shorthand = "query"

    @property
    def query(self) -> str:
        return self.params.query  # type: ignore[attr-defined,no-any-return]

    def columns_out(self, columns_in: Schema) -> Schema:
        return Schema.unknown()

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return recipes.run_sql(frame, self.query)

    def to_python(self) -> list[str]:
        return [f"run_sql(df, {self.query!r})"]


class _TextColumns(_Params):
    columns: list[StrictStr] = Field(min_length=1)


class LowercaseStep(Step):
    """``lowercase: [col, ...]`` -- lower-case text columns."""

    kind = "lowercase"
    Params = _TextColumns
    shorthand = "columns"

    @property
    def columns(self) -> list[str]:
        return list(self.params.columns)  # type: ignore[attr-defined]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.columns, "columns")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.need_kind(frame, self.columns, "text", "columns")
        return frame.assign(**{c: frame[c].str.lower() for c in self.columns})

    def to_python(self) -> list[str]:
        return [f"df.assign(**{{c: df[c].str.lower() for c in {lit(self.columns)}}})"]


class _PunctuationParams(_Params):
    columns: list[StrictStr] = Field(min_length=1)
    replace_with: StrictStr = ""


class RemovePunctuationStep(Step):
    """``remove_punctuation: [col, ...]`` -- remove ASCII punctuation from text columns
    (``replace_with: " "`` to put a space instead)."""

    kind = "remove_punctuation"
    Params = _PunctuationParams
    shorthand = "columns"

    @property
    def p(self) -> _PunctuationParams:
        return self.params  # type: ignore[return-value]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.p.columns, "columns")
        return columns_in

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.need_kind(frame, self.p.columns, "text", "columns")
        return frame.assign(**{c: recipes.remove_punctuation(frame[c], self.p.replace_with)
                               for c in self.p.columns})

    def to_python(self) -> list[str]:
        return [f"df.assign(**{{c: remove_punctuation(df[c], {self.p.replace_with!r}) "
                f"for c in {lit(self.p.columns)}}})"]


class _ColumnRecipe(_Params):
    """A recipe over one column writing ``to`` (default: the column itself)."""

    column: StrictStr
    to: StrictStr | None = None


class _OneColumnStep(Step):
    """A step computing one column from another (into ``to``, default in place)."""

    shorthand: ClassVar[str | None] = "column"

    @property
    def column(self) -> str:
        return self.params.column  # type: ignore[attr-defined,no-any-return]

    @property
    def target(self) -> str:
        return self.params.to or self.column  # type: ignore[attr-defined,no-any-return]

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, [self.column], "column")
        return columns_in.with_columns(self.target)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{self.target: self.compute(frame[self.column])})

    def to_python(self) -> list[str]:
        return [f"df.assign(**{{{self.target!r}: {self.call(f'df[{self.column!r}]')}}})"]

    @abstractmethod
    def compute(self, series: pd.Series) -> pd.Series:
        """The new column."""

    @abstractmethod
    def call(self, series: str) -> str:
        """The recipe's call in an exported script."""


class _TokenizeParams(_ColumnRecipe):
    pattern: StrictStr = r"\S+"


class TokenizeStep(_OneColumnStep):
    """``tokenize: {column: c, to: c_tokens, pattern: "\\S+"}`` -- each text as the list of
    its regular-expression matches (whitespace-separated words by default)."""

    kind = "tokenize"
    Params = _TokenizeParams

    def __init__(self, params: _Params, where: Where) -> None:
        super().__init__(params, where)
        try:
            re.compile(self.params.pattern)  # type: ignore[attr-defined]
        except re.error as exc:
            raise self.error(f"pattern is not a regular expression: {exc}", "pattern") from None

    def compute(self, series: pd.Series) -> pd.Series:
        return recipes.tokenize(series, self.params.pattern)  # type: ignore[attr-defined]

    def call(self, series: str) -> str:
        return f"tokenize({series}, {self.params.pattern!r})"  # type: ignore[attr-defined]


class _NgramParams(_ColumnRecipe):
    n: StrictInt = Field(ge=1, le=10)
    all_sizes: StrictBool = True


class NgramsStep(_OneColumnStep):
    """``ngrams: {column: tokens, n: 2, all_sizes: true}`` -- the n-grams of a token column
    (a text column is split on whitespace); with ``all_sizes`` (Amazon ML's recipe) every
    size from 1 to n."""

    kind = "ngrams"
    Params = _NgramParams
    shorthand = None

    def compute(self, series: pd.Series) -> pd.Series:
        p = self.params
        return recipes.ngrams(series, p.n, p.all_sizes)  # type: ignore[attr-defined]

    def call(self, series: str) -> str:
        p = self.params
        return f"ngrams({series}, {p.n}, {p.all_sizes})"  # type: ignore[attr-defined]


class _OsbParams(_ColumnRecipe):
    window: StrictInt = Field(default=4, ge=2, le=10)


class OsbStep(_OneColumnStep):
    """``osb: {column: tokens, window: 4}`` -- orthogonal sparse bigrams (Amazon ML's
    recipe, window 2 to 10)."""

    kind = "osb"
    Params = _OsbParams

    def compute(self, series: pd.Series) -> pd.Series:
        return recipes.osb(series, self.params.window)  # type: ignore[attr-defined]

    def call(self, series: str) -> str:
        return f"osb({series}, {self.params.window})"  # type: ignore[attr-defined]


class _BinParams(_ColumnRecipe):
    n: StrictInt = Field(ge=2, le=1000)


class QuantileBinStep(_OneColumnStep):
    """``quantile_bin: {column: c, n: 10, to: c_bin}`` -- equal-frequency bin numbers
    0..n-1 of a numeric column."""

    kind = "quantile_bin"
    Params = _BinParams
    shorthand = None

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.need_kind(frame, [self.column], "numeric", "column")
        return super().apply(frame)

    def compute(self, series: pd.Series) -> pd.Series:
        return recipes.quantile_bin(series, self.params.n)  # type: ignore[attr-defined]

    def call(self, series: str) -> str:
        return f"quantile_bin({series}, {self.params.n})"  # type: ignore[attr-defined]


class _CartesianParams(_Params):
    columns: list[StrictStr] = Field(min_length=2, max_length=2)
    to: StrictStr | None = None
    sep: StrictStr = "_"


class CartesianStep(Step):
    """``cartesian: {columns: [a, b], to: a_b, sep: "_"}`` -- the combination of two
    columns' values (Amazon ML's cartesian product recipe)."""

    kind = "cartesian"
    Params = _CartesianParams
    shorthand = "columns"

    @property
    def p(self) -> _CartesianParams:
        return self.params  # type: ignore[return-value]

    @property
    def target(self) -> str:
        return self.p.to or f"{self.p.columns[0]}_{self.p.columns[1]}"

    def columns_out(self, columns_in: Schema) -> Schema:
        self.require(columns_in, self.p.columns, "columns")
        return columns_in.with_columns(self.target)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        first, second = self.p.columns
        return frame.assign(**{self.target: recipes.cartesian(frame[first], frame[second],
                                                              self.p.sep)})

    def to_python(self) -> list[str]:
        first, second = self.p.columns
        return [f"df.assign(**{{{self.target!r}: cartesian(df[{first!r}], df[{second!r}], "
                f"{self.p.sep!r})}})"]


#: Step name -> class.
STEP_TYPES: dict[str, type[Step]] = {cls.kind: cls for cls in (
    InputStep, OutputStep, RenameStep, DropStep, SelectStep, CastStep, FilterStep,
    DropMissingStep, ImputeStep, OneHotStep, ScaleStep, SplitStep, MapStep, DropRareStep,
    PandasStep, SqlStep, LowercaseStep, RemovePunctuationStep, TokenizeStep, NgramsStep,
    OsbStep, QuantileBinStep, CartesianStep)}
