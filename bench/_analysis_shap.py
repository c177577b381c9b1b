"""Bench part: SHAP text explanations of a BlazingText model, mlyard vs shap's default.

A BlazingText sentiment model is trained in-process on the course's reviews (22,626 rows,
3 classes; a few seconds; one thread, so the model and the figures repeat run to run:
Hogwild on two threads gives a slightly different model each time), then 1,000 reviews
(a seeded sample) are explained at token level with 500 model evaluations per review on
both sides:

* **mlyard**: :func:`mlyard.analysis.explain.explain_texts` (shap's Partition explainer with
  batched, de-duplicated model calls, a faster masker and dense cluster masks; masked tokens
  dropped as Clarify does);
* **shap default, called naively**: ``shap.Explainer(f, shap.maskers.Text(r"\\W+"))`` with
  its default settings (Partition explainer, ``max_evals`` 500, masked tokens replaced by
  ``...``) and an ``f`` that predicts each masked string by itself.

The naive path is timed on a seeded subset (it is several times slower); mlyard is timed on
that same subset too (the records/s ratio compares the same reviews; median and worst of 3
repeats of both) and on all 1,000 (once: it takes minutes on 2 busy cores).
Agreement: for each review of the subset, the top-3 tokens by |SHAP| for the predicted label
on both sides: the mean overlap fraction (|A ∩ B| / 3) and the share of reviews with
identical top-3 sets. It is reported twice: mlyard as configured by default (masked tokens
dropped) and mlyard with the naive side's ``...`` mask (the same masking, so differences
come from the order in which the 500-evaluation budget is spent). numba compiles shap's
helpers in a warm-up first (not timed, reported).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

RECORDS = 1000
NAIVE_RECORDS = 50
MAX_EVALS = 500
SEED = 0
_WORD = re.compile(r"\W+$")


def _train_model(frame: Any, folder: Path) -> Any:
    from mlyard.algorithms.base import TrainingContext
    from mlyard.algorithms.blazingtext import BlazingText, load_model

    train = frame.rename(columns={"sentiment": "label", "review_body": "text"})
    train[["label", "text"]].to_csv(folder / "train.csv", index=False)
    ctx = TrainingContext(channels={"train": folder / "train.csv"},
                          model_dir=folder / "model", output_dir=folder / "out",
                          log=lambda _m: None)
    algo = BlazingText()
    algo.train(ctx, algo.resolve_hyperparameters(
        {"epochs": 5, "word_ngrams": 2, "learning_rate": 0.5, "min_count": 1, "threads": 1,
         "backend": "cpu", "seed": 1}))
    return load_model(ctx.model_dir)


def _key(token: str) -> str:
    return _WORD.sub("", token.strip()).lower()


def _top3_mlyard(exp: Any) -> list[set[str]]:
    out = []
    for rec in exp.records:
        k = int(np.argmax(rec.prediction))
        order = np.argsort(-np.abs(rec.values[:, k]), kind="stable")[:3]
        out.append({_key(rec.units[i]) for i in order})
    return out


def _top3_naive(ev: Any, predictions: np.ndarray) -> list[set[str]]:
    out = []
    for i in range(len(ev)):
        k = int(np.argmax(predictions[i]))
        values = np.asarray(ev[i].values)[:, k]
        names = [_key(str(t)) for t in ev[i].data]
        order = [j for j in np.argsort(-np.abs(values), kind="stable") if names[j]][:3]
        out.append({names[j] for j in order})
    return out


def _agreement(a: list[set[str]], b: list[set[str]]) -> dict[str, float]:
    overlap = [len(x & y) / max(1, min(3, len(x), len(y))) for x, y in zip(a, b, strict=True)]
    same = [x == y for x, y in zip(a, b, strict=True)]
    return {"mean_top3_overlap": float(np.mean(overlap)), "identical_top3_share":
            float(np.mean(same))}


def _naive(model: Any, texts: list[str]) -> tuple[Any, int]:
    from mlyard.analysis.explain._shap import import_shap

    shap = import_shap()
    calls = 0

    def f(masked: Any) -> np.ndarray:
        nonlocal calls
        rows = []
        for s in masked:
            calls += 1
            rows.append(model.predict_proba([str(s)])[0])
        return np.array(rows)

    explainer = shap.Explainer(f, shap.maskers.Text(r"\W+"))
    np.random.seed(SEED)
    return explainer(texts, silent=True), calls


def run(quick: bool = False) -> dict[str, Any]:
    """Train, explain, time and compare (see the module doc); JSON-ready figures."""
    from mlyard.analysis.explain import explain_texts
    from mlyard.datasets.reviews import course_transform, load_raw, reviews_csv_path

    n_records = 100 if quick else RECORDS
    n_naive = 20 if quick else NAIVE_RECORDS
    repeats = 1 if quick else 3
    frame = course_transform(load_raw(reviews_csv_path()))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        model = _train_model(frame, Path(tmp))
        train_seconds = time.perf_counter() - started
    sample = frame.sample(n=n_records, random_state=SEED)
    texts = [str(t) for t in sample["review_body"]]
    subset = texts[:n_naive]  # the sample is already random: its first rows are a subset
    warm = time.perf_counter()
    explain_texts(texts[:3], model, max_evals=MAX_EVALS)
    _naive(model, texts[:2])
    warm_seconds = time.perf_counter() - warm

    sub_times, naive_times = [], []
    exp_sub = ev = None
    naive_calls = 0
    t = time.perf_counter()
    exp_full = explain_texts(texts, model, max_evals=MAX_EVALS, seed=SEED)
    full_times = [time.perf_counter() - t]
    for _ in range(repeats):
        t = time.perf_counter()
        exp_sub = explain_texts(subset, model, max_evals=MAX_EVALS, seed=SEED)
        sub_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        ev, naive_calls = _naive(model, subset)
        naive_times.append(time.perf_counter() - t)
    assert exp_sub is not None and ev is not None
    same_mask = explain_texts(subset, model, max_evals=MAX_EVALS, seed=SEED, mask_text="...")
    predictions = model.predict_proba(subset)
    naive_top = _top3_naive(ev, predictions)

    def rate(n: int, seconds: list[float]) -> dict[str, float]:
        return {"median": n / statistics.median(seconds), "worst": n / max(seconds)}

    mly_sub = rate(len(subset), sub_times)
    naive = rate(len(subset), naive_times)
    return {
        "records": n_records, "naive_records": len(subset), "max_evals": MAX_EVALS,
        "repeats": repeats, "train_seconds": round(train_seconds, 2),
        "warmup_seconds": round(warm_seconds, 2),
        "mlyard_records_per_s": rate(n_records, full_times),
        "mlyard_subset_records_per_s": mly_sub,
        "naive_records_per_s": naive,
        "ratio_median": mly_sub["median"] / naive["median"],
        "ratio_worst": mly_sub["worst"] / naive["worst"],
        "mlyard_model_calls_per_record": exp_full.model_calls / n_records,
        "mlyard_rows_per_call": exp_full.model_rows / max(1, exp_full.model_calls),
        "mlyard_dedup_saved": 1 - exp_full.model_rows / max(1, exp_full.inputs_requested),
        "naive_model_calls_per_record": naive_calls / len(subset),
        "agreement_default": _agreement(_top3_mlyard(exp_sub), naive_top),
        "agreement_same_mask": _agreement(_top3_mlyard(same_mask), naive_top),
        "top_tokens_negative": [u for u, *_ in exp_full.top_tokens(
            exp_full.outputs.index("-1"), 10)] if "-1" in exp_full.outputs else [],
    }


def rows(figures: dict[str, Any]) -> list[list[str]]:
    """Table rows: measure, mlyard, peer, ratio, note."""
    f = figures
    agree, same = f["agreement_default"], f["agreement_same_mask"]
    note = f"{f['naive_records']} seeded reviews, max_evals {f['max_evals']}, " \
           f"median (worst) of {f['repeats']}"
    return [
        ["SHAP text: records/s (same reviews)",
         f"{f['mlyard_subset_records_per_s']['median']:.1f} "
         f"({f['mlyard_subset_records_per_s']['worst']:.1f})",
         f"{f['naive_records_per_s']['median']:.1f} ({f['naive_records_per_s']['worst']:.1f})",
         f"{f['ratio_median']:.1f}x ({f['ratio_worst']:.1f}x)", note],
        ["SHAP text: records/s, 1,000 reviews" if f["records"] == 1000 else
         f"SHAP text: records/s, {f['records']} reviews",
         f"{f['mlyard_records_per_s']['median']:.1f}", "", "",
         "mlyard only, one run (the naive path would take minutes)"],
        ["SHAP text: model calls/record",
         f"{f['mlyard_model_calls_per_record']:.1f}",
         f"{f['naive_model_calls_per_record']:.0f}", "",
         f"mlyard {f['mlyard_rows_per_call']:.0f} strings/call, de-dup saves "
         f"{100 * f['mlyard_dedup_saved']:.1f}%"],
        ["SHAP text: top-3 agreement (default)", f"{agree['mean_top3_overlap']:.3f}", "", "",
         f"identical sets {100 * agree['identical_top3_share']:.0f}%; mlyard drops masked "
         "tokens (Clarify), shap writes '...'"],
        ["SHAP text: top-3 agreement (same mask)", f"{same['mean_top3_overlap']:.3f}", "", "",
         f"identical sets {100 * same['identical_top3_share']:.0f}%; both '...'"],
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import machine

    from mlyard.reports.tables import text_table

    figures = run(quick="--quick" in sys.argv)
    print(text_table(["measure", "mlyard", "peer", "ratio", "note"], rows(figures)))
    print(json.dumps({"bench": "analysis_shap", "machine": machine(), **figures}))
