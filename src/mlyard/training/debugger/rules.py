"""Debugger rules: checks over a :class:`TensorTrace` that flag training problems.

Each rule is a :class:`mlyard.rules.Rule` with SageMaker's name and (where SageMaker has
them) its parameter names and defaults, declared as :class:`~mlyard.core.params.Parameter`
objects. A rule instance is evaluated repeatedly on a growing trace; it may keep state
between calls. ``evaluate`` returns a :class:`RuleFinding` when the rule fires and ``None``
while no issue has been found.
"""

from __future__ import annotations

import bisect
import math
import statistics
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mlyard.core.params import Parameter, boolean, categorical, continuous, integer, string
from mlyard.errors import ValidationError
from mlyard.rules import Rule as BaseRule
from mlyard.training.debugger.records import MODES, TensorRecord
from mlyard.training.debugger.trace import TensorTrace


@dataclass(frozen=True)
class RuleFinding:
    """A rule fired: at training ``step`` (``None`` if it does not refer to one)."""

    step: int | None
    message: str


class Rule(BaseRule[TensorTrace, RuleFinding | None]):
    """A Debugger rule: a :class:`mlyard.rules.Rule` over a :class:`TensorTrace` whose
    :meth:`evaluate` returns a :class:`RuleFinding` when it fires and ``None`` while it has
    found no issue. Subclasses set ``name``, ``PARAMETERS`` and ``REQUIRES`` (the hook
    collections the rule reads). Parameter values are converted by their declarations
    (``"10"`` -> 10, ``"TRAIN"`` -> ``"train"`` for a mode); bad ones raise
    :class:`~mlyard.errors.ValidationError` (a ``ValueError``) naming the rule and parameter.
    """

    REQUIRES: ClassVar[tuple[str, ...]] = ()

    @property
    def params(self) -> dict[str, Any]:
        """The rule's effective parameters (the Debugger's name for :attr:`parameters`)."""
        return self.parameters

    @classmethod
    def required_collections(cls, parameters: Mapping[str, Any] | None = None) -> frozenset[str]:
        """The hook collections this rule needs (with ``parameters``)."""
        return frozenset(cls.REQUIRES)

    @abstractmethod
    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        """Check the trace; a finding when the rule fires, else ``None``."""


def _fmt_steps(points: list[tuple[int, float]]) -> str:
    return f"steps {points[0][0]}-{points[-1][0]}"


class LossNotDecreasing(Rule):
    """Fires when the loss stops decreasing.

    The recorded loss points of ``mode`` (``train`` or ``eval``) are split into consecutive
    windows of ``num_steps`` points; the rule fires at the first window whose mean is not
    lower than the previous window's mean by at least ``diff_percent`` percent (of its
    absolute value). It needs at least ``2 * num_steps`` points.
    """

    name = "LossNotDecreasing"
    DESCRIPTION = "Checks whether the loss stops decreasing."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        integer("num_steps", 10, lo=1),
        continuous("diff_percent", 0.1, lo=0.0, hi=100.0),
        categorical("mode", "train", MODES, ignore_case=True),
    )
    REQUIRES = ("losses",)

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        mode, n, diff = self.params["mode"], self.params["num_steps"], self.params["diff_percent"]
        points = trace.losses(mode)
        for end in range(2 * n, len(points) + 1, n):
            prev, last = points[end - 2 * n:end - n], points[end - n:end]
            prev_mean = math.fsum(v for _, v in prev) / n
            last_mean = math.fsum(v for _, v in last) / n
            if not (math.isfinite(prev_mean) and math.isfinite(last_mean)):
                continue
            if last_mean > prev_mean - abs(prev_mean) * diff / 100.0:
                return RuleFinding(last[-1][0], (
                    f"{mode} loss did not decrease by {diff:g}%: mean {last_mean:.6g} over "
                    f"{_fmt_steps(last)} vs {prev_mean:.6g} over {_fmt_steps(prev)}"))
        return None


class Overfit(Rule):
    """Fires when the validation loss exceeds the training loss by more than
    ``ratio_threshold`` (relative: ``(val - train) / |train|``) at ``patience`` consecutive
    evaluation points at or after ``start_step``. The training loss of an evaluation at step
    ``s`` is the latest training loss recorded at or before ``s``; evaluations without one
    are skipped."""

    name = "Overfit"
    DESCRIPTION = "Checks whether the validation loss runs above the training loss."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        integer("start_step", 0, lo=0),
        integer("patience", 1, lo=1),
        continuous("ratio_threshold", 0.1, lo=0.0),
    )
    REQUIRES = ("losses",)

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        train = trace.losses("train")
        train_steps = [s for s, _ in train]
        patience, threshold = self.params["patience"], self.params["ratio_threshold"]
        streak = 0
        for step, val in trace.losses("eval"):
            if step < self.params["start_step"]:
                continue
            i = bisect.bisect_right(train_steps, step) - 1
            if i < 0:
                continue
            tr = train[i][1]
            if tr == 0 or not (math.isfinite(tr) and math.isfinite(val)):
                continue
            ratio = (val - tr) / abs(tr)
            if ratio <= threshold:
                streak = 0
                continue
            streak += 1
            if streak >= patience:
                return RuleFinding(step, (
                    f"validation loss {val:.6g} exceeds training loss {tr:.6g} by "
                    f"{ratio:.1%} (threshold {threshold:.1%}) at {streak} consecutive "
                    f"evaluation(s)"))
        return None


def _stalled(points: list[tuple[int, float]], patience: int,
             delta: float) -> tuple[int, float, int] | None:
    """``(step, best, best_step)`` at the first point where ``patience`` consecutive points
    have not improved on the best value so far by at least ``delta``, else ``None``."""
    best, best_step, since = math.inf, -1, 0
    for step, value in points:
        if not math.isfinite(value):
            continue
        if value < best and best - value >= delta:
            best, best_step, since = value, step, 0
            continue
        since += 1
        if since >= patience:
            return step, best, best_step
    return None


class Overtraining(Rule):
    """Fires when the validation loss has not improved (decreased by at least ``delta`` from
    its best value so far) for ``patience_validation`` consecutive evaluation points, or the
    training loss has not for ``patience_train`` consecutive recorded points; whichever
    happens at the earlier step."""

    name = "Overtraining"
    DESCRIPTION = "Checks whether the validation or training loss stops improving."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        integer("patience_train", 5, lo=1),
        integer("patience_validation", 10, lo=1),
        continuous("delta", 0.01, lo=0.0),
    )
    REQUIRES = ("losses",)

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        delta = self.params["delta"]
        findings: list[RuleFinding] = []
        for mode, label, patience in (("eval", "validation", self.params["patience_validation"]),
                                      ("train", "training", self.params["patience_train"])):
            stalled = _stalled(trace.losses(mode), patience, delta)
            if stalled is not None:
                step, best, best_step = stalled
                findings.append(RuleFinding(step, (
                    f"{label} loss has not improved by {delta:g} for {patience} consecutive "
                    f"points (best {best:.6g} at step {best_step})")))
        if not findings:
            return None
        return min(findings, key=lambda f: f.step if f.step is not None else -1)


class VanishingGradient(Rule):
    """Fires at the first (settled) step where the mean absolute gradient over all gradient
    tensors, weighted by their number of finite elements, is below ``threshold``."""

    name = "VanishingGradient"
    DESCRIPTION = "Checks whether the gradients become vanishingly small."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (continuous("threshold", 0.0000001, lo=0.0),)
    REQUIRES = ("gradients",)

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        self._checked: int | None = None

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        for step in trace.settled_steps("gradients"):
            if self._checked is not None and step <= self._checked:
                continue
            self._checked = step
            weighted, count = 0.0, 0
            for record in trace.records_at("gradients", step):
                stats = record.stats
                finite = int(stats.get("numel", 0)) - int(stats.get("nan", 0)) \
                    - int(stats.get("inf", 0))
                if finite > 0 and stats.get("abs_mean") is not None:
                    weighted += float(stats["abs_mean"]) * finite
                    count += finite
            if count == 0:
                continue
            mean_abs = weighted / count
            if mean_abs < self.params["threshold"]:
                return RuleFinding(step, (
                    f"mean absolute gradient {mean_abs:.3g} over {count} gradient values is "
                    f"below {self.params['threshold']:g}"))
        return None


class ExplodingTensor(Rule):
    """Fires at the first record of the collections ``collection_names`` (comma-separated)
    that holds a NaN, an infinity, or a finite value with magnitude above ``threshold``
    (``threshold`` 0 turns that check off, as in SageMaker). With ``only_nan`` only NaN
    values count (no infinity or magnitude check). Loss and metric scalars are checked for
    NaN and infinity only: a large loss is legitimate (e.g. squared error on unscaled
    regression targets), while weights or gradients above ``threshold`` are not."""

    name = "ExplodingTensor"
    DESCRIPTION = "Checks tensors for NaN, infinite or huge values."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        string("collection_names", "gradients,weights,losses"),
        boolean("only_nan", False),
        continuous("threshold", 1e8, lo=0.0),
    )

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        self._collections = frozenset(self._names(self.params["collection_names"]))
        self._cursor = 0

    @staticmethod
    def _names(value: str) -> list[str]:
        return [c.strip() for c in value.split(",") if c.strip()]

    @classmethod
    def check_parameters(cls, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """As :meth:`Rule.check_parameters`; ``collection_names`` must name at least one
        collection."""
        values = super().check_parameters(parameters)
        if "collection_names" in values and not cls._names(values["collection_names"]):
            raise ValidationError(f"rule {cls.name}: parameter 'collection_names' must name "
                                  "at least one collection")
        return values

    def _problem(self, record: TensorRecord) -> str | None:
        only_nan, threshold = self.params["only_nan"], self.params["threshold"]
        stats = record.stats
        if "value" in stats:
            value = record.value
            if value is None:
                return None
            if math.isnan(value):
                return "is NaN"
            if only_nan:
                return None
            return f"is {value}" if math.isinf(value) else None
        if "nan" not in stats:
            return None
        nan, inf = int(stats.get("nan") or 0), int(stats.get("inf") or 0)
        if nan:
            return f"has {nan} NaN value(s)"
        if only_nan:
            return None
        if inf:
            return f"has {inf} infinite value(s)"
        lo, hi = stats.get("min"), stats.get("max")
        if threshold > 0 and lo is not None and hi is not None:
            peak = max(abs(float(lo)), abs(float(hi)))
            if peak > threshold:
                return f"has values up to {peak:.6g} in magnitude, above {threshold:g}"
        return None

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        records = trace.records(self._cursor)
        for offset, record in enumerate(records):
            if record.collection not in self._collections:
                continue
            problem = self._problem(record)
            if problem:
                self._cursor += offset + 1
                return RuleFinding(record.step, (
                    f"{record.mode} {record.collection} tensor {record.name!r} {problem} at "
                    f"step {record.step} (rank {record.rank})"))
        self._cursor += len(records)
        return None


class PoorWeightInitialization(Rule):
    """Checks the weights at the first ``steps`` (settled) recorded steps.

    Only weight matrices count: tensors with ``ndim >= 2`` and more than one element
    (vectors such as biases and LayerNorm scales are left out). The rule fires when

    * a matrix is (nearly) constant: ``max - min < distribution_range`` (e.g. all zeros), or
    * the scale of a matrix is off: with each matrix's fan-in-scaled standard deviation
      ``g = std * sqrt(fan_in)`` (``fan_in = numel / shape[0]``, which is constant across
      layers for Kaiming/Xavier/PyTorch-default initialisation), some matrix has ``g`` more
      than ``threshold`` times above or below the median ``g`` of all matrices (median taken
      on a log scale). Embedding
      tables (name containing ``embed``) are left out of this comparison, as their scale
      does not follow their fan-in.

    Comparing to the median rather than max/min keeps a normally initialised pretrained BERT
    (MiniLM-L6: matrix stds 0.009-0.095, max/min ratio about 10.5) from firing.
    """

    name = "PoorWeightInitialization"
    DESCRIPTION = "Checks whether the initial weights are constant or badly scaled."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        continuous("threshold", 10.0, lo=1.0),
        continuous("distribution_range", 0.001, lo=0.0),
        integer("steps", 1, lo=1),
    )
    REQUIRES = ("weights",)

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        self._checked: set[int] = set()

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        for step in trace.settled_steps("weights")[: self.params["steps"]]:
            if step in self._checked:
                continue
            self._checked.add(step)
            message = self._check(trace.tensor_stats("weights", step))
            if message:
                return RuleFinding(step, message)
        return None

    def _check(self, weights: Mapping[str, Mapping[str, Any]]) -> str | None:
        scaled: dict[str, float] = {}  # fan-in-scaled std of each matrix
        for name, stats in weights.items():
            shape = stats.get("shape") or []
            if int(stats.get("ndim", len(shape))) < 2 or int(stats.get("numel", 0)) <= 1:
                continue
            lo, hi, std = stats.get("min"), stats.get("max"), stats.get("std")
            if lo is None or hi is None or std is None:
                continue  # no finite values: ExplodingTensor's business
            spread = float(hi) - float(lo)
            if spread < self.params["distribution_range"]:
                return (f"weight {name!r} is (nearly) constant: values range over {spread:.3g} "
                        f"(< distribution_range {self.params['distribution_range']:g})")
            if "embed" in name.lower() or not shape or int(shape[0]) <= 0:
                continue
            fan_in = int(stats["numel"]) // int(shape[0])
            if float(std) > 0:
                scaled[name] = float(std) * math.sqrt(max(fan_in, 1))
        if len(scaled) < 2:
            return None
        # The median on a log scale (for an even count, the geometric mean of the middle two),
        # so that a factor of k above and of k below the median weigh the same.
        median = math.exp(statistics.median(math.log(g) for g in scaled.values()))
        threshold = self.params["threshold"]
        worst_name = max(scaled, key=lambda n: max(scaled[n] / median, median / scaled[n]))
        worst = scaled[worst_name]
        factor = max(worst / median, median / worst)
        if factor > threshold:
            direction = "above" if worst > median else "below"
            return (f"weight {worst_name!r} has a fan-in-scaled std {worst:.3g}, {factor:.3g}x "
                    f"{direction} the median {median:.3g} of {len(scaled)} weight matrices "
                    f"(threshold {threshold:g})")
        return None


class ClassImbalance(Rule):
    """Once at least ``samples`` labels have been recorded, fires when the most frequent
    class has more than ``threshold_imbalance`` times the samples of the least frequent one.
    Only classes seen at least once count (a class never seen is unknown to the rule)."""

    name = "ClassImbalance"
    DESCRIPTION = "Checks whether the training labels are strongly imbalanced."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        continuous("threshold_imbalance", 10.0, lo=1.0),
        integer("samples", 500, lo=1),
    )
    REQUIRES = ("labels",)

    def evaluate(self, trace: TensorTrace) -> RuleFinding | None:
        total = trace.label_total
        if total < self.params["samples"]:
            return None
        counts = trace.label_counts()
        if len(counts) < 2:
            return None
        most = max(counts, key=lambda c: counts[c])
        least = min(counts, key=lambda c: counts[c])
        ratio = counts[most] / counts[least]
        if ratio > self.params["threshold_imbalance"]:
            return RuleFinding(trace.last_label_step, (
                f"class {most} has {counts[most]} samples and class {least} only "
                f"{counts[least]} ({ratio:.3g}x, threshold "
                f"{self.params['threshold_imbalance']:g}) among {total} labels"))
        return None


BUILTIN_RULES: dict[str, type[Rule]] = {
    rule.name: rule
    for rule in (LossNotDecreasing, Overfit, Overtraining, VanishingGradient, ExplodingTensor,
                 PoorWeightInitialization, ClassImbalance)
}
"""The built-in rules by name."""
