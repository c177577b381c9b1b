"""Script mode: run a user's script with SageMaker's training/processing environment.

The script sees the same variables a SageMaker training container sets (``SM_MODEL_DIR``,
``SM_CHANNEL_<NAME>``, ``SM_CHANNELS``, ``SM_OUTPUT_DATA_DIR``, ``SM_HPS``, ``SM_HP_<NAME>``,
``SM_NUM_GPUS``, ``SM_NUM_CPUS``, ``SM_HOSTS``, ``SM_CURRENT_HOST``, ``SM_TRAINING_ENV``, ...)
and gets its hyperparameters as command-line arguments (``--epochs 3``), so existing
SageMaker scripts run unchanged. The folders mirror ``/opt/ml`` under a job-local root.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.errors import MlyardError

CURRENT_HOST = "algo-1"


def count_gpus() -> int:
    """CUDA devices visible to this process (0 without torch or CUDA)."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


@dataclass(frozen=True)
class MlLayout:
    """The ``/opt/ml``-like folder layout of one job."""

    root: Path

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    def channel_dir(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    def create(self) -> None:
        for path in (self.model_dir, self.config_dir, self.output_data_dir):
            path.mkdir(parents=True, exist_ok=True)


def stage_channel(source: Path, dest_dir: Path) -> Path:
    """Make ``dest_dir`` show ``source``: a folder is linked as is, a single file is linked
    inside an otherwise empty folder (SageMaker channels are always folders)."""
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    if dest_dir.is_symlink() or dest_dir.exists():
        return dest_dir
    if source.is_dir():
        dest_dir.symlink_to(source.resolve(), target_is_directory=True)
    else:
        dest_dir.mkdir()
        (dest_dir / source.name).symlink_to(source.resolve())
    return dest_dir


def hyperparameter_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """``{"epochs": 3, "lr": 0.1}`` -> ``["--epochs", "3", "--lr", "0.1"]`` (SageMaker's)."""
    args: list[str] = []
    for key, value in hyperparameters.items():
        text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        args += [f"--{key}", text]
    return args


def decode_hyperparameter(value: Any) -> Any:
    """A hyperparameter as SageMaker's training toolkit hands it to the script: a string
    that is JSON is decoded (``"3"`` -> 3, ``"true"`` -> True, ``"[1, 2]"`` -> [1, 2]);
    any other string stays as it is (``"adam"``); non-strings are kept."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def hyperparameter_env_value(value: Any) -> str:
    """The toolkit's ``SM_HP_<NAME>`` value of a decoded hyperparameter: strings as they
    are, anything else as JSON (``3``, ``true``, ``[1, 2]``)."""
    return value if isinstance(value, str) else json.dumps(value)


def training_environment(layout: MlLayout, channels: Mapping[str, Path],
                         hyperparameters: Mapping[str, Any], job_name: str,
                         module_dir: Path, num_cpus: int) -> dict[str, str]:
    """The ``SM_*`` variables of a training container for this job. ``SM_HPS``,
    ``SM_TRAINING_ENV``'s hyperparameters and ``SM_HP_<NAME>`` hold the decoded values
    (:func:`decode_hyperparameter`), as the training toolkit's; the command-line arguments
    and ``hyperparameters.json`` keep the values as given."""
    decoded = {k: decode_hyperparameter(v) for k, v in hyperparameters.items()}
    hosts = [CURRENT_HOST]
    gpus = count_gpus()
    channel_dirs = {name: str(layout.channel_dir(name)) for name in channels}
    resource = {"current_host": CURRENT_HOST, "hosts": hosts, "network_interface_name": "lo"}
    input_config = {name: {"TrainingInputMode": "File"} for name in channels}
    (layout.config_dir / "hyperparameters.json").write_text(
        json.dumps({k: str(v) for k, v in hyperparameters.items()}))
    (layout.config_dir / "resourceconfig.json").write_text(json.dumps(resource))
    (layout.config_dir / "inputdataconfig.json").write_text(json.dumps(input_config))
    training_env = {
        "job_name": job_name, "hosts": hosts, "current_host": CURRENT_HOST,
        "channel_input_dirs": channel_dirs, "hyperparameters": decoded,
        "model_dir": str(layout.model_dir), "output_data_dir": str(layout.output_data_dir),
        "output_dir": str(layout.output_dir), "input_dir": str(layout.input_dir),
        "input_config_dir": str(layout.config_dir), "num_gpus": gpus, "num_cpus": num_cpus,
        "module_dir": str(module_dir), "resource_config": resource,
        "input_data_config": input_config,
    }
    env = {
        "SM_MODEL_DIR": str(layout.model_dir),
        "SM_INPUT_DIR": str(layout.input_dir),
        "SM_INPUT_CONFIG_DIR": str(layout.config_dir),
        "SM_OUTPUT_DIR": str(layout.output_dir),
        "SM_OUTPUT_DATA_DIR": str(layout.output_data_dir),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(decoded),
        "SM_HOSTS": json.dumps(hosts),
        "SM_CURRENT_HOST": CURRENT_HOST,
        "SM_NUM_GPUS": str(gpus),
        "SM_NUM_CPUS": str(num_cpus),
        "SM_MODULE_DIR": str(module_dir),
        "SM_USER_ARGS": json.dumps(hyperparameter_args(hyperparameters)),
        "SM_TRAINING_ENV": json.dumps(training_env),
        "SM_RESOURCE_CONFIG": json.dumps(resource),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_config),
        "SM_NETWORK_INTERFACE_NAME": "lo",
        "TRAINING_JOB_NAME": job_name,
    }
    for name, path in channel_dirs.items():
        env[f"SM_CHANNEL_{name.upper().replace('-', '_')}"] = path
    for key, value in decoded.items():
        env[f"SM_HP_{key.upper().replace('-', '_')}"] = hyperparameter_env_value(value)
    return env


class ScriptFailed(MlyardError):
    """The user's script exited with a non-zero code."""

    code = "AlgorithmError"


def run_script(script: Path, args: list[str], env: Mapping[str, str], cwd: Path,
               on_line: Callable[[str], None], should_stop: Callable[[], bool],
               python: str | None = None, poll: float = 0.25) -> int:
    """Run ``python script args`` (see :func:`run_command`)."""
    return run_command([python or sys.executable, str(script), *args], env, cwd, on_line,
                       should_stop, poll=poll, what=script.name)


def run_command(command: list[str], env: Mapping[str, str], cwd: Path,
                on_line: Callable[[str], None], should_stop: Callable[[], bool],
                poll: float = 0.25, what: str | None = None) -> int:
    """Run ``command`` in its own process group, feeding each output line to ``on_line``.
    Returns 0; raises :class:`ScriptFailed` with the last lines on failure. When
    ``should_stop()`` turns true the process group gets SIGTERM, then SIGKILL after 10 s,
    and :class:`MlyardError` ``"stopped"`` is raised."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", bufsize=1, start_new_session=True)
    except OSError as exc:
        from mlyard.training.launcher import program_problem

        raise ScriptFailed(f"cannot run {command[0]!r}: {program_problem(exc)}") from None
    tail: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            del tail[:-20]
            on_line(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    stopped = False
    while proc.poll() is None:
        if not stopped and should_stop():
            stopped = True
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
        reader.join(timeout=poll)
    reader.join(timeout=5)
    if stopped:
        raise MlyardError("stopped")
    if proc.returncode != 0:
        from mlyard.training.launcher import failure_line

        last = failure_line(tail) or "(it printed nothing)"
        raise ScriptFailed(f"{what or Path(command[0]).name} exited with code "
                           f"{proc.returncode}: {last}")
    return 0


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
