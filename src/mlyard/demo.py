"""The reviews demo: the course's first slice end to end on the real data.

Registers the raw CSV as a table, reproduces the course's SQL counts, applies the course
transform (as a SQL ``CREATE TABLE AS``), makes a stratified train/validation/test split,
trains BlazingText as a job, evaluates it on test, batch-transforms test, prints a summary
and writes ``demo-summary.json`` into the workspace.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from mlyard.cli.output import fmt, table
from mlyard.core.jobs import wait_for_job
from mlyard.core.workspace import Workspace
from mlyard.data.catalog import Catalog
from mlyard.datasets.reviews import (
    TRANSFORM_SQL,
    check_reviews_file,
    reviews_csv_path,
    stratified_split,
)
from mlyard.errors import DataError
from mlyard.sdk.estimator import Estimator
from mlyard.sdk.model import Model

EXPECTED_ROWS = 22_626
EXPECTED_SENTIMENT = {-1: 2_370, 0: 2_823, 1: 17_433}
DEMO_HYPERPARAMETERS: dict[str, Any] = {
    "mode": "supervised", "word_ngrams": 2, "learning_rate": 0.2, "vector_dim": 100,
    "min_count": 1, "early_stopping": False,
}


def _write_split(frame: pd.DataFrame, path: Path) -> Path:
    frame.rename(columns={"sentiment": "label", "review_body": "text"})[["label", "text"]]\
        .to_csv(path, index=False)
    return path


def _wait_with_progress(ws: Workspace, job_name: str, epochs: int) -> None:
    with tqdm(total=epochs, desc="training BlazingText", unit="epoch", leave=True) as bar:
        def on_log(line: str) -> None:
            done = len(ws.store.get_metrics(job_name, "train:accuracy"))
            if done > bar.n:
                bar.update(min(done, epochs) - bar.n)

        wait_for_job(ws, job_name, on_log=on_log)
        bar.update(epochs - bar.n)


def run_ab_test(ws: Workspace, model_a: str, model_b: str, test_csv: Path, stamp: str,
                echo: Callable[[str], None], n_requests: int = 600) -> dict[str, Any]:
    """Deploy two models as a 50/50 A/B endpoint with data capture, send test reviews one
    request each, report per-variant accuracy with a significance test, shift all traffic
    to the winner (or the leader when no difference is significant) and clean up."""
    from mlyard.sdk.endpoints import create_endpoint, production_variant
    from mlyard.server.run import running_server, stop_server

    started_server = running_server(ws.settings) is None
    name = f"demo-ab-{stamp}"
    predictor = create_endpoint(
        name, [production_variant(model_a, "A", initial_weight=50),
               production_variant(model_b, "B", initial_weight=50)],
        data_capture={"enabled": True, "sampling_percentage": 100}, workspace=ws)
    try:
        test = pd.read_csv(test_csv).head(n_requests)
        truth: dict[str, str] = {}
        for label, text in tqdm(zip(test["label"], test["text"], strict=True), total=len(test),
                                desc="A/B traffic", unit="req"):
            predictor.predict([str(text)])
            truth[str(predictor.last_event_id)] = str(label)
        time.sleep(1.5)  # let data capture flush
        report = predictor.ab_report(truth)
        rec = report["recommendation"]
        choice = rec["winner"] or rec["leader"]
        predictor.update_weights_and_capacities([
            {"VariantName": v, "DesiredWeight": 100.0 if v == choice else 0.0}
            for v in ("A", "B")])
        accuracy = {v["variant"]: v["accuracy"] for v in report["variants"]}
        echo(f"A/B test on endpoint {name}: accuracy A={fmt(accuracy.get('A'))} "
             f"B={fmt(accuracy.get('B'))}; {rec['message']}")
        echo(f"all traffic shifted to variant {choice}")
        return {"ab_endpoint": name, "ab_accuracy": accuracy, "ab_winner": rec["winner"],
                "ab_traffic_to": choice, "ab_requests": len(truth)}
    finally:
        predictor.delete_endpoint()
        if started_server:
            stop_server(ws.settings)


def run_demo(ws: Workspace, *, data: Path | None = None, epochs: int = 10,
             output: Path | None = None, echo: Callable[[str], None] = print,
             ab: bool = False) -> dict[str, Any]:
    """Run the demo in workspace ``ws``; returns (and writes) the summary. With ``ab`` it
    also trains a unigram model and A/B-tests both on a real-time endpoint."""
    started = time.time()
    data_path = check_reviews_file((data or reviews_csv_path()).expanduser().resolve())
    out = (output or ws.settings.home / "demo").resolve()
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    catalog = Catalog(ws)

    echo(f"1/6 registering {data_path} as table reviews_raw")
    catalog.register_table("reviews_raw", data_path, format="csv", replace=True,
                           description="Women's E-Commerce Clothing Reviews, raw")
    raw_rows = int(catalog.sql("SELECT COUNT(*) AS n FROM reviews_raw").frame["n"][0])

    echo("2/6 course transform: CREATE TABLE reviews AS (SQL)")
    catalog.create_table_as("reviews", TRANSFORM_SQL.format(raw="reviews_raw"), replace=True)
    counts = catalog.sql(
        "SELECT sentiment, COUNT(*) AS n FROM reviews GROUP BY sentiment ORDER BY sentiment")
    echo(table(["sentiment", "count"], counts.frame.itertuples(index=False)))
    by_sentiment = {int(k): int(v) for k, v in zip(counts.frame["sentiment"], counts.frame["n"],
                                                   strict=True)}
    n_rows = sum(by_sentiment.values())
    if n_rows != EXPECTED_ROWS or by_sentiment != EXPECTED_SENTIMENT:
        echo(f"warning: expected the course's {EXPECTED_ROWS} rows {EXPECTED_SENTIMENT}, got "
             f"{n_rows} {by_sentiment} (is {data_path} the original dataset?)")

    echo("3/6 stratified split 80/10/10 by sentiment")
    frame = catalog.sql("SELECT sentiment, review_body FROM reviews "
                        "ORDER BY review_body, sentiment").frame
    if frame.empty:
        raise DataError(f"no rows left after the course transform of {data_path}")
    train_df, val_df, test_df = stratified_split(frame, "sentiment", (0.8, 0.1, 0.1), seed=42)
    train_csv = _write_split(train_df, out / "train.csv")
    val_csv = _write_split(val_df, out / "validation.csv")
    test_csv = _write_split(test_df, out / "test.csv")

    echo(f"4/6 training BlazingText ({epochs} epochs) as a job")
    job_name = f"demo-bt-{stamp}"
    est = Estimator("blazingtext", hyperparameters={**DEMO_HYPERPARAMETERS, "epochs": epochs},
                    workspace=ws)
    est.fit({"train": train_csv, "validation": val_csv}, job_name=job_name, wait=False)
    _wait_with_progress(ws, job_name, epochs)
    record = ws.store.get_job(job_name)
    summary_uri = record.outputs["output"].rstrip("/") + "/data/training_summary.json"
    training = json.loads(ws.artifacts.read_bytes(summary_uri))

    echo("5/6 evaluating on the test split")
    model = Model(job_name, workspace=ws)
    evaluation = model.evaluate(test_csv, label_column="label", text_column="text",
                                output_dir=out / "evaluation")
    metrics = evaluation.to_evaluation_json()["metrics"]

    echo("6/6 batch transform of the test split")
    transform_job = model.transformer(out / "predictions.jsonl", workers=1,
                                      text_field="text").transform(
        test_csv, job_name=f"demo-tr-{stamp}")
    with open(out / "predictions.jsonl", encoding="utf-8") as fh:
        n_predictions = sum(1 for _ in fh)

    summary: dict[str, Any] = {
        "data": str(data_path),
        "raw_rows": raw_rows,
        "transformed_rows": n_rows,
        "sentiment_counts": {str(k): v for k, v in by_sentiment.items()},
        "n_train": len(train_df), "n_validation": len(val_df), "n_test": len(test_df),
        "training_job": job_name,
        "transform_job": transform_job.name,
        "accuracy": metrics["accuracy"]["value"],
        "macro_f1": metrics["f1_macro"]["value"],
        "weighted_f1": metrics["f1_weighted"]["value"],
        "train_seconds": training.get("train_seconds"),
        "train_words_per_second": training.get("train_words_per_second"),
        "epochs_run": training.get("epochs_run"),
        "n_predictions": n_predictions,
        "evaluation_report": str(out / "evaluation" / "report.html"),
        "predictions": str(out / "predictions.jsonl"),
    }
    if ab:
        echo("A/B test: the unigram vs the bigram model on a real-time endpoint")
        job_b = f"demo-bt1-{stamp}"
        Estimator("blazingtext", workspace=ws, hyperparameters={
            **DEMO_HYPERPARAMETERS, "epochs": epochs, "word_ngrams": 1,
        }).fit({"train": train_csv, "validation": val_csv}, job_name=job_b)
        summary.update(run_ab_test(ws, job_name, job_b, test_csv, stamp, echo))
    summary["demo_seconds"] = round(time.time() - started, 2)
    path = ws.settings.home / "demo-summary.json"
    path.write_text(json.dumps(summary, indent=2))
    echo("\n" + table(["figure", "value"], [(k, fmt(v)) for k, v in summary.items()
                                            if not isinstance(v, dict)]))
    echo(f"\nsummary written to {path}")
    return summary
