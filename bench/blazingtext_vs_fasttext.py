"""Bench: mlyard BlazingText (numba Hogwild) vs fastText C++ vs TF-IDF + logistic regression.

Data: the public Kaggle dataset "Women's E-Commerce Clothing Reviews" by Nick Brooks (CC0),
with the course's transform (3-class sentiment from the star rating, 22,626 rows), a
stratified 90/10 split with a fixed seed and the same tokenization (mlyard's tokenizer,
tokens joined by spaces) for every contender. Both fastText-style models read the same
``__label__<sentiment> <tokens>`` training file with the same hyperparameters.

Throughput is counted the same way for all: training-set tokens per epoch x epochs / train
seconds (one pass for TF-IDF + LR). "Train seconds" is the wall time of the call that goes
from the training file to a trained model: ``fasttext.train_supervised`` for fastText, and
``BlazingText().train`` minus the time it spends writing the model to disk for mlyard (both
read the file, build the dictionary, allocate and train). numba compiles (or loads its
cache) in a warm-up run first; that time is reported separately.

Usage: ``python bench/blazingtext_vs_fasttext.py [--data CSV] [--repeats 3] [--save]``; the
last line printed is one line of JSON with every figure (``--save`` also writes it to
``bench/results/blazingtext_vs_fasttext.json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, reviews_data_present

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv"
RESULTS_DIR = REPO / "bench" / "results"
REFERENCE_FASTTEXT = {"accuracy": 0.812, "macro_f1": 0.599, "train_seconds": 3.7}


def load_reviews(path: Path) -> Any:
    """The course's transformed table: sentiment (-1/0/1), review_body, product_category."""
    from mlyard.datasets.reviews import course_transform, load_raw

    return course_transform(load_raw(path))




def scores(y_true: list[str], y_pred: list[str]) -> tuple[float, float]:
    """(accuracy, macro-F1)."""
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(y_true, y_pred)), float(f1_score(y_true, y_pred,
                                                                   average="macro"))


def results_path(device: str) -> Path:
    """``blazingtext_vs_fasttext.json`` for the CPU backend, ``..._cuda.json`` for a GPU run
    (kept apart: they run on different machines)."""
    suffix = "_cuda" if device.startswith("cuda") else ""
    return RESULTS_DIR / f"blazingtext_vs_fasttext{suffix}.json"


def run_mlyard(train_file: Path, test_texts: list[str], test_y: list[str], hp: dict[str, Any],
               workdir: Path, tag: str, device: str = "cpu") -> dict[str, Any]:
    """Train mlyard's BlazingText on ``train_file`` and score it on the test texts."""
    from mlyard.algorithms.base import TrainingContext
    from mlyard.algorithms.blazingtext import BlazingText, load_model

    ctx = TrainingContext(channels={"train": train_file}, model_dir=workdir / f"model-{tag}",
                          output_dir=workdir / f"out-{tag}", device=device,
                          log=lambda _m: None)
    algo = BlazingText()
    resolved = algo.resolve_hyperparameters(hp)
    t = time.perf_counter()
    algo.train(ctx, resolved)
    wall = time.perf_counter() - t
    summary = json.loads((ctx.output_dir / "training_summary.json").read_text())
    model = load_model(ctx.model_dir)
    t = time.perf_counter()
    proba = model.predict_proba(test_texts)
    predict_seconds = time.perf_counter() - t
    pred = [model.labels[i] for i in proba.argmax(axis=1)]
    acc, f1 = scores(test_y, pred)
    return {"train_seconds": wall - summary["save_seconds"], "wall_with_save": wall,
            "loop_seconds": summary["train_seconds"], "setup_seconds": summary["setup_seconds"],
            "prep_seconds": summary["prep_seconds"], "predict_seconds": predict_seconds,
            "accuracy": acc, "macro_f1": f1}


def run_fasttext(train_file: Path, test_texts: list[str], test_y: list[str],
                 args: argparse.Namespace) -> dict[str, Any]:
    """Train fastText C++ (through its Python binding) and score it."""
    import fasttext

    t = time.perf_counter()
    model = fasttext.train_supervised(
        input=str(train_file), epoch=args.epochs, lr=args.lr, wordNgrams=args.word_ngrams,
        dim=args.dim, thread=args.threads, minCount=args.min_count, bucket=args.buckets,
        loss="softmax", verbose=0, seed=args.seed,
    )
    seconds = time.perf_counter() - t
    t = time.perf_counter()
    labels, _ = model.predict(test_texts, k=1)
    predict_seconds = time.perf_counter() - t
    pred = [lab[0].removeprefix("__label__") for lab in labels]
    acc, f1 = scores(test_y, pred)
    return {"train_seconds": seconds, "predict_seconds": predict_seconds, "accuracy": acc,
            "macro_f1": f1}


def run_tfidf_lr(train_texts: list[str], train_y: list[str], test_texts: list[str],
                 test_y: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """TF-IDF (1-2 grams) + logistic regression on the same tokens."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"\S+", lowercase=False,
                        sublinear_tf=True),
        LogisticRegression(max_iter=1000, C=10.0),
    )
    t = time.perf_counter()
    pipe.fit(train_texts, train_y)
    seconds = time.perf_counter() - t
    t = time.perf_counter()
    pred = list(pipe.predict(test_texts))
    predict_seconds = time.perf_counter() - t
    acc, f1 = scores(test_y, pred)
    return {"train_seconds": seconds, "predict_seconds": predict_seconds, "accuracy": acc,
            "macro_f1": f1}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric field over repeated runs (plus the raw runs)."""
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["runs"] = runs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--word-ngrams", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--buckets", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", choices=("cpu", "torch"), default="cpu",
                        help="mlyard's backend: cpu (numba Hogwild) or torch (minibatch SGD)")
    parser.add_argument("--device", default="cpu",
                        help="device of the torch backend: cpu, cuda, auto (default cpu)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="minibatch size of the torch backend (default: the algorithm's)")
    parser.add_argument("--note", default=None,
                        help="free text stored in the JSON (how this run was set up)")
    parser.add_argument("--save", action="store_true",
                        help="also write bench/results/blazingtext_vs_fasttext[_cuda].json")
    args = parser.parse_args(argv)

    if not reviews_data_present(args.data):
        return 2
    sys.path.insert(0, str(REPO / "src"))
    from sklearn.model_selection import train_test_split

    from mlyard.algorithms.blazingtext import tokenize

    df = load_reviews(args.data)
    train_df, test_df = train_test_split(df, test_size=0.1, stratify=df["sentiment"],
                                         random_state=args.seed)
    train_tok = [tokenize(t) for t in train_df["review_body"]]
    train_texts = [" ".join(t) for t in train_tok]
    test_texts = [" ".join(tokenize(t)) for t in test_df["review_body"]]
    train_y = [str(s) for s in train_df["sentiment"]]
    test_y = [str(s) for s in test_df["sentiment"]]
    words_per_epoch = sum(len(t) for t in train_tok)
    words = words_per_epoch * args.epochs

    hp = {"mode": "supervised", "epochs": args.epochs, "learning_rate": args.lr,
          "word_ngrams": args.word_ngrams, "vector_dim": args.dim, "threads": args.threads,
          "min_count": args.min_count, "buckets": args.buckets, "backend": args.backend,
          "seed": args.seed}
    if args.batch_size is not None:
        hp["batch_size"] = args.batch_size
    device = args.device if args.backend == "torch" else "cpu"
    from mlyard.algorithms.blazingtext import BlazingText

    resolved_batch = BlazingText().resolve_hyperparameters(hp)["batch_size"]
    device_name = device
    if device.startswith("cuda") or device == "auto":
        import torch

        if torch.cuda.is_available():
            device_name = f"{device} ({torch.cuda.get_device_name(0)})"

    with tempfile.TemporaryDirectory(prefix="bt-bench-") as tmp:
        work = Path(tmp)
        train_file = work / "train.txt"
        train_file.write_text("".join(f"__label__{y} {t}\n"
                                      for y, t in zip(train_y, train_texts, strict=True)))
        warm_file = work / "warm.txt"
        warm_file.write_text("__label__a x y z\n__label__b u v w\n" * 20)
        t = time.perf_counter()
        run_mlyard(warm_file, ["x y"], ["a"], {**hp, "epochs": 1}, work, "warm", device)
        warmup_seconds = time.perf_counter() - t

        ours_runs, ft_runs = [], []
        for i in range(args.repeats):  # interleaved, so that machine noise hits both alike
            ours_runs.append(run_mlyard(train_file, test_texts, test_y, hp, work, str(i),
                                        device))
            ft_runs.append(run_fasttext(train_file, test_texts, test_y, args))
        ours, ft = median_run(ours_runs), median_run(ft_runs)
        lr = run_tfidf_lr(train_texts, train_y, test_texts, test_y, args)

    for r, n_words in ((ours, words), (ft, words), (lr, words_per_epoch)):
        r["words_per_second"] = n_words / r["train_seconds"]
    ours["loop_words_per_second"] = words / ours["loop_seconds"]
    ratio = ours["words_per_second"] / ft["words_per_second"]
    f1_delta = ours["macro_f1"] - ft["macro_f1"]

    print(f"Women's E-Commerce Clothing Reviews: {len(df)} rows, train {len(train_df)}, "
          f"test {len(test_df)}, {words_per_epoch} train tokens/epoch; epochs {args.epochs}, "
          f"word_ngrams {args.word_ngrams}, lr {args.lr}, dim {args.dim}, threads "
          f"{args.threads}, min_count {args.min_count}; median of {args.repeats} runs")
    print(f"mlyard backend {args.backend} on {device_name}; warm-up run (numba compile or "
          f"cache load, CUDA start) {warmup_seconds:.2f}s, excluded")
    header = f"{'model':<28}{'words/s':>12}{'train s':>9}{'accuracy':>10}{'macro-F1':>10}"
    print(header)
    print("-" * len(header))
    ours_name = f"mlyard blazingtext ({args.backend}" + (
        f", {device})" if args.backend == "torch" else ")")
    for name, r in ((ours_name, ours), ("fastText C++ 0.9", ft),
                    ("tf-idf(1,2) + logreg", lr)):
        print(f"{name:<28}{r['words_per_second']:>12,.0f}{r['train_seconds']:>9.2f}"
              f"{r['accuracy']:>10.4f}{r['macro_f1']:>10.4f}")
    print(f"mlyard training loop alone: {ours['loop_seconds']:.2f}s "
          f"({ours['loop_words_per_second']:,.0f} words/s); data prep "
          f"{ours['prep_seconds']:.2f}s")
    print(f"throughput ours/fastText: {ratio:.2f}x; macro-F1 ours - fastText: {f1_delta:+.4f}")

    targets = {
        "throughput_ratio_ge_1": ratio >= 1.0,
        "macro_f1_within_0.005_of_fasttext": f1_delta >= -0.005,
        "accuracy_ge_0.81": ours["accuracy"] >= 0.81,
        "macro_f1_ge_0.60": ours["macro_f1"] >= 0.60,
    }
    result = {
        "bench": "blazingtext_vs_fasttext",
        "dataset": {"rows": len(df), "train": len(train_df), "test": len(test_df),
                    "train_tokens_per_epoch": words_per_epoch},
        "backend": args.backend,
        "device": device_name,
        "params": {"epochs": args.epochs, "word_ngrams": args.word_ngrams, "lr": args.lr,
                   "dim": args.dim, "threads": args.threads, "min_count": args.min_count,
                   "buckets": args.buckets, "seed": args.seed, "repeats": args.repeats,
                   "batch_size": resolved_batch},
        "numba_warmup_seconds": round(warmup_seconds, 3),
        "mlyard": _rounded(ours),
        "fasttext": _rounded(ft),
        "tfidf_logreg": _rounded(lr),
        "throughput_ratio": round(ratio, 3),
        "macro_f1_delta": round(f1_delta, 4),
        "reference_fasttext": REFERENCE_FASTTEXT,
        "machine": machine(),
        "note": args.note,
        "targets_met": targets,
        "all_targets_met": all(targets.values()),
    }
    line = json.dumps(result)
    if args.save:
        out = results_path(device)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(line + "\n")
    print(line)
    return 0


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())
