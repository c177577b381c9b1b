"""The analyzer contract: one base class for every analysis (profile, bias, explain, flow,
balance) and the inputs an analyzer is given.

An analyzer is a library first: :meth:`Analyzer.check` and :meth:`Analyzer.run` take plain
DataFrames (and a loaded model where one is needed), so each analysis runs as a function in
a notebook. The ``analysis`` job kind (:mod:`mlyard.analysis.kind`) runs the same analyzer
in a job process: it resolves the job's inputs into :class:`AnalysisInputs`, lets the
analyzer write into a staging folder and stores that folder only after ``run`` returned, so
a failed analysis leaves no partial report.

Analyzers are found by name in :data:`ANALYZERS` (``name -> "module:Class"``) and in the
``mlyard.analyzers`` entry-point group, imported on first use so that ``mlyard profile``
does not import ``shap``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from mlyard.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from mlyard.models.base import LoadedModel

#: A progress callback: one human-readable line per step ("profiling 3/12 columns").
Progress = Callable[[str], None]


def no_progress(line: str) -> None:
    """A :data:`Progress` that drops its lines."""


class AnalysisConfig(BaseModel):
    """Base of every analyzer's configuration: unknown fields refused, JSON-serialisable
    (it is stored with the job as the spec's ``config``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


C = TypeVar("C", bound=AnalysisConfig)


@dataclass
class AnalysisInputs:
    """What an analyzer works on: named DataFrames (``data`` by default; a flow may have
    several) and, where the analysis needs predictions, a loaded model with its name."""

    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    model: LoadedModel | None = None
    model_name: str | None = None

    def frame(self, name: str = "data") -> pd.DataFrame:
        """The input called ``name``; a ValidationError naming the inputs given if absent."""
        try:
            return self.frames[name]
        except KeyError:
            raise ValidationError(f"input {name!r} is missing; given: "
                                  f"{sorted(self.frames) or 'none'}") from None

    def require_model(self, what: str) -> LoadedModel:
        """The model, or a ValidationError saying that ``what`` needs one."""
        if self.model is None:
            raise ValidationError(f"{what} needs a model (--model NAME)")
        return self.model


class Analyzer(ABC, Generic[C]):
    """One analysis. Subclasses set :attr:`name` and :attr:`config_type` and implement
    :meth:`check` and :meth:`run`."""

    #: The name used by the job kind, the CLI and the registry.
    name: ClassVar[str]
    #: The pydantic configuration class of this analyzer.
    config_type: ClassVar[type[AnalysisConfig]]
    #: Input names this analyzer reads (all must be given).
    input_names: ClassVar[tuple[str, ...]] = ("data",)

    def parse_config(self, data: Mapping[str, Any] | AnalysisConfig) -> C:
        """The typed configuration (a ValidationError naming the bad field)."""
        if isinstance(data, self.config_type):
            return data  # type: ignore[return-value]
        from pydantic import ValidationError as PydanticError

        try:
            raw = data.model_dump() if isinstance(data, BaseModel) else dict(data)
            return self.config_type.model_validate(raw)  # type: ignore[return-value]
        except PydanticError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
                for err in exc.errors())
            raise ValidationError(f"invalid {self.name} configuration: {problems}") from None

    def needs_model(self, config: C) -> bool:
        """Whether this configuration needs a model's predictions."""
        return False

    def input_names_for(self, config: C) -> tuple[str, ...]:
        """The inputs this configuration reads (a flow names its own)."""
        return self.input_names

    @abstractmethod
    def check(self, config: C, inputs: AnalysisInputs) -> None:
        """Refuse what cannot run with a ValidationError naming the column, value or step:
        called before a job is created, and again in the job before :meth:`run`."""

    @abstractmethod
    def run(self, config: C, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        """Write the analysis' files into ``out_dir`` (empty, created by the caller) and
        return a short JSON-ready summary (printed by the CLI, stored with the job)."""


#: Analyzer name -> ``"module:Class"``.
ANALYZERS: dict[str, str] = {
    "profile": "mlyard.analysis.profile:ProfileAnalyzer",
    "bias": "mlyard.analysis.bias:BiasAnalyzer",
    "explain": "mlyard.analysis.explain:ExplainAnalyzer",
    "flow": "mlyard.analysis.flow:FlowAnalyzer",
    "balance": "mlyard.analysis.sampling:BalanceAnalyzer",
}


#: Entry-point group through which installed packages add analyzers.
ENTRY_POINT_GROUP = "mlyard.analyzers"


def available_analyzers() -> dict[str, str]:
    """Name -> ``"module:Class"`` of every analyzer: the built-ins, then those of installed
    packages' ``mlyard.analyzers`` entry points."""
    from importlib.metadata import entry_points

    found = dict(ANALYZERS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def get_analyzer(name: str) -> Analyzer[Any]:
    """The analyzer called ``name`` (built-in or from an entry point); a ValidationError
    listing the known ones if none, or saying why it cannot be loaded."""
    known = ANALYZERS if name in ANALYZERS else available_analyzers()
    target = known.get(name)
    if target is None:
        raise ValidationError(f"unknown analysis {name!r}; known: {sorted(known)}")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValidationError(f"analysis {name!r} ({target}) cannot be loaded: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Analyzer)):
        raise ValidationError(f"analysis {name!r}: {target} is not an Analyzer subclass")
    return cls()
