"""Runs a pipeline Function step inside its processing job:
``python -m mlyard.pipelines.function_runner module:function args.json out_dir`` imports
the function, calls it with the JSON file's ``Args`` and ``Kwargs`` and writes
``{"ReturnValue": <result>}`` to ``out_dir/result.json`` (the step's ``ReturnValue``
property; the result must be JSON-able)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any


def load_function(target: str) -> Any:
    """The callable ``"package.module:function"`` (dots after the colon walk attributes)."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"function {target!r}: use 'package.module:function'")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{target} is not callable")
    return obj


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m mlyard.pipelines.function_runner module:function "
              "args.json out_dir", file=sys.stderr)
        return 2
    target, args_file, out_dir = args
    sys.path.insert(0, ".")
    call = json.loads(Path(args_file).read_text())
    result = load_function(target)(*call.get("Args", []), **call.get("Kwargs", {}))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps({"ReturnValue": result}))
    print(f"{target} returned {json.dumps(result)[:200]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
