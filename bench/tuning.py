"""Bench: mlyard tuning jobs (Random, Bayesian, Hyperband) vs plain Optuna in-process.

Data: the public Kaggle dataset "Women's E-Commerce Clothing Reviews" (CC0) with the course's
transform (3-class sentiment, 22,626 rows), a stratified 80/10/10 split (seed 42). Every
strategy tunes BlazingText's ``learning_rate`` (0.05..1.0, log), ``epochs`` (1..20),
``word_ngrams`` (1..3) and ``vector_dim`` ({50, 100, 200}) with ``--trials`` (30) trials,
``--parallel`` (2) at a time, one thread per trial, the same seed, maximizing
``validation:macro_f1`` (the validation split). Hyperband uses epochs as its resource
(rungs at 1, 3, 9 epochs of 20, reduction factor 3) and stops poor trials there.

Figures per strategy: best validation macro-F1; total trial-seconds (sum of each trial's
training job run time, from its start to its end); trial-seconds spent until a trial came
within 0.5 points (0.005) of Random's best, counted in order of trial end; and the tuner
overhead per trial: the time between a trial ending and the next trial starting in the slot
it freed (trial N+parallel's start minus trial N's end, both as recorded by the jobs: the
driver noticing the end, asking Optuna, validating and storing the next job, and the next
job's process claiming it). Peer: plain Optuna (TPE, same seed) calling the same BlazingText
training in-process, sequentially; its overhead per trial is wall time minus the sum of the
objective calls, over trials.

Targets (issue 5): Hyperband reaches Random's best with <= 1/3 of Random's trial-seconds;
tuner overhead <= 50 ms per trial.

Every figure holds for more than one seed: the bench runs each seed of ``--seeds`` (7, 11
and 13 by default; each seed drives the samplers, the training and the peer) and reports the
median and the worst over the seeds (the worst of "to reach" is "never" if one seed never
reached Random's best).

Usage: ``python bench/tuning.py [--data CSV] [--trials 30] [--parallel 2] [--seeds 7,11,13]
[--skip-optuna] [--save]``; the last line is one line of JSON (``--save`` also writes
``bench/results/tuning.json``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, reviews_data_present

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv"
RESULTS = REPO / "bench" / "results" / "tuning.json"
OBJECTIVE = "validation:macro_f1"
RANGES = ["learning_rate=0.05:1.0:log", "epochs=1:20", "word_ngrams=1:3",
          "vector_dim=[50,100,200]"]
STATIC = {"threads": 1, "min_count": 2, "buckets": 2_000_000}
WITHIN = 0.005
STRATEGIES = ("Random", "Bayesian", "Hyperband")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_splits(data: Path, work: Path) -> dict[str, Path]:
    from mlyard.datasets.reviews import course_transform, load_raw, stratified_split

    frame = course_transform(load_raw(data))
    parts = stratified_split(frame, "sentiment", (0.8, 0.1, 0.1), seed=42)
    out = {}
    for name, part in zip(("train", "validation", "test"), parts, strict=True):
        path = work / f"{name}.csv"
        part.assign(label=part["sentiment"].astype(str), text=part["review_body"])[
            ["label", "text"]].to_csv(path, index=False)
        out[name] = path
    return out


def trial_figures(ws: Any, name: str, parallel: int, target: float | None) -> dict[str, Any]:
    """Best objective, trial-seconds, seconds to reach ``target`` and overheads of a
    finished tuning job."""
    from mlyard.tuning.store import TrialStore

    trials = TrialStore.of(ws.store).list_trials(name)
    jobs = [ws.store.get_job(t.training_job) for t in trials]
    spans = [(j.started_at, j.ended_at) for j in jobs if j.started_at and j.ended_at]
    seconds = sum(end - start for start, end in spans)
    done = sorted(((j.ended_at, j.ended_at - j.started_at, t.objective)
                   for t, j in zip(trials, jobs, strict=True)
                   if j.started_at and j.ended_at), key=lambda x: x[0])
    objectives = [t.objective for t in trials if t.objective is not None]
    reach = None
    if target is not None:
        spent = 0.0
        for _, took, objective in done:
            spent += took
            if objective is not None and objective >= target - WITHIN:
                reach = spent
                break
    starts = sorted(s for s, _ in spans)
    ends = sorted(e for _, e in spans)
    overheads = [starts[i] - ends[i - parallel] for i in range(parallel, len(starts))]
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.status.value] = counts.get(t.status.value, 0) + 1
    early = sum(1 for t in trials if (t.stop_reason or "").startswith("early stopping"))
    return {"trials": len(trials), "counts": counts, "early_stopped": early,
            "best": max(objectives) if objectives else None,
            "trial_seconds": seconds, "seconds_to_reach": reach,
            "overhead_ms_median": 1000 * statistics.median(overheads) if overheads else None,
            "overhead_ms_mean": 1000 * statistics.fmean(overheads) if overheads else None,
            "overhead_ms_p90": 1000 * sorted(overheads)[math.ceil(0.9 * len(overheads)) - 1]
            if overheads else None}


def run_mlyard(strategy: str, splits: dict[str, Path], args: argparse.Namespace,
               home: Path) -> tuple[Any, str, float]:
    from mlyard.config import Settings
    from mlyard.core.jobs import submit_job, wait_for_job
    from mlyard.core.specs import Channel, ResourceConfig
    from mlyard.core.workspace import Workspace
    from mlyard.training.spec import TrainingJobSpec
    from mlyard.tuning.ranges import parse_range
    from mlyard.tuning.spec import TuningJobSpec, TuningObjective

    os.environ["MLYARD_HOME"] = str(home)
    ws = Workspace(Settings.from_env())
    spec = TuningJobSpec(
        training=TrainingJobSpec(
            algorithm="blazingtext", hyperparameters=STATIC,
            channels=[Channel(name=k, uri=str(splits[k])) for k in ("train", "validation")],
            resources=ResourceConfig(num_threads=1), seed=args.seed),
        ranges=dict(parse_range(r) for r in RANGES),
        objective=TuningObjective(metric_name=OBJECTIVE), strategy=strategy,  # type: ignore[arg-type]
        max_jobs=args.trials, max_parallel_jobs=args.parallel, seed=args.seed)
    name = f"bench-{strategy.lower()}"
    t = time.perf_counter()
    submit_job(ws, spec, name)
    wait_for_job(ws, name, timeout=3600)
    return ws, name, time.perf_counter() - t


def run_optuna(splits: dict[str, Path], args: argparse.Namespace,
               work: Path) -> dict[str, Any]:
    """Plain Optuna: TPE over the same space, BlazingText trained in this process."""
    import optuna

    from mlyard.algorithms.base import TrainingContext
    from mlyard.algorithms.blazingtext import BlazingText

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    algo = BlazingText()
    durations: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        hps = {**STATIC,
               "learning_rate": trial.suggest_float("learning_rate", 0.05, 1.0, log=True),
               "epochs": trial.suggest_int("epochs", 1, 20),
               "word_ngrams": trial.suggest_int("word_ngrams", 1, 3),
               "vector_dim": trial.suggest_categorical("vector_dim", [50, 100, 200]),
               "seed": args.seed}
        points: list[float] = []
        out = work / f"optuna-{trial.number}"
        ctx = TrainingContext(
            channels={"train": splits["train"], "validation": splits["validation"]},
            model_dir=out / "model", output_dir=out / "output", num_threads=1,
            seed=args.seed, log=lambda m: None,
            report_metric=lambda n, v, s: points.append(v) if n == OBJECTIVE else None)
        t = time.perf_counter()
        algo.train(ctx, hps)
        durations.append(time.perf_counter() - t)
        return points[-1]

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=args.seed))
    t = time.perf_counter()
    study.optimize(objective, n_trials=args.trials)
    wall = time.perf_counter() - t
    return {"trials": args.trials, "best": study.best_value, "trial_seconds": sum(durations),
            "wall_seconds": wall,
            "overhead_ms_mean": 1000 * (wall - sum(durations)) / args.trials}


def run_seed(seed: int, splits: dict[str, Path], args: argparse.Namespace,
             work: Path) -> dict[str, Any]:
    """Every strategy (and the plain Optuna peer) with one seed: figures per strategy and
    Hyperband's trial-seconds ratio to Random."""
    args = argparse.Namespace(**{**vars(args), "seed": seed})
    results: dict[str, dict[str, Any]] = {}
    runs = {}
    for strategy in STRATEGIES:
        log(f"seed {seed}: tuning with {strategy} ...")
        runs[strategy] = run_mlyard(strategy, splits, args, work / f"ws-{seed}-{strategy}")
    random_best = None
    for strategy, (ws, name, wall) in runs.items():
        figures = trial_figures(ws, name, args.parallel, random_best)
        if strategy == "Random":
            random_best = figures["best"]
            figures = trial_figures(ws, name, args.parallel, random_best)
        figures["wall_seconds"] = wall
        results[strategy] = figures
        ws.close()
    if not args.skip_optuna:
        log(f"seed {seed}: plain Optuna in-process ...")
        results["optuna"] = run_optuna(splits, args, work)
        if random_best is not None:
            results["optuna"]["reached_random_best"] = \
                results["optuna"]["best"] >= random_best - WITHIN
    rnd, hb = results["Random"], results["Hyperband"]
    ratio = (hb["seconds_to_reach"] / rnd["trial_seconds"]
             if hb.get("seconds_to_reach") is not None and rnd["trial_seconds"] else None)
    return {"results": results, "hyperband_over_random_trial_seconds": ratio}


#: figure -> whether a larger value is better (the worst of the seeds is the other end);
#: a missing value (Hyperband never reached Random's best) is the worst.
FIGURES = {"best": True, "trial_seconds": False, "seconds_to_reach": False,
           "early_stopped": True, "overhead_ms_median": False, "overhead_ms_p90": False,
           "wall_seconds": False}


def median_and_worst(values: list[float | None], larger_is_better: bool) -> dict[str, Any]:
    """Median and worst over the seeds (None, "never", counts as the worst)."""
    known = [v for v in values if v is not None]
    if len(known) < len(values):
        worst: float | None = None
    elif known:
        worst = min(known) if larger_is_better else max(known)
    else:
        worst = None
    return {"median": statistics.median(known) if known else None, "worst": worst,
            "per_seed": values}


def summarize(per_seed: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Median and worst of every figure of every strategy, and of the ratio."""
    summary: dict[str, Any] = {}
    for strategy in STRATEGIES:
        summary[strategy] = {
            figure: median_and_worst([r["results"][strategy].get(figure)
                                      for r in per_seed.values()], larger)
            for figure, larger in FIGURES.items()}
    ratio = median_and_worst([r["hyperband_over_random_trial_seconds"]
                              for r in per_seed.values()], larger_is_better=False)
    return {"strategies": summary, "hyperband_over_random_trial_seconds": ratio}


def _fmt(value: float | None, digits: int) -> str:
    return "never" if value is None else f"{value:.{digits}f}"


def _cell(figures: dict[str, Any], figure: str, digits: int, width: int) -> str:
    """``median / worst`` of one figure, right-aligned in ``width``."""
    text = (f"{_fmt(figures[figure]['median'], digits)} / "
            f"{_fmt(figures[figure]['worst'], digits)}")
    return f"{text:>{width}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--seeds", default="7,11,13",
                        help="comma-separated seeds; figures are reported as median and "
                             "worst over them")
    parser.add_argument("--seed", type=int, default=None,
                        help="one seed only (the same as --seeds SEED)")
    parser.add_argument("--skip-optuna", action="store_true",
                        help="leave out the plain Optuna peer (quicker checks)")
    parser.add_argument("--save", action="store_true", help=f"also write {RESULTS}")
    args = parser.parse_args(argv)
    try:
        seeds = [args.seed] if args.seed is not None else \
            [int(x) for x in args.seeds.split(",") if x.strip()]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, not {args.seeds!r}")
    if not seeds:
        parser.error("--seeds names no seed")
    if not reviews_data_present(args.data):
        return 2
    per_seed: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="tuning-bench-") as tmp:
        work = Path(tmp)
        splits = write_splits(args.data, work)
        log(f"data: {len(splits['train'].read_text().splitlines()) - 1} train rows; "
            f"{args.trials} trials per strategy, {args.parallel} at a time; seeds {seeds}")
        for seed in seeds:
            per_seed[seed] = run_seed(seed, splits, args, work)
    summary = summarize(per_seed)
    strategies = summary["strategies"]
    ratio = summary["hyperband_over_random_trial_seconds"]

    print(f"BlazingText on the reviews data, {args.trials} trials per strategy, "
          f"{args.parallel} in parallel; objective {OBJECTIVE} (validation split); "
          f"seeds {', '.join(map(str, seeds))}: median / worst over the seeds")
    header = (f"{'strategy':<22}{'best F1':>16}{'trial-s':>16}{'to reach':>16}"
              f"{'stopped':>10}{'overhead ms median':>22}{'overhead ms p90':>20}")
    print(header)
    print("-" * len(header))
    for key, label in (("Random", "mlyard Random"), ("Bayesian", "mlyard Bayesian (TPE)"),
                       ("Hyperband", "mlyard Hyperband")):
        r = strategies[key]
        print(f"{label:<22}{_cell(r, 'best', 4, 16)}{_cell(r, 'trial_seconds', 1, 16)}"
              f"{_cell(r, 'seconds_to_reach', 1, 16)}{_cell(r, 'early_stopped', 0, 10)}"
              f"{_cell(r, 'overhead_ms_median', 1, 22)}"
              f"{_cell(r, 'overhead_ms_p90', 1, 20)}")
    optuna_runs = [r["results"]["optuna"] for r in per_seed.values() if "optuna" in r["results"]]
    if optuna_runs:
        best = median_and_worst([o["best"] for o in optuna_runs], True)
        secs = median_and_worst([o["trial_seconds"] for o in optuna_runs], False)
        over = median_and_worst([o["overhead_ms_mean"] for o in optuna_runs], False)
        print(f"{'plain Optuna (TPE)':<22}"
              f"{_fmt(best['median'], 4) + ' / ' + _fmt(best['worst'], 4):>16}"
              f"{_fmt(secs['median'], 1) + ' / ' + _fmt(secs['worst'], 1):>16}{'-':>16}"
              f"{'-':>10}{_fmt(over['median'], 1) + ' / ' + _fmt(over['worst'], 1):>22}"
              "  (mean, in-process)")
    print(f"'to reach' = trial-seconds until a trial came within {WITHIN} of Random's best "
          "(of the same seed); Hyperband/Random trial-seconds ratio per seed: "
          + ", ".join(f"{s}: {_fmt(v, 3)}" for s, v in zip(seeds, ratio["per_seed"],
                                                             strict=True))
          + f"; median {_fmt(ratio['median'], 3)}, worst {_fmt(ratio['worst'], 3)} "
            "(target <= 0.333)")

    def met(which: str) -> dict[str, bool]:
        value = ratio[which]
        return {
            "hyperband_ratio": value is not None and value <= 1 / 3,
            "overhead_ms": all(strategies[k]["overhead_ms_median"][which] is not None
                               and strategies[k]["overhead_ms_median"][which] <= 50
                               for k in STRATEGIES),
        }

    result = {
        "bench": "tuning", "trials": args.trials, "parallel": args.parallel, "seeds": seeds,
        "objective": OBJECTIVE, "ranges": RANGES, "static": STATIC,
        "summary": summary,
        "per_seed": {str(seed): r for seed, r in per_seed.items()},
        "hyperband_over_random_trial_seconds": ratio,
        "targets": {"hyperband_ratio_max": 1 / 3, "overhead_ms_max": 50},
        "targets_met": met("median"),
        "targets_met_worst_seed": met("worst"),
        "machine": machine(),
    }
    line = json.dumps(result, default=float)
    if args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
