"""The user surfaces share one way to build specs: SageMaker's PascalCase names on every spec,
the CLI's shared training options and ``--spec FILE``, and the SDK's grouped settings with
SageMaker's flat names folded in by one adapter."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import mlyard
from mlyard.cli.commands_jobs import train
from mlyard.cli.commands_tuning import tune
from mlyard.cli.main import cli
from mlyard.cli.options import TRAINING_PARAMS, load_spec
from mlyard.core.specs import Channel, ResourceConfig, Spec
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput
from mlyard.sdk.settings import training_settings
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


def _option_names(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name}


def test_train_and_tune_share_every_training_option() -> None:
    assert set(TRAINING_PARAMS) <= _option_names(train)
    assert set(TRAINING_PARAMS) <= _option_names(tune)
    assert {"spec_file", "name", "wait", "quiet"} <= _option_names(tune)


def test_spec_file_in_sagemaker_names(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("AlgorithmName: blazingtext\nHyperParameters: {epochs: 3}\n"
                    "InputDataConfig:\n  - ChannelName: train\n    Uri: /data/train.csv\n"
                    "ResourceConfig: {InstanceCount: 1, NumThreads: 2}\n"
                    "MaxRuntimeInSeconds: 600\n"
                    "CheckpointConfig: {S3Uri: /ckpt, EverySteps: 50}\n")
    assert load_spec(path, TrainingJobSpec) == SPECS[0]
    path.write_text(json.dumps(SPECS[0].model_dump(mode="json")))
    assert load_spec(path, TrainingJobSpec) == SPECS[0]


@pytest.mark.parametrize("text, match", [
    ("- a\n- b\n", "must be a mapping"),
    ("AlgorithmName: [unclosed\n", "not YAML or JSON"),
    ("algorithm: x\nkind: tuning\n", "invalid training job spec"),
    ("algorithm: x\nNoSuchField: 1\n", "Extra inputs"),
    ("!!python/object:os.system {}\n", "not YAML or JSON"),
])
def test_bad_spec_files_are_refused_clearly(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError, match=match):
        load_spec(path, TrainingJobSpec)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(
    lambda b: b.decode("latin-1")))
def test_spec_file_parser_never_fails_otherwise(tmp_path_factory: pytest.TempPathFactory,
                                                text: str) -> None:
    path = tmp_path_factory.mktemp("f") / "spec.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    with contextlib.suppress(ValidationError):  # any other exception fails the test
        load_spec(path, TrainingJobSpec)


def test_spec_file_cannot_be_combined_with_spec_options(tmp_path: Path,
                                                        ws: Workspace) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("algorithm: blazingtext\n")
    result = CliRunner().invoke(cli, ["--home", str(ws.settings.home), "train", "--spec",
                                      str(path), "--hp", "epochs=2", "--no-wait"])
    assert result.exit_code == 2 and "drop --hp" in result.output
    assert ws.store.list_jobs() == []


def test_flat_sagemaker_arguments_fold_into_groups() -> None:
    flat = training_settings(flat={"instance_count": 2, "num_threads": 1,
                                   "checkpoint_s3_uri": "/ck", "use_spot_instances": True,
                                   "max_wait": 900, "rules": ["Overfit"], "max_run": 600,
                                   "image_uri": "img", "env": {"A": "1"}})
    grouped = training_settings(resources={"instance_count": 2, "num_threads": 1},
                                checkpoint={"uri": "/ck"}, spot=SpotConfig(),
                                max_wait_seconds=900,
                                debugger=DebuggerConfig(rules=[RuleConfig(name="Overfit")]),
                                max_runtime_seconds=600, image="img", environment={"A": "1"})
    assert flat == grouped
    assert flat.use_spot and flat.resources.instance_count == 2
    assert flat.checkpoint is not None and flat.checkpoint.uri == "/ck"


def test_the_adapter_refuses_unknown_and_doubled_settings() -> None:
    with pytest.raises(ValidationError, match=r"unknown argument.*instance_type.*accepted"):
        training_settings(flat={"instance_type": "ml.m5.large"})
    with pytest.raises(ValidationError, match="instance_count= and resources= both"):
        training_settings(resources={"instance_count": 2}, flat={"instance_count": 3})
    with pytest.raises(ValidationError, match="resources"):
        training_settings(resources={"instance_count": 0})


def test_estimator_takes_groups_or_sagemaker_names(ws: Workspace) -> None:
    grouped = mlyard.Estimator("blazingtext", resources={"num_threads": 1},
                               checkpoint=CheckpointConfig(every_steps=10), workspace=ws)
    flat = mlyard.Estimator("blazingtext", num_threads=1,
                            checkpoint_config=CheckpointConfig(every_steps=10), workspace=ws)
    inputs = {"train": "t.csv"}
    assert grouped.spec(inputs) == flat.spec(inputs)
    with pytest.raises(ValidationError, match="unknown argument"):
        mlyard.Estimator("blazingtext", instance_type="ml.m5.xlarge", workspace=ws)
