"""The CLI's shared training options (``train`` and ``tune`` accept the same ones) and
``--spec FILE`` (YAML or JSON of a spec, in SageMaker's names or ours)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.cli.commands_jobs import train
from mlyard.cli.commands_tuning import tune
from mlyard.cli.main import cli
from mlyard.cli.options import TRAINING_PARAMS, load_spec
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.training.spec import TrainingJobSpec
from tests.unit.core.test_specs_sagemaker import SPECS


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
    ("algorithm: x\nNoSuchField: 1\n", "NoSuchField: is not a known field"),
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


def test_metric_definition_option_and_its_old_name() -> None:
    from mlyard.cli.options import training_spec

    base = {name: None for name in TRAINING_PARAMS}
    base.update(channel=(), hp=(), env_vars=(), spot_interrupt_at=(),
                spot_interrupt_after_checkpoints=(), rules=(), metric=(), metric_alias=(),
                threads=0, device="auto", seed=0, instance_count=1, processes_per_host=1,
                checkpoint_on_invalid="fail", use_spot=False, spot_random_per_hour=0.0,
                spot_restart_delay=2.0, debug_interval=100, profile=False,
                profile_interval_ms=500, skip_bad_rows=False, algorithm="blazingtext")
    spec = training_spec({**base, "metric": ("acc=acc=([0-9.]+)",),
                          "metric_alias": ("loss=loss=([0-9.]+)",)})
    assert [(m.name, m.regex) for m in spec.metric_definitions] == [
        ("acc", "acc=([0-9.]+)"), ("loss", "loss=([0-9.]+)")]
    help_text = CliRunner().invoke(train, ["--help"]).output
    assert "--metric-definition" in help_text
    assert "--metric " not in help_text
