"""mlyard: a local-first platform for the practical data-science lifecycle.

The public API::

    import mlyard
    mlyard.sql("SELECT sentiment, COUNT(*) FROM reviews GROUP BY 1")
    est = mlyard.Estimator("blazingtext", hyperparameters={"epochs": 10})
    job = est.fit({"train": "train.csv", "validation": "val.csv"}, job_name="bt-1")
    model = mlyard.Model("bt-1")
    model.evaluate("test.csv")
    model.transformer("preds/").transform("test.csv")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlyard.config import Settings
from mlyard.errors import (
    ConflictError,
    DataError,
    JobFailedError,
    MlyardError,
    NotFoundError,
    SQLQueryError,
    ValidationError,
)

if TYPE_CHECKING:
    import pandas as pd

__version__ = "0.1.0"

_LAZY = {
    "Workspace": "mlyard.core.workspace",
    "Estimator": "mlyard.sdk.estimator",
    "Model": "mlyard.sdk.model",
    "Transformer": "mlyard.sdk.model",
    "Job": "mlyard.sdk.jobs",
    "TrainingJob": "mlyard.sdk.jobs",
    "TransformJob": "mlyard.sdk.jobs",
    "Catalog": "mlyard.data.catalog",
    "default_workspace": "mlyard.sdk.session",
    "set_default_workspace": "mlyard.sdk.session",
    "report_metric": "mlyard.sdk.metrics",
    "Predictor": "mlyard.sdk.endpoints",
    "create_endpoint": "mlyard.sdk.endpoints",
    "production_variant": "mlyard.sdk.endpoints",
    "Processor": "mlyard.sdk.processor",
    "ProcessingJob": "mlyard.sdk.jobs",
    "ProcessingInput": "mlyard.processing.spec",
    "ProcessingOutput": "mlyard.processing.spec",
    "ResourceConfig": "mlyard.core.specs",
    "CheckpointConfig": "mlyard.training.spec",
    "SpotConfig": "mlyard.training.spec",
    "DistributionConfig": "mlyard.training.spec",
    "DebuggerConfig": "mlyard.training.debugger",
    "RuleConfig": "mlyard.training.debugger",
    "DebugHook": "mlyard.training.debugger",
    "ProfilerConfig": "mlyard.training.profiler",
    "StepProfiler": "mlyard.training.profiler",
    "HyperparameterTuner": "mlyard.sdk.tuner",
    "ContinuousParameter": "mlyard.tuning.ranges",
    "IntegerParameter": "mlyard.tuning.ranges",
    "CategoricalParameter": "mlyard.tuning.ranges",
    "WarmStartConfig": "mlyard.tuning.spec",
    "SageMakerClarifyProcessor": "mlyard.sdk.clarify",
    "ClarifyProcessor": "mlyard.sdk.clarify",
    "AnalysisJob": "mlyard.sdk.clarify",
    "DataConfig": "mlyard.sdk.clarify",
    "BiasConfig": "mlyard.sdk.clarify",
    "ModelConfig": "mlyard.sdk.clarify",
    "ModelPredictedLabelConfig": "mlyard.sdk.clarify",
    "SHAPConfig": "mlyard.sdk.clarify",
    "TextConfig": "mlyard.sdk.clarify",
    "Pipeline": "mlyard.pipelines",
    "PipelineExecution": "mlyard.pipelines.client",
    "ModelPackageGroup": "mlyard.sdk.registry",
    "ModelPackage": "mlyard.sdk.registry",
    "Experiment": "mlyard.sdk.experiments",
    "start_run": "mlyard.sdk.experiments",
    "end_run": "mlyard.sdk.experiments",
    "active_run": "mlyard.sdk.experiments",
    "log_param": "mlyard.sdk.experiments",
    "log_params": "mlyard.sdk.experiments",
    "log_metric": "mlyard.sdk.experiments",
    "log_metrics": "mlyard.sdk.experiments",
    "log_artifact": "mlyard.sdk.experiments",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlyard' has no attribute {name!r}")


def sql(query: str, *, database: str = "default", save: bool = False) -> pd.DataFrame:
    """Run SQL over the catalog's tables in the default workspace; a DataFrame."""
    from mlyard.data.catalog import Catalog
    from mlyard.sdk.session import default_workspace

    return Catalog(default_workspace()).sql(query, database=database, save=save).frame


__all__ = [
    "ConflictError",
    "DataError",
    "JobFailedError",
    "MlyardError",
    "NotFoundError",
    "SQLQueryError",
    "Settings",
    "ValidationError",
    "sql",
    *_LAZY,
]
