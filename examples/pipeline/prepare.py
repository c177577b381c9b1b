"""The course pipeline's Prepare step (a processing job script).

Reads the raw Women's E-Commerce Clothing Reviews CSV from input ``raw``, applies the
course transform (:func:`mlyard.datasets.reviews.course_transform`: ``sentiment`` -1/0/1 from
the star rating, categories with 10 or fewer reviews dropped), puts the rows in a fixed order
(so that the seeded split is reproducible whatever the CSV's row order) and writes a
stratified split by sentiment as ``label,text`` CSV files to outputs ``train``,
``validation`` and ``test`` (the files BlazingText and the bert algorithm train on).

Run as a job::

    mlyard.Processor(entry_point="prepare.py", source_dir="examples/pipeline").run(
        inputs={"raw": "reviews.csv"}, outputs=["train", "validation", "test"])

or by hand: ``python prepare.py --raw reviews.csv --out prepared/`` (``prepared/train/...``).
Options: ``--splits 0.8,0.1,0.1``, ``--seed 42``, ``--balance`` (down-sample every sentiment to
the smallest, the course's balanced set; off by default), ``--max-rows N`` (a stratified
sample of N transformed rows, for quick runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from mlyard.datasets.reviews import balance, course_transform, load_raw, stratified_split

SPLITS = ("train", "validation", "test")


def raw_csv(location: Path) -> Path:
    """The CSV at ``location``: the file itself, or the one ``*.csv`` in the folder."""
    if location.is_file():
        return location
    found = sorted(p for p in location.glob("*.csv") if not p.name.startswith("."))
    if len(found) != 1:
        raise SystemExit(f"input raw: expected one .csv file in {location}, found "
                         f"{[p.name for p in found]}")
    return found[0]


def prepare(raw: pd.DataFrame, *, fractions: tuple[float, ...], seed: int,
            balanced: bool = False, max_rows: int = 0) -> dict[str, pd.DataFrame]:
    """The course transform, then a stratified split as ``label,text`` frames."""
    frame = course_transform(raw)
    frame = frame.sort_values(["review_body", "product_category", "sentiment"],
                              kind="stable").reset_index(drop=True)
    if balanced:
        frame = balance(frame, "sentiment", seed=seed)
    if 0 < max_rows < len(frame):
        frame = stratified_split(frame, "sentiment", (max_rows / len(frame),
                                                      1 - max_rows / len(frame)), seed=seed)[0]
    parts = stratified_split(frame[["sentiment", "review_body"]], "sentiment", fractions,
                             seed=seed)
    return {name: part.rename(columns={"sentiment": "label", "review_body": "text"})
            for name, part in zip(SPLITS, parts, strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", help="The raw CSV (default: input raw, MLYARD_INPUT_RAW).")
    parser.add_argument("--out", help="Write <out>/<split>/<split>.csv instead of the outputs.")
    parser.add_argument("--splits", default="0.8,0.1,0.1",
                        help="train,validation,test fractions (default 0.8,0.1,0.1).")
    parser.add_argument("--seed", type=int, default=42, help="Split seed (default 42).")
    parser.add_argument("--balance", action="store_true",
                        help="Down-sample every sentiment to the smallest one's size.")
    parser.add_argument("--max-rows", type=int, default=0,
                        help="Keep a stratified sample of this many rows (0 = all).")
    args = parser.parse_args(argv)
    fractions = tuple(float(f) for f in args.splits.split(","))
    if len(fractions) != len(SPLITS):
        parser.error(f"--splits takes {len(SPLITS)} fractions, got {args.splits!r}")
    source = args.raw or os.environ.get("MLYARD_INPUT_RAW")
    if not source:
        parser.error("give --raw or run as a job with input 'raw'")
    parts = prepare(load_raw(raw_csv(Path(source))), fractions=fractions, seed=args.seed,
                    balanced=args.balance, max_rows=args.max_rows)
    counts = {}
    for name, part in parts.items():
        folder = (Path(args.out) / name if args.out
                  else Path(os.environ[f"MLYARD_OUTPUT_{name.upper()}"]))
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / f"{name}.csv", index=False)
        counts[name] = {"rows": len(part),
                        "labels": {str(k): int(v) for k, v in
                                   part["label"].value_counts().sort_index().items()}}
    print(json.dumps({"prepared": counts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
