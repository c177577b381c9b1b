"""``Model`` (a registered model) and ``Transformer`` (its batch transform jobs)."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.core.records import ModelRecord
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError, problem_text
from mlyard.models import LoadedModel, load_model
from mlyard.sdk.jobs import TransformJob
from mlyard.sdk.session import default_workspace
from mlyard.transform.engine import TransformOptions
from mlyard.transform.spec import TransformJobSpec


def instance_list(instances: Any) -> list[Any]:
    """The instances to predict: a single ``str`` or ``dict`` is one instance; a list or
    tuple (or any other sequence that is not text) holds one instance per item."""
    if isinstance(instances, str | dict):
        return [instances]
    if isinstance(instances, bytes | bytearray | memoryview):
        raise ValidationError("predict() takes text, not bytes: decode the bytes first "
                              "(e.g. data.decode('utf-8'))")
    if not isinstance(instances, Sequence) and not hasattr(instances, "tolist"):
        raise ValidationError(f"predict() takes a list of instances, a str or a dict, not "
                              f"{type(instances).__name__}")
    return list(instances)


class Model:
    """A registered model by name (a training job's name, or a name given at registration)."""

    def __init__(self, name: str, *, workspace: Workspace | None = None) -> None:
        self.workspace = workspace or default_workspace()
        self.name = name
        self.record: ModelRecord = self.workspace.store.get_model(name)

    def __repr__(self) -> str:
        return f"Model({self.name!r}, flavor={self.record.flavor!r})"

    @property
    def model_dir(self) -> Path:
        """A local folder holding the model (downloaded when the artifact root is remote)."""
        return self.workspace.artifacts.materialize(self.record.uri, self.workspace.cache_dir)

    @cached_property
    def loaded(self) -> LoadedModel:
        """The model loaded in this process (cached)."""
        return load_model(self.model_dir)

    def predict(self, instances: Sequence[Any] | str | dict[str, Any],
                top_k: int = 1) -> list[dict[str, Any]]:
        """Predict in this process: ``[{"label": [...], "prob": [...]}, ...]``, one entry per
        instance.

        ``instances`` is a list (or tuple) of instances. A single ``str`` or ``dict`` is one
        instance, as SageMaker's ``Predictor`` sends a string as one payload: ``predict("I
        love it")`` gives one prediction, never one per character. Bytes are refused (decode
        them to text first).
        """
        return self.loaded.predict(instance_list(instances), top_k=top_k)

    def evaluate(self, data: str | Path, *, label_column: str | None = None,
                 text_column: str | None = None, output_dir: str | Path | None = None,
                 threshold: float | None = None, positive_label: str | None = None,
                 skip_bad_rows: bool = False) -> Any:
        """Evaluate on labelled ``data`` (CSV with label/text columns or fastText lines).
        Writes evaluation.json, the confusion matrix and an HTML report to ``output_dir``
        (default: the workspace's ``evaluations/<model>/<timestamp>``).

        A bad row of ``data`` (not UTF-8, the wrong number of fields, an empty label) is
        refused naming the file and line; with ``skip_bad_rows`` it is left out, and a
        warning on stderr counts such rows (:mod:`mlyard.models.datafiles`)."""
        from mlyard.evaluation import evaluate_model, load_labeled_data
        from mlyard.models.datafiles import BadRows

        bad_rows = BadRows(skip=skip_bad_rows)
        texts, labels = load_labeled_data(Path(data), label_column=label_column,
                                          text_column=text_column, bad_rows=bad_rows)
        if bad_rows.summary():
            print(bad_rows.summary(), file=sys.stderr, flush=True)
        if output_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
            output_dir = self.workspace.settings.home / "evaluations" / self.name / stamp
        return evaluate_model(self.loaded, texts, labels, out_dir=Path(output_dir),
                              threshold=threshold, positive_label=positive_label)

    def deploy(self, endpoint_name: str, *, initial_instance_count: int = 1,
               variant_name: str = "AllTraffic", data_capture: dict[str, Any] | None = None,
               wait: bool = True) -> Any:
        """Deploy to a real-time endpoint with one variant; starts ``mlyard server`` in the
        background if none runs. Returns a :class:`~mlyard.sdk.endpoints.Predictor`."""
        from mlyard.sdk.endpoints import create_endpoint, production_variant

        variant = production_variant(self.name, variant_name,
                                     initial_instance_count=initial_instance_count)
        return create_endpoint(endpoint_name, [variant], data_capture=data_capture, wait=wait,
                               workspace=self.workspace)

    def transformer(self, output_path: str | Path | None = None, *,
                    accept: str = "application/jsonlines", content_type: str | None = None,
                    batch_size: int = 256, workers: int = 1, join_source: str = "None",
                    top_k: int = 1, **options: Any) -> Transformer:
        """A :class:`Transformer` that batch-transforms with this model."""
        try:
            opts = TransformOptions(accept=accept, content_type=content_type,
                                    batch_size=batch_size, workers=workers,
                                    join_source=join_source, top_k=top_k, **options)
        except ValueError as exc:
            raise ValidationError(f"invalid transform options: {problem_text(exc)}") from None
        return Transformer(self, opts, None if output_path is None else str(output_path))


class Transformer:
    """Runs batch transform jobs for one model (SageMaker's ``Transformer``)."""

    def __init__(self, model: Model, options: TransformOptions,
                 output_path: str | None = None) -> None:
        self.model = model
        self.options = options
        self.output_path = output_path
        self.latest_transform_job: TransformJob | None = None

    def transform(self, data: str | Path, *, job_name: str | None = None, wait: bool = True,
                  logs: bool = False) -> TransformJob:
        """Start a transform job over ``data`` (a file or folder)."""
        spec = TransformJobSpec(model_name=self.model.name, input=str(data),
                                output=self.output_path, options=self.options)
        name = job_name or unique_job_name(f"{self.model.name}-transform")
        submit_job(self.model.workspace, spec, name)
        self.latest_transform_job = TransformJob(self.model.workspace, name)
        if wait:
            self.latest_transform_job.wait(logs=logs)
        return self.latest_transform_job
