"""The course pipeline (Practical Data Science, course 2) on mlyard, in one command.

Prepare (processing: course transform + stratified split, cached 30 days) -> Train
(BlazingText with the demo's hyperparameters, or ``--algorithm bert``: the bert algorithm with
the packaged MiniLM-L6 for a few steps: 10 steps of 32 reviews from a 2,000-row sample, with
MinAccuracy 0.70 by default) -> Evaluate (processing: ``evaluation.json``) ->
AccuracyOK (condition: accuracy >= MinAccuracy) -> if it holds: Register (model registry,
PendingManualApproval, the evaluation as model metrics) + CreateModel; else: TooLow (fail).
Then approve the new registry version, deploy it to the endpoint ``reviews``, send a few
reviews and print the predictions, and delete the endpoint (and stop the server it started)
unless ``--keep``. An endpoint ``reviews`` that existed before is updated (blue/green) and
kept.

Usage::

    python examples/pipeline_reviews.py [--data CSV] [--algorithm blazingtext|bert]
        [--min-accuracy 0.8] [--epochs 10] [--no-approve] [--no-deploy] [--keep]
        [--upsert-only] [--summary FILE]

``--upsert-only`` only stores the pipeline, to run it with ``mlyard pipelines start reviews
--wait`` (or ``--param MinAccuracy=0.82``).

The data defaults to the reviews CSV setting (``MLYARD_REVIEWS_CSV``, else
``../shared/data/womens_clothing_ecommerce_reviews.csv``); the workspace is ``MLYARD_HOME``.
The last line printed is one JSON object with the execution id, its status, the registry
version and the predictions (``--summary FILE`` also writes it to FILE).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlyard
from mlyard.cli.output import table
from mlyard.core.workspace import default_workspace
from mlyard.datasets.reviews import check_reviews_file, reviews_csv_path
from mlyard.errors import JobFailedError, MlyardError
from mlyard.pipelines import (
    CacheConfig,
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    FailStep,
    Join,
    JsonGet,
    MetricsSource,
    ModelMetrics,
    ModelStep,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Pipeline,
    ProcessingStep,
    PropertyFile,
    RegisterModel,
    TrainingStep,
)
from mlyard.pipelines.store import PipelineStore
from mlyard.processing.spec import ProcessingInput, ProcessingOutput
from mlyard.registry.service import get_package
from mlyard.sdk.registry import ModelPackage
from mlyard.server.run import running_server, stop_server
from mlyard.serving.store import EndpointStore

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "pipeline"
PIPELINE_NAME = "reviews"
GROUP = "reviews"
ENDPOINT = "reviews"
DESCRIPTION = "The course pipeline: prepare, train, evaluate, register"

#: The demo's BlazingText hyperparameters (``mlyard demo``), epochs a pipeline parameter.
BLAZINGTEXT_HYPERPARAMETERS: dict[str, Any] = {
    "mode": "supervised", "word_ngrams": 2, "learning_rate": 0.2, "vector_dim": 100,
    "min_count": 1, "early_stopping": False,
}
#: A short bert (MiniLM-L6) fine-tuning: 10 steps of 32 reviews, a minute or two on a CPU.
BERT_HYPERPARAMETERS: dict[str, Any] = {
    "max_train_samples": 320, "max_seq_length": 64, "train_batch_size": 32,
    "learning_rate": 1e-4,
}
DEFAULT_EPOCHS = {"blazingtext": 10, "bert": 1}
#: bert's few CPU steps cannot reach the course's 0.80 (the majority class alone is 0.77).
DEFAULT_MIN_ACCURACY = {"blazingtext": 0.80, "bert": 0.70}
#: Rows Prepare keeps (a stratified sample; 0 = all): bert evaluates 200 validation and 200
#: test reviews instead of 2,263 each.
PREPARE_MAX_ROWS = {"blazingtext": 0, "bert": 2000}

SAMPLE_REVIEWS = [
    "I love this dress, it fits perfectly and the fabric is beautiful.",
    "The sweater is okay, nothing special, a bit boxy on me.",
    "Terrible quality, it ripped after one wash and I am returning it.",
    "Runs small but the color is gorgeous; I would buy it again in a bigger size.",
    "Very disappointed, the material is cheap and see-through.",
]


def course_pipeline(data: str, *, algorithm: str = "blazingtext", epochs: int | None = None,
                    min_accuracy: float | None = None, workspace: Any = None) -> Pipeline:
    """The course pipeline as ``mlyard.pipelines`` objects (nothing is stored or run);
    ``epochs`` and ``min_accuracy`` are the defaults of parameters Epochs and MinAccuracy
    (None: the algorithm's)."""
    if algorithm not in DEFAULT_EPOCHS:
        raise ValueError(f"algorithm must be one of {sorted(DEFAULT_EPOCHS)}, got {algorithm!r}")
    input_data = ParameterString("InputData", default_value=data)
    n_epochs = ParameterInteger("Epochs", default_value=epochs or DEFAULT_EPOCHS[algorithm])
    threshold = ParameterFloat("MinAccuracy", default_value=(
        DEFAULT_MIN_ACCURACY[algorithm] if min_accuracy is None else min_accuracy))
    max_rows = PREPARE_MAX_ROWS[algorithm]

    prep = ProcessingStep(
        "Prepare",
        processor=mlyard.Processor(entry_point="prepare.py", source_dir=str(SCRIPTS),
                                   workspace=workspace),
        inputs=[ProcessingInput(name="raw", source=input_data)],
        outputs=[ProcessingOutput(name=n) for n in ("train", "validation", "test")],
        job_arguments=["--max-rows", str(max_rows)] if max_rows else None,
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"))
    outputs = prep.properties.ProcessingOutputConfig.Outputs
    hyperparameters = (BLAZINGTEXT_HYPERPARAMETERS if algorithm == "blazingtext"
                       else BERT_HYPERPARAMETERS)
    train = TrainingStep(
        "Train",
        estimator=mlyard.Estimator(algorithm, hyperparameters={**hyperparameters,
                                                               "epochs": n_epochs},
                                   workspace=workspace),
        inputs={"train": outputs["train"].S3Output.S3Uri,
                "validation": outputs["validation"].S3Output.S3Uri},
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"))
    evaluation = PropertyFile("Evaluation", output_name="metrics", path="evaluation.json")
    ev = ProcessingStep(
        "Evaluate",
        processor=mlyard.Processor(entry_point="evaluate.py", source_dir=str(SCRIPTS),
                                   workspace=workspace),
        inputs=[ProcessingInput(name="model",
                                source=train.properties.ModelArtifacts.S3ModelArtifacts),
                ProcessingInput(name="test", source=outputs["test"].S3Output.S3Uri)],
        outputs=[ProcessingOutput(name="metrics")],
        property_files=[evaluation],
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"))
    metrics_uri = ev.properties.ProcessingOutputConfig.Outputs["metrics"].S3Output.S3Uri
    register = RegisterModel(
        "Register",
        model=train,
        model_package_group_name=GROUP,
        approval_status="PendingManualApproval",
        description=f"course pipeline, {algorithm}",
        content_types=["application/json"], response_types=["application/json"],
        model_metrics=ModelMetrics(model_statistics=MetricsSource(
            content_type="application/json",
            s3_uri=Join(on="/", values=[metrics_uri, "evaluation.json"]))))
    create = ModelStep("CreateModel", model=train)
    cond = ConditionStep(
        "AccuracyOK",
        conditions=[ConditionGreaterThanOrEqualTo(
            JsonGet(ev, evaluation, "metrics.accuracy.value"), threshold)],
        if_steps=[register, create],
        else_steps=[FailStep("TooLow", error_message="accuracy below threshold")])
    return Pipeline(PIPELINE_NAME, parameters=[input_data, n_epochs, threshold],
                    steps=[prep, train, ev, cond], workspace=workspace)


def step_table(steps: list[dict[str, Any]]) -> str:
    """``execution.list_steps()`` as a table: step, status, cache hit, outcome/job, seconds."""
    rows = []
    for step in sorted(steps, key=lambda s: _seconds(s.get("StartTime") or 0)):
        meta = step.get("Metadata") or {}
        detail = ""
        for key in ("TrainingJob", "ProcessingJob", "RegisterModel", "Model"):
            if key in meta:
                detail = str(meta[key].get("Arn", ""))
        if "Condition" in meta:
            detail = f"outcome {meta['Condition'].get('Outcome')}"
        if "Fail" in meta:
            detail = str(meta["Fail"].get("ErrorMessage", ""))
        hit = step.get("CacheHitResult") or {}
        start, end = step.get("StartTime"), step.get("EndTime")
        took = f"{_seconds(end) - _seconds(start):.2f}" if start and end else ""
        rows.append((step["StepName"], step["StepStatus"],
                     hit.get("SourcePipelineExecutionArn", "") if hit else "", detail, took,
                     step.get("FailureReason") or ""))
    return table(["step", "status", "cache hit from", "job / outcome", "seconds", "failure"],
                 rows)


def _seconds(value: Any) -> float:
    """A timestamp of ``list_steps`` (epoch seconds, datetime or ISO text) in seconds."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        from datetime import datetime

        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return float(value.timestamp())


def run_course(*, data: str | Path | None = None, algorithm: str = "blazingtext",
               min_accuracy: float | None = None, epochs: int | None = None, approve: bool = True,
               deploy: bool = True, keep: bool = False,
               n_predictions: int = len(SAMPLE_REVIEWS), workspace: Any = None,
               echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Upsert and run the course pipeline, then approve, deploy and predict; returns a
    summary (execution, steps, registry version, predictions, seconds per phase)."""
    ws = workspace or default_workspace()
    if min_accuracy is None:
        min_accuracy = DEFAULT_MIN_ACCURACY.get(algorithm, 0.80)
    data_path = check_reviews_file(Path(data or reviews_csv_path()).expanduser().resolve())
    seconds: dict[str, float] = {}
    start = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        seconds[name] = round(now - t, 3)
        t = now

    pipe = course_pipeline(str(data_path), algorithm=algorithm, epochs=epochs,
                           min_accuracy=min_accuracy, workspace=ws)
    pipe.upsert(description=DESCRIPTION)
    execution = pipe.start()
    echo(f"pipeline {PIPELINE_NAME}: execution {execution.execution_id} started "
         f"({algorithm}, MinAccuracy {min_accuracy})")
    record = execution.wait(raise_on_failure=False)
    lap("pipeline")
    steps = execution.list_steps()
    echo(step_table(steps))
    summary: dict[str, Any] = {
        "execution_id": execution.execution_id, "status": record.status,
        "failure_reason": record.failure_reason, "algorithm": algorithm,
        "steps_run": [s["StepName"] for s in steps],
        "cache_hits": [s["StepName"] for s in steps if s.get("CacheHitResult")],
        "accuracy": None,
        "model_package": None, "approval_status": None, "endpoint": None, "predictions": [],
    }
    by_name = {s["StepName"]: s for s in steps}
    summary["accuracy"] = accuracy = test_accuracy(ws, execution.execution_id)
    shown = "n/a" if accuracy is None else f"{accuracy:.4f}"
    if record.status == "Succeeded" and "Register" in by_name:
        arn = by_name["Register"]["Metadata"]["RegisterModel"]["Arn"]
        summary["model_package"] = arn
        summary["approval_status"] = get_package(ws, arn).approval_status.value
        echo(f"registered {arn} (test accuracy {shown}), {summary['approval_status']}")
    else:
        echo(f"execution {record.status} (test accuracy {shown}, MinAccuracy "
             f"{min_accuracy}): {record.failure_reason or ''}")
    if summary["model_package"] and approve:
        package = ModelPackage(summary["model_package"], workspace=ws)
        package.approve(note=f"test accuracy {shown} >= MinAccuracy {min_accuracy}")
        summary["approval_status"] = "Approved"
        lap("approve")
        echo(f"approved {summary['model_package']}")
        if deploy:
            summary.update(_deploy_and_predict(ws, package, n_predictions, keep, echo, lap))
    seconds["total"] = round(time.perf_counter() - start, 3)
    summary["seconds"] = seconds
    return summary


def test_accuracy(ws: Any, execution_id: str) -> float | None:
    """The accuracy in the Evaluate step's ``evaluation.json`` (None if it did not run)."""
    try:
        step = PipelineStore.of(ws.store).get_step(execution_id, "Evaluate")
        uri = step.properties["ProcessingOutputConfig"]["Outputs"]["metrics"]["S3Output"]["S3Uri"]
        report = json.loads(ws.artifacts.read_bytes(uri.rstrip("/") + "/evaluation.json"))
    except (MlyardError, KeyError, OSError, ValueError):
        return None
    value = report.get("metrics", {}).get("accuracy", {}).get("value")
    return None if value is None else float(value)


def _deploy_and_predict(ws: Any, package: Any, n_predictions: int, keep: bool,
                        echo: Callable[[str], None],
                        lap: Callable[[str], None]) -> dict[str, Any]:
    started_server = running_server(ws.settings) is None
    existed = any(e.name == ENDPOINT for e in EndpointStore.of(ws.store).list_endpoints())
    predictor = package.deploy(ENDPOINT)
    lap("deploy")
    echo(f"deployed {package.ref} to endpoint {ENDPOINT}")
    predictions = []
    try:
        for i in range(n_predictions):
            text = SAMPLE_REVIEWS[i % len(SAMPLE_REVIEWS)]
            answer = predictor.predict([text])[0]
            predictions.append({"text": text, "label": answer["label"][0],
                                "prob": round(float(answer["prob"][0]), 4)})
        lap("predict")
        for p in predictions[:len(SAMPLE_REVIEWS)]:
            echo(f"  {p['label']:>2} ({p['prob']:.2f})  {p['text']}")
    finally:
        if not keep and not existed:  # an endpoint that was there before stays
            predictor.delete_endpoint()
            if started_server:
                stop_server(ws.settings)
            lap("cleanup")
            echo(f"deleted endpoint {ENDPOINT}" + (" and stopped the server it started"
                                                   if started_server else ""))
        else:
            predictor.close()
    return {"endpoint": ENDPOINT, "predictions": predictions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="The reviews CSV (default: MLYARD_REVIEWS_CSV or "
                        "../shared/data/womens_clothing_ecommerce_reviews.csv).")
    parser.add_argument("--algorithm", choices=sorted(DEFAULT_EPOCHS), default="blazingtext",
                        type=str.lower, help="Training algorithm (default blazingtext).")
    parser.add_argument("--min-accuracy", type=float, default=None,
                        help="The MinAccuracy parameter's default (0.80; 0.70 for bert's few "
                        "CPU steps).")
    parser.add_argument("--epochs", type=int, default=None,
                        help="Training epochs (default 10 for blazingtext, 1 for bert).")
    parser.add_argument("--no-approve", dest="approve", action="store_false",
                        help="Leave the new version PendingManualApproval (and do not deploy).")
    parser.add_argument("--no-deploy", dest="deploy", action="store_false",
                        help="Approve but do not deploy or predict.")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the endpoint (and the server) running afterwards.")
    parser.add_argument("--upsert-only", action="store_true",
                        help="Only store the pipeline (then: mlyard pipelines start reviews).")
    parser.add_argument("--summary", type=Path, default=None,
                        help="Also write the summary JSON to this file.")
    args = parser.parse_args(argv)
    try:
        if args.upsert_only:
            data = check_reviews_file(Path(args.data or reviews_csv_path()).expanduser()
                                      .resolve())
            course_pipeline(str(data), algorithm=args.algorithm, epochs=args.epochs,
                            min_accuracy=args.min_accuracy).upsert(description=DESCRIPTION)
            print(f"pipeline {PIPELINE_NAME} stored; run it with: mlyard pipelines start "
                  f"{PIPELINE_NAME} --wait")
            return 0
        summary = run_course(data=args.data, algorithm=args.algorithm,
                             min_accuracy=args.min_accuracy, epochs=args.epochs,
                             approve=args.approve, deploy=args.deploy, keep=args.keep)
    except JobFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except MlyardError as exc:  # a user error (bad data path, parameter): exit 2 as the CLI
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    return 0 if summary["status"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
