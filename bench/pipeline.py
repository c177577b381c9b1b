"""Bench: the course pipeline (``examples/pipeline_reviews.py``) end to end, cached, and
against the same jobs run back to back by hand.

Data: the public Kaggle dataset "Women's E-Commerce Clothing Reviews" (CC0), the course
transform and a stratified 80/10/10 split (seed 42) done by the pipeline's Prepare step;
BlazingText with the demo's hyperparameters (10 epochs).

Figures, each from a fresh workspace (``MLYARD_HOME`` in a temporary folder), repeated
``--repeats`` times (3) and reported as median and worst:

- ``end_to_end_s``: the course pipeline from a clean workspace through approval of the new
  registry version, deployment to an endpoint and ``--predictions`` (100) predictions, one
  request each, the endpoint deleted and the server stopped (the example's own code, in
  this process: from the pipeline's upsert to the server stopped). Target <= 60 s
  (SageMaker takes 15-30 minutes for the same pipeline).
- ``cached_rerun_s``: a second execution of the same pipeline with the same parameters,
  every cacheable step (Prepare, Train, Evaluate) a cache hit: from start to Succeeded.
  Target <= 2 s.
- ``hand_s``: the same jobs run back to back by hand in another fresh workspace
  (``Processor.run`` prepare, ``Estimator.fit``, ``Processor.run`` evaluate, register +
  approve + deploy + the same predictions + cleanup), and the pipeline's overhead per step
  ``(end_to_end_s - hand_s) / steps`` (steps = the steps the execution ran: Prepare, Train,
  Evaluate, AccuracyOK, Register, CreateModel). Target <= 100 ms. The same difference over
  the job part only (pipeline upsert+start+wait vs prepare+train+evaluate+register by hand)
  is reported as ``overhead_jobs_ms_per_step``; and, since the jobs' own run times (above
  all training) vary by seconds between runs on a busy 2-core machine, the same difference
  counting only the time outside the jobs' runs (job part wall time minus the seconds the
  Prepare, Train and Evaluate jobs ran, InProgress to end, as recorded: submission,
  process start, polling, the driver's own process, property resolution, caching, the
  inline steps) as ``overhead_outside_jobs_ms_per_step``. The order of the pipeline and hand runs
  alternates between repeats.

Every figure is wall time, so other work on the machine skews it: the 1-minute load average
before each run is recorded (``load_average_1m_before``; the table's header gives the
highest). Quote figures from a quiet machine.

Usage: ``python bench/pipeline.py [--data CSV] [--repeats 3] [--predictions 100] [--quick]
[--output bench/results/pipeline.json]``; a table for people, the last line one line of
JSON with the figures and the machine. ``--quick`` (CI size): a 3,000-row sample, 2
epochs, 20 predictions, one repeat (not figures to quote).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, reviews_data_present

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "pipeline_reviews.py"
SCRIPTS = REPO / "examples" / "pipeline"
TARGETS = {"end_to_end_s": 60.0, "cached_rerun_s": 2.0, "overhead_ms_per_step": 100.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_example() -> Any:
    """``examples/pipeline_reviews.py`` as a module (the bench runs the example's code)."""
    spec = importlib.util.spec_from_file_location("pipeline_reviews", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pipeline_reviews"] = module
    spec.loader.exec_module(module)
    return module


def fresh_workspace(root: Path, name: str) -> Any:
    """A new workspace under ``root/name``, exported as ``MLYARD_HOME`` (job processes and
    the server read it) and made the SDK default."""
    from mlyard.config import Settings
    from mlyard.core.workspace import Workspace, set_default_workspace

    os.environ["MLYARD_HOME"] = str(root / name)
    for var in ("MLYARD_DB_URL", "MLYARD_ARTIFACT_ROOT", "MLYARD_EXECUTOR"):
        os.environ.pop(var, None)
    ws = Workspace(Settings.from_env())
    set_default_workspace(ws)
    return ws


def job_seconds(ws: Any, names: list[str]) -> float:
    """Seconds the jobs ``names`` ran (each from InProgress to its end, as recorded)."""
    total = 0.0
    for name in names:
        record = ws.store.get_job(name)
        total += (record.ended_at or 0.0) - (record.started_at or 0.0)
    return total


def predict_reviews(example: Any, n: int) -> list[str]:
    reviews = example.SAMPLE_REVIEWS
    return [reviews[i % len(reviews)] for i in range(n)]


def hand_run(ws: Any, example: Any, data: Path, epochs: int, n_predictions: int) -> dict[str, Any]:
    """The pipeline's jobs by hand, back to back; seconds per phase."""
    import mlyard
    from mlyard.registry.service import register_model_version
    from mlyard.sdk.registry import ModelPackage
    from mlyard.server.run import running_server, stop_server

    phases: dict[str, float] = {}
    start = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        phases[name] = round(now - t, 3)
        t = now

    prep = mlyard.Processor(entry_point="prepare.py", source_dir=str(SCRIPTS),
                            workspace=ws).run(
        inputs={"raw": str(data)}, outputs=["train", "validation", "test"])
    lap("prepare")
    est = mlyard.Estimator("blazingtext", workspace=ws, hyperparameters={
        **example.BLAZINGTEXT_HYPERPARAMETERS, "epochs": epochs})
    job = est.fit({"train": prep.outputs["train"], "validation": prep.outputs["validation"]},
                  progress=False)
    lap("train")
    model = mlyard.Model(job.model_name, workspace=ws)
    ev = mlyard.Processor(entry_point="evaluate.py", source_dir=str(SCRIPTS), workspace=ws).run(
        inputs={"model": model.record.uri, "test": prep.outputs["test"]}, outputs=["metrics"])
    lap("evaluate")
    metrics_uri = ev.outputs["metrics"].rstrip("/") + "/evaluation.json"
    accuracy = json.loads(ws.artifacts.read_bytes(metrics_uri))["metrics"]["accuracy"]["value"]
    record = register_model_version(
        ws, example.GROUP, model_name=job.model_name, approval_status="PendingManualApproval",
        model_metrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                       "S3Uri": metrics_uri}}})
    jobs_s = time.perf_counter() - start
    lap("register")
    in_jobs = job_seconds(ws, [prep.name, job.name, ev.name])
    package = ModelPackage(record.arn, workspace=ws)
    package.approve(note="bench: by hand")
    lap("approve")
    started_server = running_server(ws.settings) is None
    predictor = package.deploy(example.ENDPOINT)
    lap("deploy")
    answers = [predictor.predict([text]) for text in predict_reviews(example, n_predictions)]
    lap("predict")
    predictor.delete_endpoint()
    if started_server:
        stop_server(ws.settings)
    lap("cleanup")
    return {"seconds": round(time.perf_counter() - start, 3), "jobs_seconds": round(jobs_s, 3),
            "in_jobs_seconds": round(in_jobs, 3), "phases": phases, "accuracy": accuracy,
            "predictions": len(answers)}


def pipeline_run(ws: Any, example: Any, data: Path, epochs: int, n_predictions: int,
                 min_accuracy: float) -> dict[str, Any]:
    """The example from a clean workspace through deployment and predictions, then a
    re-run with every cacheable step cached."""
    summary = example.run_course(data=data, epochs=epochs, workspace=ws,
                                 min_accuracy=min_accuracy,
                                 n_predictions=n_predictions, echo=lambda _: None)
    if summary["status"] != "Succeeded":
        raise RuntimeError(f"pipeline execution {summary['execution_id']} "
                           f"{summary['status']}: {summary.get('failure_reason')}")
    from mlyard.pipelines.store import PipelineStore

    step_jobs = [s.job_name for s in PipelineStore.of(ws.store).list_steps(
        summary["execution_id"]) if s.job_name and s.step_type in ("Processing", "Training")]
    in_jobs = job_seconds(ws, step_jobs)
    t = time.perf_counter()
    pipe = example.course_pipeline(str(data.resolve()), epochs=epochs,
                                   min_accuracy=min_accuracy, workspace=ws)
    rerun = pipe.start()
    rerun.wait()
    cached_s = time.perf_counter() - t
    steps = rerun.list_steps()
    hits = [s["StepName"] for s in steps if s.get("CacheHitResult")]
    return {"seconds": summary["seconds"]["total"],
            "jobs_seconds": summary["seconds"]["pipeline"], "in_jobs_seconds": round(in_jobs, 3),
            "phases": summary["seconds"],
            "steps": summary["steps_run"], "accuracy": summary["accuracy"],
            "predictions": len(summary["predictions"]), "cached_rerun_s": round(cached_s, 3),
            "cache_hits": hits}


def med_worst(values: list[float], worst: Any = max) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "worst": round(worst(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="The reviews CSV (default: the reviews CSV setting).")
    parser.add_argument("--repeats", type=int, default=None, help="Repeats (default 3).")
    parser.add_argument("--predictions", type=int, default=None,
                        help="Predictions sent to the endpoint (default 100).")
    parser.add_argument("--epochs", type=int, default=None,
                        help="BlazingText epochs (default 10, the demo's).")
    parser.add_argument("--quick", action="store_true",
                        help="A 3,000-row sample, 2 epochs, 20 predictions, one repeat.")
    parser.add_argument("--output", type=Path, default=None,
                        help="Also write the JSON figures to this file "
                        "(e.g. bench/results/pipeline.json).")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "src"))
    from mlyard.datasets.reviews import load_raw, reviews_csv_path

    data = (args.data or reviews_csv_path()).expanduser()
    if not data.is_absolute():
        data = (REPO / data).resolve()
    if not reviews_data_present(data):
        return 2
    repeats = args.repeats or (1 if args.quick else 3)
    n_predictions = args.predictions or (20 if args.quick else 100)
    epochs = args.epochs or (2 if args.quick else 10)
    min_accuracy = 0.5 if args.quick else 0.8  # a 2-epoch model on a sample: the flow only
    example = load_example()
    result: dict[str, Any] = {
        "bench": "pipeline", "machine": machine(), "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"repeats": repeats, "predictions": n_predictions, "epochs": epochs,
                     "algorithm": "blazingtext",
                     "min_accuracy": min_accuracy}, "targets": TARGETS, "runs": []}
    with tempfile.TemporaryDirectory(prefix="mlyard-bench-pipeline-") as tmp:
        root = Path(tmp)
        if args.quick:
            sample = root / "reviews-sample.csv"
            load_raw(data).sample(n=3000, random_state=0).to_csv(sample)
            data = sample
        result["settings"]["data"] = str(data if not args.quick else "3,000-row sample")
        for i in range(repeats):
            order = ("pipeline", "hand") if i % 2 == 0 else ("hand", "pipeline")
            run: dict[str, Any] = {}
            for what in order:
                ws = fresh_workspace(root, f"{what}-{i}")
                log(f"repeat {i + 1}/{repeats}: {what} (load average {os.getloadavg()[0]:.1f})")
                run.setdefault("load_average_1m_before", {})[what] = round(os.getloadavg()[0], 2)
                if what == "pipeline":
                    run["pipeline"] = pipeline_run(ws, example, data, epochs, n_predictions,
                                                   min_accuracy)
                else:
                    run["hand"] = hand_run(ws, example, data, epochs, n_predictions)
                ws.close()
            steps = len(run["pipeline"]["steps"])
            run["overhead_ms_per_step"] = round(
                1000 * (run["pipeline"]["seconds"] - run["hand"]["seconds"]) / steps, 1)
            run["overhead_jobs_ms_per_step"] = round(
                1000 * (run["pipeline"]["jobs_seconds"] - run["hand"]["jobs_seconds"]) / steps,
                1)
            log(f"  end to end {run['pipeline']['seconds']:.1f} s, cached re-run "
                f"{run['pipeline']['cached_rerun_s']:.2f} s, by hand "
                f"{run['hand']['seconds']:.1f} s, overhead "
                f"{run['overhead_ms_per_step']:.0f} ms/step")
            run["overhead_outside_jobs_ms_per_step"] = round(1000 * (
                (run["pipeline"]["jobs_seconds"] - run["pipeline"]["in_jobs_seconds"])
                - (run["hand"]["jobs_seconds"] - run["hand"]["in_jobs_seconds"])) / steps, 1)
            result["runs"].append(run)
    runs = result["runs"]
    loads = [v for r in runs for v in r["load_average_1m_before"].values()]
    figures = {
        "end_to_end_s": med_worst([r["pipeline"]["seconds"] for r in runs]),
        "cached_rerun_s": med_worst([r["pipeline"]["cached_rerun_s"] for r in runs]),
        "hand_s": med_worst([r["hand"]["seconds"] for r in runs]),
        "overhead_ms_per_step": med_worst([r["overhead_ms_per_step"] for r in runs]),
        "overhead_jobs_ms_per_step": med_worst([r["overhead_jobs_ms_per_step"] for r in runs]),
        "overhead_outside_jobs_ms_per_step": med_worst(
            [r["overhead_outside_jobs_ms_per_step"] for r in runs]),
        "steps": len(runs[0]["pipeline"]["steps"]),
        "max_load_average_1m": max(loads),
        "accuracy": med_worst([r["pipeline"]["accuracy"] for r in runs], worst=min),
    }
    result["figures"] = figures
    rows = [
        ("end to end (clean -> 100 predictions)", "end_to_end_s", "s"),
        ("re-run, every step cached", "cached_rerun_s", "s"),
        ("same jobs by hand", "hand_s", "s"),
        ("pipeline overhead per step", "overhead_ms_per_step", "ms"),
        ("  same, job part only", "overhead_jobs_ms_per_step", "ms"),
        ("  same, time outside the jobs' runs", "overhead_outside_jobs_ms_per_step", "ms"),
        ("test accuracy", "accuracy", ""),
    ]
    table = [["figure", "median", "worst", "target"]]
    for label, key, unit in rows:
        target = TARGETS.get(key)
        table.append([label, f"{figures[key]['median']:g} {unit}".strip(),
                      f"{figures[key]['worst']:g} {unit}".strip(),
                      f"<= {target:g} {unit}" if target is not None else ""])
    widths = [max(len(r[c]) for r in table) for c in range(4)]
    print(f"course pipeline, BlazingText {epochs} epochs, {repeats} repeat(s), "
          f"{n_predictions} predictions, {figures['steps']} steps, load average <= "
          f"{figures['max_load_average_1m']:.1f} before each run on {os.cpu_count()} CPUs")
    for k, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
