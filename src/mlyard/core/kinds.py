"""Job kinds: the plug-in contract every kind of job implements, and the registry that finds
kinds by name.

A job kind (training, processing, transform, tuning, and whatever a package adds) is a
:class:`JobKind` subclass in its own package. It declares its spec type (a
:class:`~mlyard.core.specs.JobSpec` subclass whose ``kind`` field is the kind's name), checks
a spec before a job is created (:meth:`JobKind.validate`), does the work inside the job's
own process (:meth:`JobKind.run`, given a :class:`~mlyard.core.context.JobContext`), adds
its own fields to ``describe_job`` (:meth:`JobKind.describe`) and names the modules a warm
standby process should import ahead of a job of its kind (:meth:`JobKind.preload`).

Kinds are found like algorithms: :data:`BUILTIN_KINDS` (name -> ``"module:Class"``) plus the
``mlyard.job_kinds`` entry-point group of installed packages. The core imports a kind's
module only when a job of that kind is validated, run or described, so a new kind touches
no file in ``core/``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from mlyard.core.specs import JobSpec
from mlyard.errors import ValidationError, problem_text

if TYPE_CHECKING:
    from mlyard.core.context import JobContext
    from mlyard.core.records import JobRecord
    from mlyard.core.workspace import Workspace

#: Entry-point group through which installed packages add job kinds.
ENTRY_POINT_GROUP = "mlyard.job_kinds"

#: The kinds that ship with mlyard: name -> ``"module:Class"``.
BUILTIN_KINDS: dict[str, str] = {
    "training": "mlyard.training.kind:TrainingKind",
    "processing": "mlyard.processing.kind:ProcessingKind",
    "transform": "mlyard.transform.kind:TransformKind",
    "tuning": "mlyard.tuning.kind:TuningKind",
}

S = TypeVar("S", bound=JobSpec)


class JobKind(ABC, Generic[S]):
    """One kind of job. Subclasses set :attr:`name` and :attr:`spec_type` and implement
    :meth:`run`; the other hooks have defaults that do nothing."""

    #: The kind's name: the ``kind`` field of its specs and the job's type in the store.
    name: ClassVar[str]
    #: The pydantic spec class of this kind.
    spec_type: ClassVar[type[JobSpec]]

    def validate(self, ws: Workspace, spec: S) -> None:
        """Refuse a spec that cannot run (missing inputs, unknown names, ...) with a
        :class:`~mlyard.errors.ValidationError`, *before* the job is created."""

    @abstractmethod
    def run(self, ctx: JobContext[S]) -> dict[str, str]:
        """Do the job's work in its own process; return its outputs (name -> URI). Raise to
        fail the job; outputs are only stored by the kind after its work succeeded."""

    def describe(self, ws: Workspace, record: JobRecord,
                 final_metrics: dict[str, float]) -> dict[str, Any]:
        """Fields this kind adds to ``describe_job`` (SageMaker names). It may remove
        entries from ``final_metrics`` that it lifts to the top level."""
        return {}

    def preload(self, spec: S) -> Sequence[str]:
        """Modules a warm standby process should import before it takes a job with
        ``spec`` (the modules ``run`` will need)."""
        return ()

    def parse_spec(self, data: dict[str, Any]) -> S:
        """The typed spec from its stored JSON (a ValidationError naming the problem)."""
        try:
            return self.spec_type.model_validate(data)  # type: ignore[return-value]
        except ValueError as exc:
            raise ValidationError(f"invalid job spec: {problem_text(exc)}") from None


def available_job_kinds() -> dict[str, str]:
    """Name -> ``"module:Class"`` of every job kind mlyard can find."""
    found = dict(BUILTIN_KINDS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


@cache
def _load(target: str) -> JobKind[Any]:
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValidationError(f"job kind {target} cannot be loaded: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, JobKind)):
        raise ValidationError(f"{target} is not a JobKind subclass")
    return cls()


def get_job_kind(name: str) -> JobKind[Any]:
    """The job kind called ``name``; a ValidationError listing the known kinds if none."""
    known = available_job_kinds()
    target = known.get(name)
    if target is None:
        raise ValidationError(
            f"unknown job kind {name!r}; available: {', '.join(sorted(known))}")
    kind = _load(target)
    if kind.name != name:
        raise ValidationError(f"job kind {target} is registered as {name!r} but is named "
                              f"{kind.name!r}")
    return kind


def kind_of(spec: JobSpec) -> JobKind[Any]:
    """The job kind of ``spec`` (by its ``kind`` field)."""
    kind = get_job_kind(spec.kind)
    if not isinstance(spec, kind.spec_type):
        raise ValidationError(f"a {spec.kind!r} job needs a {kind.spec_type.__name__}, "
                              f"not a {type(spec).__name__}")
    return kind


def spec_from_dict(data: dict[str, Any]) -> JobSpec:
    """Parse a stored spec back into its typed class (dispatching on its ``kind``)."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise ValidationError("invalid job spec: it needs a 'kind' naming the job kind")
    try:
        kind = get_job_kind(data["kind"])
    except ValidationError as exc:
        raise ValidationError(f"invalid job spec: {exc.message}") from None
    return kind.parse_spec(data)  # type: ignore[no-any-return]
