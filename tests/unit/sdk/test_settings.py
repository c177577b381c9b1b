"""The SDK's grouped settings, with SageMaker's flat argument names folded in by one
adapter (:mod:`mlyard.sdk.settings`)."""

from __future__ import annotations

import pytest

import mlyard
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.sdk.settings import training_settings
from mlyard.training.debugger import DebuggerConfig, RuleConfig
from mlyard.training.spec import CheckpointConfig, SpotConfig


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
