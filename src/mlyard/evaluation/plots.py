"""PNG charts for evaluation reports, drawn on :func:`mlyard.reports.charts.new_figure`
(matplotlib's Agg canvas, no pyplot, safe in worker threads). matplotlib is imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlyard.evaluation.results import RocCurve
from mlyard.reports.charts import new_figure, plain, png

_MAX_ANNOTATED = 30
_MAX_LEGEND = 20
_TICK_CHARS = 20


def confusion_matrix_png(
    labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str
) -> bytes:
    """A heat map of ``matrix`` (rows: true label, columns: predicted) with each cell's count
    written in it (up to 30 labels) and both axes labelled."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    k = len(labels)
    counts = np.asarray(matrix, dtype=np.int64).reshape(k, k)
    side = min(max(4.5, 0.55 * k + 2.5), 22.0)
    fig = new_figure(side + 1.0, side)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(counts, cmap="Blues", interpolation="nearest", vmin=0)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ticks = [plain(label, _TICK_CHARS) for label in labels]
    ax.set_xticks(
        range(k), labels=ticks, rotation=45 if k > 3 else 0, ha="right" if k > 3 else "center"
    )
    ax.set_yticks(range(k), labels=ticks)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title(plain(title, 80))
    if k <= _MAX_ANNOTATED:
        top = counts.max() if counts.size else 0
        size = 10 if k <= 10 else 7
        for i in range(k):
            for j in range(k):
                value = int(counts[i, j])
                color = "white" if top and value > top / 2 else "black"
                ax.text(j, i, str(value), ha="center", va="center", color=color, fontsize=size)
    return png(fig)


def roc_curves_png(curves: Sequence[RocCurve], title: str) -> bytes:
    """One-vs-rest ROC curves, each labelled with its AUC, over the chance diagonal."""
    fig = new_figure(6.0, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    for curve in curves:
        ax.plot(
            curve.fpr,
            curve.tpr,
            linewidth=1.5,
            label=f"{plain(curve.label, _TICK_CHARS)} (AUC = {curve.auc:.3f})",
        )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title(plain(title, 80))
    if len(curves) <= _MAX_LEGEND:
        ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return png(fig)


def predicted_vs_actual_png(sample: Sequence[tuple[float, float]], title: str) -> bytes:
    """A scatter of predicted against true values over the ``y = x`` line."""
    fig = new_figure(6.0, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    xs = [t for t, _ in sample]
    ys = [p for _, p in sample]
    ax.scatter(xs, ys, s=8, alpha=0.5)
    if sample:
        low, high = min(min(xs), min(ys)), max(max(xs), max(ys))
        ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel("True value")
    ax.set_ylabel("Predicted value")
    ax.set_title(plain(title, 80))
    ax.grid(alpha=0.3)
    return png(fig)
