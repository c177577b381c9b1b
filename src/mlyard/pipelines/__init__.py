"""Pipelines: SageMaker-style pipelines of processing, training, tuning, transform, model,
register-model, condition, fail and function steps, with parameters and property references
resolved at run time.

>>> from mlyard.pipelines import Pipeline, ParameterFloat, ProcessingStep, TrainingStep
>>> threshold = ParameterFloat("MinAccuracy", default_value=0.80)
>>> pipe = Pipeline("reviews", parameters=[threshold], steps=[prep, train, ev, cond])
>>> pipe.upsert(); pipe.start(parameters={"MinAccuracy": 0.82}).wait()

The definition JSON (``pipe.definition()``, SageMaker's shape) is parsed and checked by
:mod:`mlyard.pipelines.definition`; the engine runs it.
"""

from mlyard.pipelines.conditions import (
    Condition,
    ConditionEquals,
    ConditionGreaterThan,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
)
from mlyard.pipelines.expressions import (
    ExecutionVariable,
    ExecutionVariables,
    Expression,
    Join,
    JsonGet,
    Properties,
    PropertyFile,
)
from mlyard.pipelines.parameters import (
    Parameter,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
)
from mlyard.pipelines.steps import (
    CacheConfig,
    ConditionStep,
    FailStep,
    FunctionStep,
    MetricsSource,
    ModelMetrics,
    ModelStep,
    Pipeline,
    PipelineExperimentConfig,
    ProcessingStep,
    RegisterModel,
    RetryPolicy,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    Step,
    StepExceptionTypeEnum,
    StepRetryPolicy,
    TrainingStep,
    TransformStep,
    TuningStep,
)

__all__ = [
    "CacheConfig",
    "Condition",
    "ConditionEquals",
    "ConditionGreaterThan",
    "ConditionGreaterThanOrEqualTo",
    "ConditionIn",
    "ConditionLessThan",
    "ConditionLessThanOrEqualTo",
    "ConditionNot",
    "ConditionOr",
    "ConditionStep",
    "ExecutionVariable",
    "ExecutionVariables",
    "Expression",
    "FailStep",
    "FunctionStep",
    "Join",
    "JsonGet",
    "MetricsSource",
    "ModelMetrics",
    "ModelStep",
    "Parameter",
    "ParameterBoolean",
    "ParameterFloat",
    "ParameterInteger",
    "ParameterString",
    "Pipeline",
    "PipelineExperimentConfig",
    "ProcessingStep",
    "Properties",
    "PropertyFile",
    "RegisterModel",
    "RetryPolicy",
    "SageMakerJobExceptionTypeEnum",
    "SageMakerJobStepRetryPolicy",
    "Step",
    "StepExceptionTypeEnum",
    "StepRetryPolicy",
    "TrainingStep",
    "TransformStep",
    "TuningStep",
]
