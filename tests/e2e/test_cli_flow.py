"""The CLI end to end, as a user runs it: real processes, a real workspace on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlyard.testing.algorithms import make_text_dataset

FAST_HPS = ["--hp", "epochs=5", "--hp", "vector_dim=16", "--hp", "buckets=20000",
            "--hp", "min_count=1", "--hp", "learning_rate=0.5", "--hp", "word_ngrams=2"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["MLYARD_HOME"] = str(tmp_path / "ws")
    out.pop("MLYARD_EXECUTOR", None)
    return out


def mlyard(env: dict[str, str], *args: str, ok: bool = True,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "mlyard", *args], env=env, text=True,
                          capture_output=True, timeout=300, cwd=cwd)
    if ok:
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc


def test_train_evaluate_transform(env: dict[str, str], tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 600, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 90, seed=2)
    test = make_text_dataset(tmp_path / "test.csv", 90, seed=3)

    mlyard(env, "tables", "register", "train_data", str(train))
    out = mlyard(env, "sql", "SELECT label, COUNT(*) AS n FROM train_data GROUP BY 1 ORDER BY 1",
                 "--format", "json").stdout
    assert json.loads(out) == [{"label": "mid", "n": 200}, {"label": "neg", "n": 200},
                               {"label": "pos", "n": 200}]

    run = mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(train),
                 "--validation", str(val), *FAST_HPS, "--name", "bt-1")
    assert "validation:accuracy" in run.stdout and "Completed" in run.stdout
    assert "bt-1" in mlyard(env, "jobs", "list").stdout
    desc = json.loads(mlyard(env, "jobs", "describe", "bt-1").stdout)
    assert desc["JobStatus"] == "Completed"
    assert desc["FinalMetrics"]["validation:accuracy"] > 0.9
    assert mlyard(env, "jobs", "logs", "bt-1").stdout.strip()
    assert "train:accuracy" in mlyard(env, "jobs", "metrics", "bt-1").stdout
    assert "bt-1" in mlyard(env, "models", "list").stdout

    evaluation = tmp_path / "eval"
    mlyard(env, "evaluate", "--model", "bt-1", "--data", str(test), "--output", str(evaluation))
    metrics = json.loads((evaluation / "evaluation.json").read_text())["metrics"]
    assert metrics["accuracy"]["value"] > 0.9
    assert (evaluation / "confusion_matrix.png").stat().st_size > 1000
    assert (evaluation / "report.html").exists()

    preds = tmp_path / "preds.jsonl"
    mlyard(env, "transform", "--model", "bt-1", "--input", str(test), "--output", str(preds),
           "--name", "tr-1")
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert len(rows) == 90 and set(rows[0]) == {"label", "prob"}
    joined = tmp_path / "joined"
    mlyard(env, "transform", "--model", "bt-1", "--input", str(test), "--output", str(joined),
           "--accept", "text/csv", "--join-source", "Input", "--workers", "2")
    text = (joined / "test.csv.out").read_text().splitlines()
    assert text[0].startswith("label,text,predicted_label") and len(text) == 91


def test_bad_input_is_refused_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 60)
    cases = [
        (["train", "--algorithm", "nope", "--train", str(train)], "unknown algorithm"),
        (["train", "--algorithm", "blazingtext", "--train", str(train), "--hp", "epochz=3"],
         "unknown hyperparameter"),
        (["train", "--algorithm", "blazingtext", "--train", str(train), "--hp",
          "learning_rate=-1"], "learning_rate"),
        (["train", "--algorithm", "blazingtext", "--train", str(tmp_path / "no.csv")],
         "does not exist"),
        (["jobs", "describe", "missing-job"], "no job named"),
        (["evaluate", "--model", "missing", "--data", str(train)], "no model named"),
        (["sql", "SELECT * FROM nowhere"], "SQL error"),
    ]
    for args, message in cases:
        proc = mlyard(env, *args, ok=False)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
    assert "No jobs" not in mlyard(env, "jobs", "list").stdout

    empty = tmp_path / "empty.csv"
    empty.write_text("label,text\n")
    proc = mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(empty),
                  "--name", "empty-1", ok=False)
    assert proc.returncode == 1
    desc = json.loads(mlyard(env, "jobs", "describe", "empty-1").stdout)
    assert desc["JobStatus"] == "Failed" and "empty.csv" in desc["FailureReason"]
    assert "empty-1" not in mlyard(env, "models", "list").stdout

    nocol = tmp_path / "nocol.csv"
    nocol.write_text("sentiment,review\n1,good\n")
    proc = mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(nocol),
                  "--name", "nocol-1", ok=False)
    desc = json.loads(mlyard(env, "jobs", "describe", "nocol-1").stdout)
    assert desc["JobStatus"] == "Failed" and "column" in desc["FailureReason"]


def test_train_and_tune_from_spec_files(env: dict[str, str], tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 300, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 60, seed=2)
    spec = tmp_path / "train.yaml"  # SageMaker's names
    spec.write_text(
        "AlgorithmName: blazingtext\n"
        "HyperParameters: {epochs: 3, vector_dim: 16, buckets: 20000, min_count: 1}\n"
        f"InputDataConfig:\n  - {{ChannelName: train, Uri: '{train}'}}\n"
        f"  - {{ChannelName: validation, Uri: '{val}'}}\n"
        "ResourceConfig: {NumThreads: 1}\n")
    mlyard(env, "train", "--spec", str(spec), "--name", "spec-1", "--quiet")
    desc = json.loads(mlyard(env, "jobs", "describe", "spec-1").stdout)
    assert desc["JobStatus"] == "Completed" and desc["Spec"]["resources"]["num_threads"] == 1
    tuning = tmp_path / "tune.json"  # mlyard's own names, JSON
    tuning.write_text(json.dumps({
        "training": {"algorithm": "blazingtext", "hyperparameters": {
            "epochs": 2, "vector_dim": 16, "buckets": 20000, "min_count": 1},
            "channels": [{"name": "train", "uri": str(train)},
                         {"name": "validation", "uri": str(val)}],
            "resources": {"num_threads": 1}},
        "ranges": {"learning_rate": {"type": "Continuous", "min_value": 0.1,
                                     "max_value": 0.5}},
        "objective": {"metric_name": "validation:accuracy"}, "strategy": "Random",
        "max_jobs": 2}))
    proc = mlyard(env, "tune", "--spec", str(tuning), "--name", "spec-tune", "--quiet")
    assert "best training job spec-tune-" in proc.stdout
    bad = mlyard(env, "tune", "--spec", str(tuning), "--max-jobs", "3", ok=False)
    assert bad.returncode == 2 and "drop --max-jobs" in bad.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("HyperParameters: [oops\n")
    bad = mlyard(env, "train", "--spec", str(broken), ok=False)
    assert bad.returncode == 2 and "not YAML or JSON" in bad.stderr


def test_stop_a_running_job(env: dict[str, str], tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 30000, seed=1)
    name = mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(train),
                  "--hp", "epochs=1000", "--hp", "min_count=1", "--hp", "buckets=1000",
                  "--hp", "vector_dim=10", "--no-wait").stdout.strip()
    deadline = time.time() + 120
    while "epoch" not in mlyard(env, "jobs", "logs", name).stdout:
        assert time.time() < deadline
        time.sleep(0.5)
    assert "Stopped" in mlyard(env, "jobs", "stop", name).stdout
    desc = json.loads(mlyard(env, "jobs", "describe", name).stdout)
    assert desc["JobStatus"] == "Stopped"
    assert name not in mlyard(env, "models", "list").stdout


def test_bert_job_evaluate_transform(env: dict[str, str], tmp_path: Path) -> None:
    """`--algorithm bert` fine-tunes the bundled MiniLM-L6 on CPU as a job (tiny slice)."""
    train = make_text_dataset(tmp_path / "train.csv", 96, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 30, seed=2)
    run = mlyard(env, "train", "--algorithm", "bert", "--train", str(train), "--validation",
                 str(val), "--hp", "epochs=2", "--hp", "max_seq_length=32", "--hp",
                 "train_batch_size=16", "--hp", "learning_rate=2e-4", "--name", "bert-1")
    assert "#validation_accuracy" in run.stdout
    desc = json.loads(mlyard(env, "jobs", "describe", "bert-1").stdout)
    assert desc["FinalMetrics"]["validation:accuracy"] > 0.8
    out = mlyard(env, "evaluate", "--model", "bert-1", "--data", str(val), "--json").stdout
    assert json.loads(out)["metrics"]["accuracy"]["value"] > 0.8
    preds = tmp_path / "bert.jsonl"
    mlyard(env, "transform", "--model", "bert-1", "--input", str(val), "--output", str(preds))
    assert len(preds.read_text().splitlines()) == 30


def test_spot_training_and_a_command_job_from_the_cli(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 300, seed=1)
    run = mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(train), *FAST_HPS,
                 "--hp", "threads=1", "--use-spot", "--max-wait", "300",
                 "--spot-interrupt-after-checkpoints", "2", "--spot-restart-delay", "0.2",
                 "--name", "bt-spot")
    assert "blazingtext: resumed from checkpoint checkpoint-0" in run.stdout
    desc = json.loads(mlyard(env, "jobs", "describe", "bt-spot").stdout)
    assert desc["SpotInterruptions"] == 1
    assert desc["BillableTimeInSeconds"] < desc["TrainingTimeInSeconds"]
    # any command, with the SageMaker environment, in the user's own Python
    cmd = (f"{sys.executable} -c \"import json, os, pathlib; "
           "pathlib.Path(os.environ['SM_MODEL_DIR'], 'hps.json').write_text("
           "os.environ['SM_HPS'])\"")
    mlyard(env, "train", "--command", cmd, "--hp", "epochs=3", "--name", "cmd-1")
    model_uri = json.loads(mlyard(env, "jobs", "describe", "cmd-1").stdout)["Outputs"]["model"]
    assert json.loads((Path(model_uri.removeprefix("file://")) / "hps.json").read_text()) \
        == {"epochs": 3}  # decoded, as the SageMaker training toolkit does
    bad = mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(train),
                 "--use-spot", ok=False)
    assert bad.returncode != 0 and "max_wait_seconds" in bad.stderr
