"""Pipeline steps and the ``Pipeline`` object (SageMaker Python SDK names).

Each step serializes to one entry of the definition JSON's ``Steps``
(:meth:`Step.to_request`). The job steps build their job spec with the SDK object given
(``processor.spec(...)``, ``estimator.spec(...)``, ``tuner.spec(...)``) and dump it with
``to_sagemaker()``; run-time values in it (parameters, ``step.properties...``, ``Join``) are
strings holding expression tokens (see :mod:`mlyard.pipelines.expressions`), which
:func:`~mlyard.pipelines.expressions.to_json` turns back into expression JSON.

:class:`Pipeline` checks its definition with
:func:`~mlyard.pipelines.definition.parse_definition` whenever it serializes, so a bad
reference, a cycle or a bad job spec is refused before anything is stored or started.
"""

from __future__ import annotations

import copy
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from mlyard.core.specs import check_job_name
from mlyard.errors import ValidationError
from mlyard.pipelines.conditions import Condition
from mlyard.pipelines.definition import (
    APPROVAL_STATUSES,
    DEFINITION_VERSION,
    FUNCTION_RE,
    NAME_RE,
    parse_definition,
    parse_duration,
)
from mlyard.pipelines.expressions import (
    ExecutionVariables,
    Expression,
    Properties,
    PropertyFile,
    to_json,
)
from mlyard.pipelines.parameters import Parameter


class CacheConfig:
    """Step caching: reuse an earlier execution's result of the same step with the same
    resolved arguments and inputs, if younger than ``expire_after`` (ISO-8601, ``P30D``)."""

    def __init__(self, enable_caching: bool = False, expire_after: str | None = None) -> None:
        if expire_after is not None:
            parse_duration(expire_after)
        self.enable_caching = bool(enable_caching)
        self.expire_after = expire_after

    @property
    def config(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Enabled": self.enable_caching}
        if self.expire_after is not None:
            out["ExpireAfter"] = self.expire_after
        return out


class StepExceptionTypeEnum:
    """Step failures a retry policy may name (SageMaker's)."""

    SERVICE_FAULT = "Step.SERVICE_FAULT"
    THROTTLING = "Step.THROTTLING"


class SageMakerJobExceptionTypeEnum:
    """Job failures a retry policy may name (SageMaker's)."""

    INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
    CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
    RESOURCE_LIMIT = "SageMaker.RESOURCE_LIMIT"


class RetryPolicy:
    """Retry a failed step whose failure is one of ``exception_types``: up to
    ``max_attempts`` attempts, waiting ``interval_seconds`` times ``backoff_rate`` to the
    power of the retry number between them."""

    def __init__(self, exception_types: Sequence[Any], interval_seconds: float = 1,
                 backoff_rate: float = 2.0, max_attempts: int | None = None,
                 expire_after_mins: int | None = None) -> None:
        types = [getattr(t, "value", t) for t in exception_types]
        if not types or not all(isinstance(t, str) and t for t in types):
            raise ValidationError("RetryPolicy: exception_types must be a non-empty list")
        if max_attempts is None and expire_after_mins is None:
            raise ValidationError("RetryPolicy: give max_attempts (or expire_after_mins)")
        self.exception_types = types
        self.interval_seconds = interval_seconds
        self.backoff_rate = backoff_rate
        self.max_attempts = max_attempts
        self.expire_after_mins = expire_after_mins

    def to_request(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ExceptionType": list(self.exception_types),
                               "IntervalSeconds": self.interval_seconds,
                               "BackoffRate": self.backoff_rate}
        if self.max_attempts is not None:
            out["MaxAttempts"] = self.max_attempts
        if self.expire_after_mins is not None:
            out["ExpireAfterMin"] = self.expire_after_mins
        return out


StepRetryPolicy = RetryPolicy
SageMakerJobStepRetryPolicy = RetryPolicy


def _name(name: Any, what: str = "step") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError(f"invalid {what} name {name!r} (1-64 letters, digits, '-' and "
                              "'_', starting with a letter or digit)")
    return name


class Step(ABC):
    """Base of every step: name, ``depends_on`` (steps or step names), caching and retry
    policies; ``.properties`` records the step's run-time properties."""

    step_type = ""

    def __init__(self, name: str, *, display_name: str | None = None,
                 description: str | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 cache_config: CacheConfig | None = None,
                 retry_policies: Sequence[RetryPolicy] | None = None) -> None:
        self.name = _name(name)
        self.display_name = display_name
        self.description = description
        self.depends_on: list[Step | str] = list(depends_on or [])
        self.cache_config = cache_config
        self.retry_policies = list(retry_policies or [])
        self.properties = Properties(self.name)

    def add_depends_on(self, steps: Sequence[Step | str]) -> None:
        self.depends_on.extend(steps)

    @property
    @abstractmethod
    def arguments(self) -> dict[str, Any]:
        """The step's Arguments (definition JSON, expressions included)."""

    def to_request(self) -> dict[str, Any]:
        """The step's entry in the definition's ``Steps``."""
        out: dict[str, Any] = {"Name": self.name, "Type": self.step_type}
        if self.display_name is not None:
            out["DisplayName"] = self.display_name
        if self.description is not None:
            out["Description"] = self.description
        out["Arguments"] = self.arguments
        if self.depends_on:
            out["DependsOn"] = [d.name if isinstance(d, Step) else str(d)
                                for d in self.depends_on]
        if self.cache_config is not None:
            out["CacheConfig"] = self.cache_config.config
        if self.retry_policies:
            out["RetryPolicies"] = [r.to_request() for r in self.retry_policies]
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _spec_json(build: Callable[[], Any], step: str) -> dict[str, Any]:
    try:
        spec = build()
    except ValidationError as exc:
        raise ValidationError(f"step {step}: {exc.message}") from None
    out: dict[str, Any] = to_json(spec.to_sagemaker())
    return out


def _channels(inputs: Any, step: str) -> dict[str, Any]:
    if inputs is None:
        return {}
    if isinstance(inputs, str):
        return {"train": inputs}
    if isinstance(inputs, Mapping):
        return {str(k): _uri(v) for k, v in inputs.items()}
    raise ValidationError(f"step {step}: inputs must be a path/URI (the train channel) or a "
                          "mapping of channel name to path/URI")


def _uri(value: Any) -> Any:
    """A channel value: a string/expression, or an object with SageMaker's ``s3_data``
    (``TrainingInput``) or ``config`` fields."""
    if isinstance(value, str):
        return value
    data = getattr(value, "s3_data", None)
    return data if data is not None else value


class ProcessingStep(Step):
    """Runs a processing job: ``processor`` (``mlyard.Processor``) with ``inputs``,
    ``outputs``, ``job_arguments`` and ``code``, as ``Processor.run`` takes them;
    ``property_files`` name JSON files in its outputs for ``JsonGet``."""

    step_type = "Processing"

    def __init__(self, name: str, processor: Any, inputs: Any = (), outputs: Any = (),
                 job_arguments: Sequence[Any] | None = None, code: str | None = None,
                 property_files: Sequence[PropertyFile] | None = None,
                 cache_config: CacheConfig | None = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on, cache_config=cache_config,
                         retry_policies=retry_policies)
        if not callable(getattr(processor, "spec", None)):
            raise ValidationError(f"step {name}: processor must be an mlyard.Processor")
        self.processor = processor
        self.inputs = inputs if inputs is not None else ()
        self.outputs = outputs if outputs is not None else ()
        self.job_arguments = list(job_arguments or [])
        self.code = code
        self.property_files = list(property_files or [])
        for pf in self.property_files:
            if not isinstance(pf, PropertyFile):
                raise ValidationError(f"step {name}: property_files takes PropertyFile objects")
        self.arguments  # noqa: B018 - refuse a bad job now, not at serialization

    @property
    def arguments(self) -> dict[str, Any]:
        return _spec_json(lambda: self.processor.spec(
            self.inputs, self.outputs, [str(a) for a in self.job_arguments], self.code),
            self.name)

    def to_request(self) -> dict[str, Any]:
        out = super().to_request()
        if self.property_files:
            out["PropertyFiles"] = [pf.expr for pf in self.property_files]
        return out


class TrainingStep(Step):
    """Runs a training job: ``estimator`` (``mlyard.Estimator``) on ``inputs`` (channel name
    -> path/URI or a run-time value such as a processing step's output)."""

    step_type = "Training"

    def __init__(self, name: str, estimator: Any, inputs: Any = None,
                 cache_config: CacheConfig | None = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on, cache_config=cache_config,
                         retry_policies=retry_policies)
        if not callable(getattr(estimator, "spec", None)):
            raise ValidationError(f"step {name}: estimator must be an mlyard.Estimator")
        self.estimator = estimator
        self.inputs = _channels(inputs, name)
        self.arguments  # noqa: B018 - refuse a bad job now

    @property
    def arguments(self) -> dict[str, Any]:
        return _spec_json(lambda: self.estimator.spec(self.inputs), self.name)


class TuningStep(Step):
    """Runs a hyperparameter tuning job: ``tuner`` (``mlyard.HyperparameterTuner``) on
    ``inputs``. :meth:`get_top_model_name` is the best trial's model, at run time."""

    step_type = "Tuning"

    def __init__(self, name: str, tuner: Any, inputs: Any = None,
                 cache_config: CacheConfig | None = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on, cache_config=cache_config,
                         retry_policies=retry_policies)
        if not callable(getattr(tuner, "spec", None)):
            raise ValidationError(f"step {name}: tuner must be an mlyard.HyperparameterTuner")
        self.tuner = tuner
        self.inputs = _channels(inputs, name)
        self.arguments  # noqa: B018 - refuse a bad job now

    @property
    def arguments(self) -> dict[str, Any]:
        return _spec_json(lambda: self.tuner.spec(self.inputs), self.name)

    def get_top_model_name(self, top_k: int = 0) -> Properties:
        """The best trial's training job (= its model's name) at run time; mlyard keeps
        the best only (``top_k=0``)."""
        if top_k != 0:
            raise ValidationError("get_top_model_name: only the best model (top_k=0) is kept")
        return self.properties.BestTrainingJob.TrainingJobName


class TransformStep(Step):
    """Runs a batch transform job: ``transformer`` (``mlyard.Transformer``) over ``inputs``,
    or ``model_name`` (a name or run-time value, e.g. a model step's ``ModelName``) over
    ``data`` into ``output`` with transform ``options``."""

    step_type = "Transform"

    def __init__(self, name: str, transformer: Any = None, inputs: Any = None, *,
                 model_name: Any = None, data: Any = None, output: Any = None,
                 options: Any = None,
                 cache_config: CacheConfig | None = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on, cache_config=cache_config,
                         retry_policies=retry_policies)
        if transformer is not None:
            model_name = getattr(getattr(transformer, "model", None), "name", None)
            output = output if output is not None else getattr(transformer, "output_path", None)
            options = options if options is not None else getattr(transformer, "options", None)
        data = data if data is not None else _uri(inputs)
        if model_name is None or data is None:
            raise ValidationError(f"step {name}: give transformer= and inputs=, or "
                                  "model_name= and data=")
        self.model_name = model_name
        self.data = data
        self.output = output
        self.options = options
        self.arguments  # noqa: B018 - refuse a bad job now

    @property
    def arguments(self) -> dict[str, Any]:
        from mlyard.transform.spec import TransformJobSpec

        def build() -> Any:
            fields: dict[str, Any] = {"model_name": self.model_name, "input": self.data,
                                      "output": self.output}
            if self.options is not None:
                fields["options"] = self.options
            try:
                return TransformJobSpec(**fields)
            except ValueError as exc:
                from mlyard.errors import problem_text

                raise ValidationError(f"invalid transform job: {problem_text(exc)}") from None

        return _spec_json(build, self.name)


def _model_name_of(model: Any, step: str) -> tuple[Any, Any]:
    """(model name, model data URI) of a model= argument at run time."""
    if isinstance(model, TrainingStep):
        return (model.properties.TrainingJobName,
                model.properties.ModelArtifacts.S3ModelArtifacts)
    if isinstance(model, ModelStep):
        return model.properties.ModelName, model.properties.PrimaryContainer.ModelDataUrl
    if isinstance(model, TuningStep):
        return model.get_top_model_name(), None
    if isinstance(model, Step):
        raise ValidationError(f"step {step}: model= takes a TrainingStep, TuningStep, "
                              f"ModelStep or a model name, not a {type(model).__name__}")
    name = model if isinstance(model, str) else getattr(model, "name", None)
    if not isinstance(name, str):
        raise ValidationError(f"step {step}: model= takes a TrainingStep, TuningStep, "
                              "ModelStep or a model name")
    return name, None


class ModelStep(Step):
    """Creates a model: from a ``TrainingStep`` (its model artifacts) or a TuningStep's best
    model, or ``model`` naming a registered model; ``model_name`` names the new model
    (default: the source model's name)."""

    step_type = "Model"

    def __init__(self, name: str, model: Any, model_name: Any = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on, retry_policies=retry_policies)
        self.model = model
        self.model_name = model_name
        _model_name_of(model, name)

    @property
    def arguments(self) -> dict[str, Any]:
        source, data = _model_name_of(self.model, self.name)
        out: dict[str, Any] = {}
        if self.model_name is not None:
            out["ModelName"] = to_json(self.model_name)
        if data is not None:
            out["PrimaryContainer"] = {"ModelDataUrl": to_json(data)}
        out["SourceModelName"] = to_json(source)
        return out


class MetricsSource:
    """A metrics file for the model registry: ``content_type`` and where it is (``s3_uri``:
    a path, URI or run-time value such as ``Join`` over an evaluation step's output)."""

    def __init__(self, content_type: str, s3_uri: Any, content_digest: str | None = None) -> None:
        self.content_type = content_type
        self.s3_uri = s3_uri
        self.content_digest = content_digest

    def to_request(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ContentType": self.content_type, "S3Uri": to_json(self.s3_uri)}
        if self.content_digest is not None:
            out["ContentDigest"] = self.content_digest
        return out


class ModelMetrics:
    """A model version's metrics files (SageMaker's ``ModelMetrics``): the evaluation's
    ``evaluation.json`` is ``model_statistics``."""

    _PLACES: ClassVar[dict[str, tuple[str, str]]] = {
               "model_statistics": ("ModelQuality", "Statistics"),
               "model_constraints": ("ModelQuality", "Constraints"),
               "model_data_statistics": ("ModelDataQuality", "Statistics"),
               "model_data_constraints": ("ModelDataQuality", "Constraints"),
               "bias": ("Bias", "Report"),
               "explainability": ("Explainability", "Report")}

    def __init__(self, model_statistics: MetricsSource | None = None,
                 model_constraints: MetricsSource | None = None,
                 model_data_statistics: MetricsSource | None = None,
                 model_data_constraints: MetricsSource | None = None,
                 bias: MetricsSource | None = None,
                 explainability: MetricsSource | None = None) -> None:
        self.sources = {k: v for k, v in {
            "model_statistics": model_statistics, "model_constraints": model_constraints,
            "model_data_statistics": model_data_statistics,
            "model_data_constraints": model_data_constraints, "bias": bias,
            "explainability": explainability}.items() if v is not None}
        for key, src in self.sources.items():
            if not isinstance(src, MetricsSource):
                raise ValidationError(f"ModelMetrics: {key} must be a MetricsSource")

    def to_request(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, src in self.sources.items():
            group, kind = self._PLACES[key]
            out.setdefault(group, {})[kind] = src.to_request()
        return out


class RegisterModel(Step):
    """Registers a model version in ``model_package_group_name`` (created if missing) with
    its approval status, metrics, description and inference specification.

    ``model``: a TrainingStep (its model), a ModelStep, a TuningStep (its best model) or a
    registered model's name."""

    step_type = "RegisterModel"

    def __init__(self, name: str, model: Any = None, model_package_group_name: Any = None,
                 approval_status: Any = "PendingManualApproval",
                 model_metrics: ModelMetrics | None = None, description: Any = None,
                 content_types: Sequence[str] | None = None,
                 response_types: Sequence[str] | None = None,
                 inference_instances: Any = None, transform_instances: Any = None,
                 estimator: Any = None, model_data: Any = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None) -> None:
        # inference_instances/transform_instances/estimator: SageMaker's; mlyard serves
        # locally, so there is nothing to choose.
        super().__init__(name, display_name=display_name, depends_on=depends_on,
                         retry_policies=retry_policies)
        if model is None:
            raise ValidationError(f"step {name}: RegisterModel needs model= (a TrainingStep, "
                                  "ModelStep or model name)")
        if model_package_group_name is None:
            raise ValidationError(f"step {name}: RegisterModel needs model_package_group_name=")
        if isinstance(approval_status, str) and not isinstance(approval_status, Expression) \
                and approval_status not in APPROVAL_STATUSES:
            raise ValidationError(f"step {name}: approval_status must be one of "
                                  f"{', '.join(APPROVAL_STATUSES)}, got {approval_status!r}")
        if model_metrics is not None and not isinstance(model_metrics, ModelMetrics):
            raise ValidationError(f"step {name}: model_metrics must be a ModelMetrics")
        self.model = model
        self.model_package_group_name = model_package_group_name
        self.approval_status = approval_status
        self.model_metrics = model_metrics
        self.model_description = description
        self.content_types = list(content_types or [])
        self.response_types = list(response_types or [])
        self.model_data = model_data
        _model_name_of(model, name)

    @property
    def arguments(self) -> dict[str, Any]:
        model_name, data = _model_name_of(self.model, self.name)
        data = self.model_data if self.model_data is not None else data
        out: dict[str, Any] = {
            "ModelPackageGroupName": to_json(self.model_package_group_name),
            "ModelName": to_json(model_name),
            "ModelApprovalStatus": to_json(self.approval_status)}
        if self.model_description is not None:
            out["ModelPackageDescription"] = to_json(self.model_description)
        spec: dict[str, Any] = {"Containers": [{"ModelDataUrl": to_json(data)}] if data is not
                                None else []}
        if self.content_types:
            spec["SupportedContentTypes"] = list(self.content_types)
        if self.response_types:
            spec["SupportedResponseMIMETypes"] = list(self.response_types)
        out["InferenceSpecification"] = spec
        if self.model_metrics is not None:
            out["ModelMetrics"] = self.model_metrics.to_request()
        return out


class ConditionStep(Step):
    """Runs ``if_steps`` when all ``conditions`` hold, ``else_steps`` otherwise; its
    ``properties.Outcome`` is ``"True"``/``"False"``. Branch steps are not listed in the
    pipeline's ``steps`` (they are nested here, as SageMaker's definition has them)."""

    step_type = "Condition"

    def __init__(self, name: str, conditions: Sequence[Condition] | None = None,
                 if_steps: Sequence[Step] | None = None,
                 else_steps: Sequence[Step] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on)
        self.conditions = list(conditions or [])
        if not self.conditions or not all(isinstance(c, Condition) for c in self.conditions):
            raise ValidationError(f"step {name}: conditions must be a non-empty list of "
                                  "conditions")
        self.if_steps = list(if_steps or [])
        self.else_steps = list(else_steps or [])
        for s in (*self.if_steps, *self.else_steps):
            if not isinstance(s, Step):
                raise ValidationError(f"step {name}: if_steps/else_steps take steps, "
                                      f"not {type(s).__name__}")

    @property
    def arguments(self) -> dict[str, Any]:
        return {"Conditions": [c.to_request() for c in self.conditions],
                "IfSteps": [s.to_request() for s in self.if_steps],
                "ElseSteps": [s.to_request() for s in self.else_steps]}


class FailStep(Step):
    """Ends the execution as Failed with ``error_message`` (a string or run-time value)."""

    step_type = "Fail"

    def __init__(self, name: str, error_message: Any = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on)
        self.error_message = error_message

    @property
    def arguments(self) -> dict[str, Any]:
        if self.error_message is None:
            return {}
        return {"ErrorMessage": to_json(self.error_message)}


def function_ref(func: Callable[..., Any] | str, step: str = "") -> str:
    """``package.module:function`` for ``func``; ValidationError unless a job process can
    import it (a module-level function of an importable module)."""
    where = f"step {step}: " if step else ""
    if isinstance(func, str):
        if not FUNCTION_RE.match(func):
            raise ValidationError(f"{where}func must be 'package.module:function', got {func!r}")
        return func
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    label = getattr(func, "__name__", repr(func))
    if not callable(func) or not module or not qualname:
        raise ValidationError(f"{where}func must be a function or 'package.module:function'")
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise ValidationError(f"{where}function {label!r} is a lambda or nested function; a "
                              "Function step runs a module-level function of an importable "
                              "module")
    if module == "__main__":
        raise ValidationError(f"{where}function {label!r} is defined in the script being run "
                              "(__main__), which a step's job cannot import; move it to a "
                              "module or give 'package.module:function'")
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        target = None
    if target is not func:
        raise ValidationError(f"{where}function {label!r} cannot be imported as "
                              f"{module}:{qualname}")
    return f"{module}:{qualname}"


class FunctionStep(Step):
    """Runs a Python function in a job: ``func`` (a module-level function or
    ``"package.module:function"``) with ``args``/``kwargs`` (JSON values or run-time
    values); its return value (JSON) is the step's ``properties.ReturnValue``."""

    step_type = "Function"

    def __init__(self, name: str, func: Callable[..., Any] | str,
                 args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
                 python: str | None = None,
                 cache_config: CacheConfig | None = None,
                 retry_policies: Sequence[RetryPolicy] | None = None,
                 depends_on: Sequence[Step | str] | None = None,
                 display_name: str | None = None, description: str | None = None) -> None:
        super().__init__(name, display_name=display_name, description=description,
                         depends_on=depends_on, cache_config=cache_config,
                         retry_policies=retry_policies)
        self.function = function_ref(func, name)
        self.args = list(args)
        self.kwargs = dict(kwargs or {})
        self.python = python
        try:
            json.dumps(self.arguments, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"step {name}: args and kwargs must be JSON values or "
                                  f"pipeline expressions: {exc}") from None

    @property
    def arguments(self) -> dict[str, Any]:
        return {"Function": self.function, "Args": to_json(self.args),
                "Kwargs": to_json(self.kwargs), "Python": self.python}


class PipelineExperimentConfig:
    """The experiment and run (trial) an execution logs into; default: the pipeline's name
    and the execution id."""

    def __init__(self, experiment_name: Any, trial_name: Any) -> None:
        self.experiment_name = experiment_name
        self.trial_name = trial_name

    def to_request(self) -> dict[str, Any]:
        return {"ExperimentName": to_json(self.experiment_name),
                "TrialName": to_json(self.trial_name)}


_DEFAULT: Any = object()


def _client() -> Any:
    """The engine's client module (``mlyard.pipelines.client``), imported when a pipeline is
    stored or run: the objects and their definitions work without the engine."""
    return importlib.import_module("mlyard.pipelines.client")


class Pipeline:
    """A pipeline: ``parameters`` and ``steps`` (condition branch steps live in their
    ConditionStep). :meth:`definition` is SageMaker's definition JSON; :meth:`upsert` stores
    it in the workspace and :meth:`start` runs it."""

    def __init__(self, name: str, parameters: Sequence[Parameter] | None = None,
                 steps: Sequence[Step] | None = None,
                 pipeline_experiment_config: PipelineExperimentConfig | None = _DEFAULT,
                 workspace: Any = None, sagemaker_session: Any = None) -> None:
        self.name = check_job_name(name) if isinstance(name, str) else _name(name, "pipeline")
        self.parameters = list(parameters or [])
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise ValidationError(f"pipeline {name}: parameters takes Parameter objects, "
                                      f"not {type(p).__name__}")
        self.steps = list(steps or [])
        for s in self.steps:
            if not isinstance(s, Step):
                raise ValidationError(f"pipeline {name}: steps takes steps, not "
                                      f"{type(s).__name__}")
        if pipeline_experiment_config is _DEFAULT:
            pipeline_experiment_config = PipelineExperimentConfig(
                ExecutionVariables.PIPELINE_NAME, ExecutionVariables.PIPELINE_EXECUTION_ID)
        self.pipeline_experiment_config = pipeline_experiment_config
        self.workspace = workspace
        self._definition: dict[str, Any] | None = None

    @classmethod
    def from_definition(cls, name: str, definition: str | Mapping[str, Any], *,
                        workspace: Any = None) -> Pipeline:
        """A pipeline from definition JSON (text or dict), checked now."""
        parsed = parse_definition(definition if isinstance(definition, str)
                                  else dict(definition))
        pipe = cls(name, workspace=workspace, pipeline_experiment_config=None)
        pipe._definition = parsed.raw
        return pipe

    def to_request(self) -> dict[str, Any]:
        """The definition as a dict (checked)."""
        if self._definition is not None:
            return copy.deepcopy(self._definition)
        out: dict[str, Any] = {"Version": DEFINITION_VERSION, "Metadata": {},
                               "Parameters": [p.to_request() for p in self.parameters]}
        if self.pipeline_experiment_config is not None:
            out["PipelineExperimentConfig"] = self.pipeline_experiment_config.to_request()
        out["Steps"] = [s.to_request() for s in self.steps]
        return parse_definition(out).raw

    def definition(self) -> str:
        """SageMaker's pipeline definition JSON (checked first: a bad reference, a cycle,
        a bad job spec is a ValidationError naming the step)."""
        return json.dumps(self.to_request())

    def _ws(self) -> Any:
        if self.workspace is None:
            from mlyard.core.workspace import default_workspace

            self.workspace = default_workspace()
        return self.workspace

    def upsert(self, description: str | None = None, **_sagemaker_args: Any) -> Any:
        """Create the pipeline or update its definition (a PipelineRecord)."""
        return _client().upsert_pipeline(self._ws(), self.name, self.to_request(),
                               description=description)

    def create(self, description: str | None = None, **_sagemaker_args: Any) -> Any:
        """Store the pipeline (as :meth:`upsert`)."""
        return self.upsert(description=description)

    def update(self, description: str | None = None, **_sagemaker_args: Any) -> Any:
        """Store the new definition (as :meth:`upsert`)."""
        return self.upsert(description=description)

    def start(self, parameters: Mapping[str, Any] | None = None,
              execution_display_name: str | None = None,
              parallelism: int | None = None, **_sagemaker_args: Any) -> Any:
        """Start an execution of the stored pipeline (a PipelineExecution)."""
        return _client().start_pipeline(self._ws(), self.name, dict(parameters or {}),
                              display_name=execution_display_name, parallelism=parallelism)

    def describe(self) -> Any:
        """The stored pipeline (SageMaker's DescribePipeline shape)."""
        return _client().describe_pipeline(self._ws(), self.name)

    def list_executions(self) -> Any:
        """The pipeline's executions, newest first."""
        return _client().list_executions(self._ws(), self.name)

    def delete(self) -> Any:
        """Delete the stored pipeline."""
        return _client().delete_pipeline(self._ws(), self.name)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r})"
