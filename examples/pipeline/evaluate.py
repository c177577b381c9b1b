"""The course pipeline's Evaluate step (a processing job script).

Loads the trained model and scores it on the test split, writing ``evaluation.json`` in
SageMaker Pipelines' shape (``{"metrics": {"accuracy": {"value": 0.86}, ...}}``, what a
``PropertyFile`` + ``JsonGet(..., "metrics.accuracy.value")`` condition reads), the confusion
matrix and an HTML report to output ``metrics``.

The model comes from input ``model`` (a model folder: the training step's
``ModelArtifacts.S3ModelArtifacts``, as SageMaker's evaluation step takes the model
artifacts) or from ``--model`` (a model folder, a ``file://`` URI, or the name of a
registered model such as the training job's name). The test data comes from input ``test``
(or ``--test``): CSV files with ``label,text`` columns.

Run as a job::

    mlyard.Processor(entry_point="evaluate.py", source_dir="examples/pipeline").run(
        inputs={"model": model_uri, "test": test_uri}, outputs=["metrics"])
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mlyard.evaluation import evaluate_model, load_labeled_data
from mlyard.models import load_model


def model_folder(ref: str) -> Path:
    """A local model folder for ``ref``: a path, a ``file://`` URI or a registered name."""
    if ref.startswith("file://"):
        return Path(ref[len("file://"):])
    if Path(ref).is_dir():
        return Path(ref)
    from mlyard.sdk.model import Model  # a registered model of the job's workspace

    return Model(ref).model_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="Model folder, file:// URI or registered model name "
                        "(default: input model, MLYARD_INPUT_MODEL).")
    parser.add_argument("--test", help="Test CSV file or folder (default: input test).")
    parser.add_argument("--out", help="Output folder (default: output metrics).")
    parser.add_argument("--label-column", default="label", help="Label column (default label).")
    parser.add_argument("--text-column", default="text", help="Text column (default text).")
    args = parser.parse_args(argv)
    model_ref = args.model or os.environ.get("MLYARD_INPUT_MODEL")
    test = args.test or os.environ.get("MLYARD_INPUT_TEST")
    out = args.out or os.environ.get("MLYARD_OUTPUT_METRICS")
    if not (model_ref and test and out):
        parser.error("give --model, --test and --out, or run as a job with inputs model and "
                     "test and output metrics")
    model = load_model(model_folder(model_ref))
    texts, labels = load_labeled_data(Path(test), label_column=args.label_column,
                                      text_column=args.text_column)
    result = evaluate_model(model, texts, labels, out_dir=Path(out),
                            title="Course pipeline: test split")
    metrics = result.to_evaluation_json()["metrics"]
    print(json.dumps({name: entry.get("value") for name, entry in metrics.items()}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
