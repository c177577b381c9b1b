"""A flow as a standalone Python script (``mlyard flow export``).

The script imports only the standard library, numpy, pandas, scikit-learn and DuckDB (no
mlyard): it carries the source of :mod:`mlyard.analysis.flow.recipes` and of
:func:`mlyard.analysis.sampling.split_positions`, so it computes exactly what
``mlyard flow run`` computes. Its command line::

    python prep.py --input raw=reviews.csv --output prepared/ [--format csv|parquet|jsonl]

writes ``<output>.<format>`` per output of the flow.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from mlyard.analysis import sampling
from mlyard.analysis.flow import recipes
from mlyard.analysis.flow.document import FlowDocument


def _module_body(source: str) -> str:
    """``source`` without its module docstring and ``from __future__`` import."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in tree.body:
        docstring = (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                     and isinstance(node.value.value, str))
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if docstring or future:
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = source.splitlines()
    return "\n".join(line for i, line in enumerate(lines, start=1) if i not in skip).strip()


_SPLIT = '''
def group_keys(frame, by):
    """One integer per row naming its group of ``by`` (all zeros without ``by``)."""
    if not by:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(by), sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)


def stratified_split(frame, by, fractions, seed):
    """``frame`` cut into parts of ``fractions``, each group of ``by`` shared out alike."""
    positions = split_positions(group_keys(frame, by), fractions, seed)
    return [frame.iloc[p].reset_index(drop=True) for p in positions]
'''

_MAIN = '''
def read_frame(path):
    """A CSV/TSV, Parquet or JSON Lines file as a DataFrame."""
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".jsonl", ".json", ".ndjson"):
        return pd.read_json(path, lines=True)
    return pd.read_csv(path, sep="\\t" if suffix == ".tsv" else ",")


def write_frame(frame, path, fmt):
    """``frame`` written as csv (lists joined by spaces), parquet or jsonl."""
    if fmt == "csv":
        for_text_file(frame).to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", action="append", default=[], metavar="NAME=PATH",
                        help="an input of the flow: " + ", ".join(INPUTS))
    parser.add_argument("--output", required=True, metavar="DIR")
    parser.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    args = parser.parse_args(argv)
    paths = dict(item.split("=", 1) for item in args.input if "=" in item)
    missing = [name for name in INPUTS if name not in paths]
    if missing:
        parser.error("missing --input for " + ", ".join(missing))
    outputs = run({name: read_frame(paths[name]) for name in INPUTS})
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in outputs.items():
        write_frame(frame, out_dir / f"{name}.{args.format}", args.format)
        print(f"{name}: {len(frame)} rows -> {out_dir / (name + '.' + args.format)}")


if __name__ == "__main__":
    main()
'''


def _docstring_text(text: str) -> str:
    """``text`` safe inside a triple-quoted docstring (backslashes and quotes escaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def export_python(doc: FlowDocument) -> str:
    """A standalone script doing what ``doc`` does (see the module doc)."""
    body: list[str] = ["outputs = {}", "frames = dict(frames)"]
    if len(doc.inputs) == 1 and doc.steps[0].kind != "input":
        body.append(f"df = frames[{doc.inputs[0]!r}]")
    for step in doc.steps:
        body.append(f"# step {step.where.index} ({step.kind}), line {step.where.line}")
        body.extend(step.python())
    if not any(step.kind in ("output", "split") for step in doc.steps):
        body.append("outputs['output'] = df")
    body.append("return outputs")
    title = doc.description.strip().splitlines()[0] if doc.description.strip() else \
        f"The data-preparation flow {doc.source}"
    parts = [
        "#!/usr/bin/env python3",
        '"""' + _docstring_text(f"{title}\n\nExported from {doc.source} by mlyard flow "
                                "export; needs pandas, numpy, scikit-learn and duckdb.\n")
        + '"""',
        "",
        "from __future__ import annotations",
        "",
        "import argparse",
        "import datetime  # noqa: F401 - dates in step parameters",
        "from pathlib import Path",
        "",
        _module_body(inspect.getsource(recipes)),
        "",
        "",
        textwrap.dedent(inspect.getsource(sampling.split_positions)).strip(),
        "",
        _SPLIT.strip(),
        "",
        "",
        f"INPUTS = {list(doc.inputs)!r}",
        "",
        "",
        "def run(frames):",
        '    """The flow over ``frames`` (input name -> DataFrame): output name -> DataFrame."""',
        textwrap.indent("\n".join(body), "    "),
        "",
        "",
        _MAIN.strip(),
        "",
    ]
    return "\n".join(parts)
