"""The Python SDK end to end: Estimator -> Model -> evaluate / predict -> Transformer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mlyard
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, NotFoundError, ValidationError
from mlyard.testing.algorithms import make_text_dataset

HPS = {"epochs": 5, "vector_dim": 16, "buckets": 20000, "min_count": 1, "learning_rate": 0.5}


def test_estimator_model_transformer(ws: Workspace, tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 600, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 90, seed=2)
    test = make_text_dataset(tmp_path / "test.csv", 90, seed=3)
    est = mlyard.Estimator("blazingtext", hyperparameters=HPS)
    job = est.fit({"train": train, "validation": val}, job_name="sdk-bt")
    desc = job.describe()
    assert desc["JobStatus"] == "Completed"
    assert desc["FinalMetrics"]["validation:accuracy"] > 0.9
    frame = job.metrics()
    assert (frame["name"] == "train:accuracy").sum() == 5
    model = est.model
    assert model.predict(["love perfect beautiful"])[0]["label"] == ["pos"]
    result = model.evaluate(test, output_dir=tmp_path / "eval")
    assert result.to_evaluation_json()["metrics"]["accuracy"]["value"] > 0.9
    tjob = model.transformer(tmp_path / "out", accept="application/jsonlines").transform(test)
    out = Path(tjob.output.removeprefix("file://")) / "test.csv.out"  # type: ignore[union-attr]
    assert len(out.read_text().splitlines()) == 90
    assert json.loads(out.read_text().splitlines()[0])["label"][0] in {"pos", "neg", "mid"}


def test_sdk_errors(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        mlyard.Estimator()
    with pytest.raises(NotFoundError, match="no model named 'no-such-model'"):
        mlyard.Model("no-such-model")
    bad = tmp_path / "bad.txt"
    bad.write_text("no labels here\n")
    with pytest.raises(JobFailedError, match=r"bad\.txt"):
        mlyard.Estimator("blazingtext", hyperparameters=HPS).fit(bad, job_name="bad-1")
    assert ws.store.get_job("bad-1").status.value == "Failed"


def test_deploy_starts_a_server_and_predicts(ws: Workspace, tmp_path: Path) -> None:
    from mlyard.server.run import running_server, stop_server

    train = make_text_dataset(tmp_path / "train.csv", 300, seed=1)
    mlyard.Estimator("blazingtext", hyperparameters=HPS).fit(train, job_name="dep-bt")
    assert running_server(ws.settings) is None
    try:
        with mlyard.Model("dep-bt").deploy(endpoint_name="dep-ep",
                                           initial_instance_count=2) as predictor:
            assert running_server(ws.settings) is not None
            out = predictor.predict(["love perfect beautiful", "awful ripped cheap"])
            assert [p["label"][0] for p in out] == ["pos", "neg"]
            assert predictor.last_variant == "AllTraffic"
            desc = predictor.describe()
            assert desc["ProductionVariants"][0]["CurrentInstanceCount"] == 2
            predictor.delete_endpoint()
            with pytest.raises(NotFoundError, match="no endpoint named 'dep-ep'"):
                predictor.describe()
    finally:
        stop_server(ws.settings)
    assert running_server(ws.settings) is None


PREP = """
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--src")
parser.add_argument("--dst")
parser.add_argument("--repeat", type=int)
args = parser.parse_args()
lines = pathlib.Path(args.src, "raw.txt").read_text().splitlines()
pathlib.Path(args.dst, "clean.txt").write_text("\\n".join(l.upper() for l in lines * args.repeat))
print(f"rows={len(lines) * args.repeat}")
"""


def test_processor_runs_a_script_with_inputs_and_outputs(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "prep.py").write_text(PREP)
    raw = tmp_path / "raw.txt"
    raw.write_text("a\nb\n")
    proc = mlyard.Processor(entry_point="prep.py", source_dir=str(tmp_path / "code"),
                            metric_definitions=[{"name": "rows", "regex": r"rows=(\d+)"}])
    job = proc.run(inputs={"raw": raw}, outputs=["clean"],
                   arguments=["--src", "{input:raw}", "--dst", "{output:clean}",
                              "--repeat", "2"], job_name="prep-1")
    assert job.status.value == "Completed" and job.describe()["FinalMetrics"]["rows"] == 4
    out = Path(job.outputs["clean"].removeprefix("file://")) / "clean.txt"
    assert out.read_text() == "A\nB\nA\nB"
    with pytest.raises(ValidationError, match="input 'raw'"):
        proc.run(inputs={"raw": tmp_path / "missing.txt"}, outputs=["clean"],
                 job_name="prep-2")
    with pytest.raises(JobFailedError,
                       match=r"job 'prep-3' ended Failed: .*--repeat: invalid int value"):
        proc.run(inputs={"raw": raw}, outputs=["clean"], arguments=["--repeat", "x"],
                 job_name="prep-3")
    assert [j.name for j in ws.store.list_jobs()] == ["prep-3", "prep-1"]
