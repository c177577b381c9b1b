"""The analysis commands end to end, as a user runs them: ``mlyard profile``, ``bias``
(pre-training, with a predicted-label column, with a model), ``explain``, ``flow run`` and
``flow export``, ``balance`` and ``analyses``, in real processes over a real workspace, on a
small generated dataset (and a BlazingText model trained on it in seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlyard.testing.algorithms import make_text_dataset

FAST_HPS = ["--hp", "epochs=5", "--hp", "vector_dim=16", "--hp", "buckets=20000",
            "--hp", "min_count=1", "--hp", "learning_rate=0.5"]
FLOW = """\
version: 1
inputs: [raw]
steps:
  - rename: {label: sentiment}
  - lowercase: text
  - output: prepared
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["MLYARD_HOME"] = str(tmp_path / "ws")
    out.pop("MLYARD_EXECUTOR", None)
    return out


def mlyard(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "mlyard", *args], env=env, text=True,
                          capture_output=True, timeout=300)
    if ok:
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    """120 labelled texts with a category and a (partly wrong) predicted label."""
    frame = pd.read_csv(make_text_dataset(tmp_path / "raw.csv", 120, seed=4))
    frame["category"] = [("A", "B", "C")[(i // 3) % 3] for i in range(len(frame))]
    frame["pred"] = [label if i % 5 else "pos" for i, label in enumerate(frame["label"])]
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    return path


def test_profile_bias_flow_balance(env: dict[str, str], reviews: Path, tmp_path: Path) -> None:
    mlyard(env, "tables", "register", "reviews", str(reviews))
    prof = mlyard(env, "profile", "--table", "reviews", "--target", "label", "--sample-size",
                  "0", "--output", str(tmp_path / "prof"), "--name", "prof-1", "--quiet")
    assert f"profile output at {tmp_path / 'prof'}" in prof.stdout
    assert (tmp_path / "prof" / "report.html").is_file()
    assert json.loads((tmp_path / "prof" / "profile.json").read_text())

    pre = mlyard(env, "bias", "--data", str(reviews), "--label", "label", "--label-values",
                 "pos", "--facet", "category", "--methods", "CI,DPL,KL", "--output",
                 str(tmp_path / "bias"), "--name", "bias-1", "--quiet")
    assert "bias-1 Completed" in pre.stdout
    analysis = json.loads((tmp_path / "bias" / "analysis.json").read_text())
    facet = analysis["pre_training_bias_metrics"]["facets"]["category"]
    assert {m["name"] for m in facet[0]["metrics"]} == {"CI", "DPL", "KL"}
    assert (tmp_path / "bias" / "report.html").is_file()

    post = mlyard(env, "bias", "--data", str(reviews), "--label", "label", "--label-values",
                  "pos", "--facet", "category", "--predicted-label", "pred", "--methods", "all",
                  "--output", str(tmp_path / "post"), "--quiet")
    assert post.returncode == 0
    analysis = json.loads((tmp_path / "post" / "analysis.json").read_text())
    assert "post_training_bias_metrics" in analysis

    flow = tmp_path / "prep.flow.yaml"
    flow.write_text(FLOW)
    mlyard(env, "flow", "run", str(flow), "--input", f"raw={reviews}", "--output",
           str(tmp_path / "prepared"), "--quiet")
    prepared = pd.read_csv(tmp_path / "prepared" / "prepared.csv")
    assert "sentiment" in prepared.columns and len(prepared) == 120
    mlyard(env, "flow", "export", str(flow), "--python", str(tmp_path / "prep.py"))
    assert "def " in (tmp_path / "prep.py").read_text()

    mlyard(env, "balance", "--data", str(reviews), "--by", "category,label", "--output",
           str(tmp_path / "balanced.csv"), "--seed", "0", "--quiet")
    balanced = pd.read_csv(tmp_path / "balanced.csv")
    sizes = balanced.groupby(["category", "label"]).size()
    assert sizes.nunique() == 1 and len(sizes) == 9

    listed = mlyard(env, "analyses", "list", "--json").stdout
    assert {a["AnalysisType"] for a in json.loads(listed)} == \
        {"profile", "bias", "flow", "balance"}


def test_bad_input_is_an_error_before_any_job(env: dict[str, str], reviews: Path,
                                              tmp_path: Path) -> None:
    cases = [
        (["bias", "--data", str(reviews), "--label", "nope", "--label-values", "pos",
          "--facet", "category", "--output", str(tmp_path / "o")], "nope"),
        (["bias", "--data", str(reviews), "--label", "label", "--label-values", "pos",
          "--facet", "category", "--methods", "CI,XYZ", "--output", str(tmp_path / "o")],
         "XYZ"),
        (["profile", "--data", str(tmp_path / "missing.csv"), "--output", str(tmp_path / "o")],
         "does not exist"),
        (["explain", "--model", "no-model", "--data", str(reviews), "--output",
          str(tmp_path / "o")], "no-model"),
    ]
    for args, message in cases:
        proc = mlyard(env, *args, ok=False)
        assert proc.returncode == 2 and "error: " in proc.stderr and message in proc.stderr, \
            (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    bad_flow = tmp_path / "bad.flow.yaml"
    bad_flow.write_text("version: 1\ninputs: [raw]\nsteps:\n  - frobnicate: {}\n")
    proc = mlyard(env, "flow", "export", str(bad_flow), "--python", str(tmp_path / "x.py"),
                  ok=False)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {bad_flow}") and \
        "line 4" in proc.stderr, proc.stderr
    assert not (tmp_path / "x.py").exists()
    assert "analysis" not in mlyard(env, "jobs", "list").stdout


@pytest.mark.slow  # trains a model, then explains it: about a minute on 2 cores
def test_model_bias_and_text_explanation(env: dict[str, str], reviews: Path,
                                         tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 300, seed=1)
    mlyard(env, "train", "--algorithm", "blazingtext", "--train", str(train), *FAST_HPS,
           "--name", "bt-1", "--quiet")
    post = mlyard(env, "bias", "--data", str(reviews), "--label", "label", "--label-values",
                  "pos", "--facet", "category", "--model", "bt-1", "--text-column", "text",
                  "--methods", "DPPL,DI", "--output", str(tmp_path / "bias-model"), "--quiet")
    assert post.returncode == 0
    analysis = json.loads((tmp_path / "bias-model" / "analysis.json").read_text())
    assert "post_training_bias_metrics" in analysis
    sample = tmp_path / "sample.csv"
    pd.read_csv(reviews).head(4).to_csv(sample, index=False)
    shap = mlyard(env, "explain", "--model", "bt-1", "--data", str(sample), "--text-column",
                  "text", "--label", "label", "--granularity", "token", "--output",
                  str(tmp_path / "shap"), "--quiet")
    assert "explain output at" in shap.stdout
    out = tmp_path / "shap"
    assert (out / "explanations_shap" / "out.csv").is_file() and (out / "report.html").is_file()
    assert "kernel_shap" in json.loads((out / "analysis.json").read_text())["explanations"]
