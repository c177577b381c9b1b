"""Running a flow over DataFrames: each step in turn, with rows in/out and seconds per step.

Before any data is processed the flow is checked against the inputs' headers
(:meth:`FlowDocument.check`); a step whose columns could not be known statically (after a
``pandas``, ``sql`` or ``one_hot`` step) is checked again on the real frame when it runs.
Whatever fails while a step runs -- a cast that does not convert, a SQL error, an exception
in custom code -- is a ValidationError naming the step and its line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlyard.analysis.flow.document import FlowDocument
from mlyard.analysis.flow.steps import ChainState
from mlyard.errors import MlyardError, ValidationError


@dataclass
class StepStats:
    """What one step did: rows and columns before and after, and its seconds."""

    index: int
    kind: str
    line: int
    rows_in: int | None
    rows_out: int | None
    columns_out: int | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.index, "type": self.kind, "line": self.line,
                "rows_in": self.rows_in, "rows_out": self.rows_out,
                "columns_out": self.columns_out, "seconds": round(self.seconds, 6)}


@dataclass
class FlowResult:
    """A run's outputs (name -> frame) and per-step statistics."""

    outputs: dict[str, pd.DataFrame]
    steps: list[StepStats] = field(default_factory=list)
    seconds: float = 0.0


def execute(doc: FlowDocument, frames: Mapping[str, pd.DataFrame]) -> FlowResult:
    """Run ``doc`` over ``frames`` (one per declared input; see the module doc)."""
    for name in doc.inputs:
        frame = frames.get(name)
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(f"{doc.source}: input {name!r} is not given; the flow reads "
                                  f"{list(doc.inputs)}")
    doc.check({name: [str(c) for c in frames[name].columns] for name in doc.inputs})
    started = time.perf_counter()
    state = ChainState(named={name: frames[name] for name in doc.inputs})
    if len(doc.inputs) == 1 and doc.steps[0].kind != "input":
        state.current = state.named[doc.inputs[0]]
    stats: list[StepStats] = []
    for step in doc.steps:
        before = state.current
        step_started = time.perf_counter()
        try:
            step.execute(state)
        except MlyardError as exc:
            prefix = f"{step.where.source} line "
            if exc.message.startswith(prefix):
                raise
            raise step.error(exc.message) from None
        except Exception as exc:
            raise step.error(f"failed on the data: {type(exc).__name__}: {exc}") from None
        after = state.current
        if after is not None and not isinstance(after, pd.DataFrame):
            raise step.error(f"gave a {type(after).__name__}, not a DataFrame")
        stats.append(StepStats(
            step.where.index, step.kind, step.where.line,
            None if before is None else len(before),
            None if after is None else len(after),
            None if after is None else len(after.columns),
            time.perf_counter() - step_started))
    names = state.outputs or ["output"]
    if not state.outputs:
        state.named["output"] = state.current
    outputs = {name: state.named[name] for name in names}
    return FlowResult(outputs, stats, time.perf_counter() - started)


def run_flow(doc: FlowDocument, frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The flow's outputs (name -> DataFrame) over ``frames`` (input name -> DataFrame)."""
    return execute(doc, frames).outputs
