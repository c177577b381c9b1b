"""Bring your own: a training job in the user's own Python environment, and in a container
image through a container runtime (here a stand-in runtime that runs the command the way
``docker run`` would: only the ``-e`` environment, the ``-w`` folder, the mounts)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.specs import Channel
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.training.container import container_command
from mlyard.training.spec import TrainingJobSpec

SCRIPT = """
import json, os, pathlib, sys
rows = sum(1 for f in pathlib.Path(os.environ["SM_CHANNEL_TRAIN"]).iterdir() for _ in open(f))
info = {"prefix": sys.prefix, "rows": rows, "argv": sys.argv[1:],
        "hosts": os.environ["SM_HOSTS"], "cwd": os.getcwd(),
        "outside": os.environ.get("ONLY_OUTSIDE")}
pathlib.Path(os.environ["SM_MODEL_DIR"], "info.json").write_text(json.dumps(info))
"""

FAKE_RUNTIME = '''#!{python}
"""Stand-in for `docker run --rm ... IMAGE CMD`: runs CMD with only the -e variables."""
import os, sys
args = sys.argv[1:]
assert args[0] == "run", args
env, cwd, i = {{"PATH": "/usr/bin:/bin"}}, None, 1
while args[i].startswith("-"):
    flag = args[i]
    if flag == "--rm":
        i += 1
        continue
    value = args[i + 1]
    if flag == "-e":
        key, _, val = value.partition("=")
        env[key] = val
    elif flag == "-w":
        cwd = value
    elif flag == "-v":
        src, _, dst = value.partition(":")
        assert src == dst and os.path.exists(src), value
    i += 2
image, command = args[i], args[i + 1:]
env["IMAGE"] = image
os.chdir(cwd)
os.execve({python!r}, [{python!r}, *command[1:]], env)
'''


def _model_info(ws: Workspace, name: str) -> dict[str, object]:
    model_dir = ws.artifacts.local_path(ws.store.get_model(name).uri)
    assert model_dir is not None
    return dict(json.loads((model_dir / "info.json").read_text()))


def _setup(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(textwrap.dedent(SCRIPT))
    data = tmp_path / "data.csv"
    data.write_text("a\nb\n")
    return data


def test_script_runs_in_the_users_python_environment(ws: Workspace, tmp_path: Path) -> None:
    data = _setup(tmp_path)
    venv = tmp_path / "userenv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                           python=str(venv / "bin" / "python"), hyperparameters={"epochs": 2},
                           channels=[Channel(name="train", uri=str(data))])
    submit_job(ws, spec, "own-env")
    wait_for_job(ws, "own-env", timeout=120)
    info = _model_info(ws, "own-env")
    assert info["prefix"] == str(venv) and info["rows"] == 2
    assert info["argv"] == ["--epochs", "2"]
    with pytest.raises(ValidationError, match="not found"):
        submit_job(ws, spec.model_copy(update={"python": str(tmp_path / "nope")}), "bad-env")


def test_script_runs_in_a_container_image(ws: Workspace, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = _setup(tmp_path)
    runtime = tmp_path / "fake-docker"
    runtime.write_text(FAKE_RUNTIME.format(python=sys.executable))
    runtime.chmod(0o755)
    monkeypatch.setenv("MLYARD_CONTAINER_RUNTIME", str(runtime))
    monkeypatch.setenv("ONLY_OUTSIDE", "leak")
    spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                           image="pytorch-training:2.13-cpu", hyperparameters={"epochs": 1},
                           channels=[Channel(name="train", uri=str(data))])
    submit_job(ws, spec, "in-image")
    wait_for_job(ws, "in-image", timeout=120)
    info = _model_info(ws, "in-image")
    assert info["rows"] == 2 and info["argv"] == ["--epochs", "1"]
    assert info["hosts"] == '["algo-1"]' and info["cwd"] == str(tmp_path)
    assert info["outside"] is None  # only the job's environment crosses into the container
    monkeypatch.setenv("MLYARD_CONTAINER_RUNTIME", "no-such-runtime")
    with pytest.raises(ValidationError, match="container runtime"):
        submit_job(ws, spec, "no-runtime")


def test_container_command_line(tmp_path: Path) -> None:
    cmd = container_command("/usr/bin/docker", "img:1", ["python", "t.py"],
                            {"SM_MODEL_DIR": "/x", "PATH": "/host/bin"}, [tmp_path, tmp_path],
                            tmp_path, gpus=True)
    assert cmd[:8] == ["/usr/bin/docker", "run", "--rm", "--network", "none", "-w",
                       str(tmp_path), "--gpus"]
    assert cmd.count("-v") == 1 and f"{tmp_path}:{tmp_path}" in cmd
    assert "SM_MODEL_DIR=/x" in cmd and not any(c.startswith("PATH=") for c in cmd)
    assert cmd[-3:] == ["img:1", "python", "t.py"]


def test_processing_command_in_a_container_image(ws: Workspace, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput

    runtime = tmp_path / "fake-docker"
    runtime.write_text(FAKE_RUNTIME.format(python=sys.executable))
    runtime.chmod(0o755)
    monkeypatch.setenv("MLYARD_CONTAINER_RUNTIME", str(runtime))
    raw = tmp_path / "raw.csv"
    raw.write_text("x\n1\n2\n")
    code = ("import pathlib, sys; src, out = sys.argv[1], sys.argv[2]; "
            "rows = sum(1 for f in pathlib.Path(src).iterdir() for _ in open(f)); "
            "pathlib.Path(out, 'n.txt').write_text(str(rows))")
    spec = ProcessingJobSpec(command=["python", "-c", code], image="sklearn-processing:1",
                             arguments=["{input:raw}", "{output:counts}"],
                             inputs=[ProcessingInput(name="raw", source=str(raw))],
                             outputs=[ProcessingOutput(name="counts",
                                                       destination=str(tmp_path / "out"))])
    submit_job(ws, spec, "proc-image")
    rec = wait_for_job(ws, "proc-image", timeout=120)
    assert (tmp_path / "out" / "n.txt").read_text() == "3"
    assert rec.outputs["counts"].endswith("/out")
    with pytest.raises(ValueError, match="exactly one of entry_point or command"):
        ProcessingJobSpec(arguments=["x"])
