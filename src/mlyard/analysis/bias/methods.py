"""The bias metrics by name: Clarify's names and descriptions, a one-line meaning and a fair
range for the report, and the parsing of method lists (``--methods CI,DPL,...|all``).

Names and descriptions are SageMaker Clarify's (the ``name`` and ``description`` fields of
``analysis.json``, as the open-source ``smclarify`` package writes them: the description is
the first line of its metric's docstring). Metrics appear in ``analysis.json`` sorted by
name, as Clarify sorts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mlyard.errors import ValidationError


@dataclass(frozen=True)
class Metric:
    """One bias metric: Clarify's ``name`` and ``description``, what a value means, and the
    interval of values the report calls fair (``None``: no fair range, shown plain)."""

    name: str
    description: str
    meaning: str
    fair: tuple[float, float] | None


PRE_TRAINING: dict[str, Metric] = {m.name: m for m in (
    Metric("CI", "Class Imbalance (CI)",
           "(n_a - n_d)/n: +1 the group is absent, 0 equal sizes, -1 only the group.",
           (-0.5, 0.5)),
    Metric("DPL", "Difference in Positive Proportions in Labels (DPL)",
           "q_a - q_d: how much more often the rest has positive labels than the group.",
           (-0.1, 0.1)),
    Metric("KL", "Kullback-Liebler Divergence (KL)",
           "How far the group's label distribution is from the rest's (0: the same).",
           (0.0, 0.1)),
    Metric("JS", "Jensen-Shannon Divergence (JS)",
           "Symmetric divergence of the two label distributions (0: the same, max ln 2).",
           (0.0, 0.05)),
    Metric("LP", "L-p Norm (LP)",
           "Euclidean distance between the two label distributions (0: the same).",
           (0.0, 0.1)),
    Metric("TVD", "Total Variation Distance (TVD)",
           "Half the L1 distance between the two label distributions (0: the same).",
           (0.0, 0.1)),
    Metric("KS", "Kolmogorov-Smirnov Distance (KS)",
           "Largest gap between the two label distributions over the label classes.",
           (0.0, 0.1)),
    Metric("CDDL", "Conditional Demographic Disparity in Labels (CDDL)",
           "Group's share of rejections minus its share of acceptances, averaged over "
           "the subgroups (0: none).", (-0.1, 0.1)),
)}

POST_TRAINING: dict[str, Metric] = {m.name: m for m in (
    Metric("DPPL", "Difference in Positive Proportions in Predicted Labels (DPPL)",
           "Predicted positive rate of the rest minus the group's.", (-0.1, 0.1)),
    Metric("DI", "Disparate Impact (DI)",
           "Group's predicted positive rate over the rest's (1: parity; < 0.8 adverse).",
           (0.8, 1.25)),
    Metric("DCA", "Difference in Conditional Acceptance (DCA)",
           "Observed over predicted positives, rest minus group (0: same calibration).",
           (-0.1, 0.1)),
    Metric("DCR", "Difference in Conditional Rejection (DCR)",
           "Observed over predicted negatives, group minus rest.", (-0.1, 0.1)),
    Metric("RD", "Recall Difference (RD)",
           "True positive rate of the rest minus the group's.", (-0.1, 0.1)),
    Metric("SD", "Specificity Difference (SD)",
           "True negative rate of the group minus the rest's.", (-0.1, 0.1)),
    Metric("DAR", "Difference in Acceptance Rates (DAR)",
           "Precision of the rest minus the group's.", (-0.1, 0.1)),
    Metric("DRR", "Difference in Rejection Rates (DRR)",
           "Negative predictive value of the group minus the rest's.", (-0.1, 0.1)),
    Metric("AD", "Accuracy Difference (AD)",
           "Accuracy of the rest minus the group's.", (-0.1, 0.1)),
    Metric("CDDPL", "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
           "CDDL on the predicted labels, averaged over the subgroups.", (-0.1, 0.1)),
    Metric("TE", "Treatment Equality (TE)",
           "False negatives per false positive, group minus rest.", (-0.1, 0.1)),
    Metric("FT", "Flip Test (FT)",
           "Share of the group whose prediction would flip with the rest's nearest "
           "neighbours' (k-NN), positive minus negative flips.", (-0.1, 0.1)),
    Metric("GE", "Generalized Entropy (GE)",
           "Inequality of the benefit (prediction - label + 1) over all rows "
           "(0: equal; the same for every facet).", (0.0, 0.1)),
)}

#: Other spellings accepted in method lists (Clarify's documentation writes DCAcc).
ALIASES = {"DCACC": "DCA", "DCREJ": "DCR"}

Methods = list[str] | Literal["all"] | None


def _canonical(name: str) -> str | None:
    key = name.strip().upper()
    key = ALIASES.get(key, key)
    if key in PRE_TRAINING or key in POST_TRAINING:
        return key
    return None


def _known() -> str:
    return (f"pre-training {', '.join(PRE_TRAINING)}; post-training "
            f"{', '.join(POST_TRAINING)} (or all)")


def resolve(methods: Methods, stage: Literal["pre", "post"]) -> list[str]:
    """The metric names of ``methods`` for ``stage`` in Clarify's output order (sorted by
    name); ``"all"`` (or None) is every metric of the stage. A ValidationError names an
    unknown method or one of the other stage."""
    table = PRE_TRAINING if stage == "pre" else POST_TRAINING
    if methods is None or methods == "all":
        return sorted(table)
    names: list[str] = []
    for raw in methods:
        key = _canonical(str(raw))
        if key is None:
            raise ValidationError(f"unknown bias method {raw!r}; known: {_known()}")
        if key not in table:
            other = "post" if stage == "pre" else "pre"
            raise ValidationError(f"{key} is a {other}-training metric, not a "
                                  f"{stage}-training one; {stage}-training: {', '.join(table)}")
        if key not in names:
            names.append(key)
    if not names:
        raise ValidationError(f"no {stage}-training bias method given; known: {_known()}")
    return sorted(names)


def split_methods(text: str, post: bool) -> tuple[Methods, Methods]:
    """``--methods`` (``CI,DPL,...`` with pre- and post-training names mixed, any case, or
    ``all``) as ``(pre_training_methods, post_training_methods)``. ``post`` says whether
    predictions are available (a model or a predicted-label column); without them the
    post-training stage is None and naming a post-training metric is refused."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValidationError(f"--methods is empty; known: {_known()}")
    if any(p.lower() == "all" for p in parts):
        if len(parts) > 1:
            raise ValidationError("--methods: 'all' cannot be combined with metric names")
        return "all", ("all" if post else None)
    pre: list[str] = []
    post_names: list[str] = []
    for part in parts:
        key = _canonical(part)
        if key is None:
            raise ValidationError(f"unknown bias method {part!r}; known: {_known()}")
        target = pre if key in PRE_TRAINING else post_names
        if key not in target:
            target.append(key)
    if post_names and not post:
        raise ValidationError(f"post-training metric(s) {', '.join(post_names)} need "
                              "predictions: give a model (--model) or a predicted-label column")
    return (pre or None), ((post_names or None) if post else None)
