"""Every spec prints and parses in SageMaker's PascalCase names (one alias policy on the
:class:`mlyard.core.specs.Spec` base), and a bad field is named in snake_case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlyard.core.specs import Channel, ResourceConfig, Spec
from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput
from mlyard.training.debugger import DebuggerConfig, RuleConfig
from mlyard.training.spec import CheckpointConfig, SpotConfig, TrainingJobSpec
from mlyard.transform.spec import TransformJobSpec
from mlyard.tuning.ranges import ContinuousParameter
from mlyard.tuning.spec import TuningJobSpec, TuningObjective, WarmStartConfig


def _training(**extra: Any) -> TrainingJobSpec:
    return TrainingJobSpec(
        algorithm="blazingtext", hyperparameters={"epochs": 3},
        channels=[Channel(name="train", uri="/data/train.csv")],
        resources=ResourceConfig(instance_count=1, num_threads=2),
        max_runtime_seconds=600, checkpoint=CheckpointConfig(uri="/ckpt", every_steps=50),
        **extra)


SPECS: list[Spec] = [
    _training(),
    _training(use_spot=True, max_wait_seconds=900,
              spot=SpotConfig(interrupt_at_seconds=[5.0]),
              debugger=DebuggerConfig(rules=[RuleConfig(name="Overfit")])),
    TuningJobSpec(training=_training(), ranges={"learning_rate": ContinuousParameter(
        min_value=0.01, max_value=1.0)}, objective=TuningObjective(
        metric_name="validation:accuracy"), max_jobs=4, max_parallel_jobs=2,
        warm_start=WarmStartConfig(parents=["t-1"])),
    ProcessingJobSpec(entry_point="prep.py", inputs=[ProcessingInput(name="raw", source="/r")],
                      outputs=[ProcessingOutput(name="out")], arguments=["--x", "1"],
                      max_runtime_seconds=60),
    TransformJobSpec(model_name="m", input="/in.csv", output="/out.jsonl"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: type(s).__name__)
def test_every_spec_prints_and_parses_in_sagemaker_names(spec: Spec) -> None:
    sm = spec.to_sagemaker()
    assert type(spec).model_validate(sm) == spec
    assert type(spec).model_validate(json.loads(json.dumps(sm))) == spec
    assert type(spec).model_validate(spec.model_dump(mode="json")) == spec  # stored form
    assert all(key[:1].isupper() for key in sm)


def test_sagemaker_names_where_sagemaker_has_them() -> None:
    sm = SPECS[1].to_sagemaker()
    assert sm["AlgorithmName"] == "blazingtext" and sm["HyperParameters"] == {"epochs": 3}
    assert sm["ResourceConfig"]["InstanceCount"] == 1
    assert sm["MaxRuntimeInSeconds"] == 600 and sm["MaxWaitTimeInSeconds"] == 900
    assert sm["EnableManagedSpotTraining"] is True
    assert sm["CheckpointConfig"]["S3Uri"] == "/ckpt"
    assert sm["InputDataConfig"][0]["ChannelName"] == "train"
    tuning = SPECS[2].to_sagemaker()
    assert tuning["TrainingJobDefinition"]["AlgorithmName"] == "blazingtext"
    assert tuning["MaxNumberOfTrainingJobs"] == 4 and tuning["MaxParallelTrainingJobs"] == 2
    assert tuning["HyperParameterTuningJobObjective"]["MetricName"] == "validation:accuracy"
    assert tuning["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == ["t-1"]


def test_a_bad_field_names_the_snake_case_field() -> None:
    with pytest.raises(ValueError, match="max_runtime_seconds"):
        TrainingJobSpec(algorithm="x", MaxRuntimeInSeconds=0)
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        TrainingJobSpec(algorithm="x", NoSuchField=1)
