"""Summary statistics of tensors (torch tensors, numpy arrays, nested lists, scalars).

Every tensor is reduced to ``numel, ndim, shape, mean, std, min, max, abs_mean, l2, nan,
inf, zero_fraction``. The float statistics are computed in float64 over the *finite*
elements only (``std`` is the population standard deviation, from the float64 sums of the
values and of their squares; ``l2`` the Euclidean norm of the finite elements); they are
``None`` when a tensor has no finite element. ``nan`` and
``inf`` count the non-finite elements, ``zero_fraction`` is the share of exact zeros among
all elements. Torch tensors are reduced on their own device without per-element Python: all
tensors of one call on one device are summarised by a handful of fused reductions each (on a
float64 copy) and copied to the host with a single ``.tolist()``; tensors found to hold
non-finite values are then redone with masks (a second copy to the host).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

# Order of the raw reductions computed per tensor (torch and numpy paths alike).
_RAW = ("numel", "finite", "nan", "sum", "abs_sum", "sum_sq", "min", "max", "zeros")
_SUM = _RAW.index("sum")


def _is_torch_tensor(value: Any) -> bool:
    """True for a ``torch.Tensor`` (checked without importing torch)."""
    module = type(value).__module__
    return module.startswith("torch") and hasattr(value, "detach")


def _finish(raw: list[float], shape: tuple[int, ...]) -> dict[str, Any]:
    """Turn one tensor's raw reductions into its statistics dict."""
    r = dict(zip(_RAW, raw, strict=True))
    numel = int(r["numel"])
    finite = int(r["finite"])
    nan = int(r["nan"])
    stats: dict[str, Any] = {"numel": numel, "ndim": len(shape), "shape": list(shape)}
    if finite > 0:
        mean = r["sum"] / finite
        stats.update(
            mean=mean,
            std=math.sqrt(max(r["sum_sq"] / finite - mean * mean, 0.0)),
            min=r["min"],
            max=r["max"],
            abs_mean=r["abs_sum"] / finite,
            l2=math.sqrt(r["sum_sq"]),
        )
    else:
        stats.update(mean=None, std=None, min=None, max=None, abs_mean=None, l2=None)
    stats.update(nan=nan, inf=numel - finite - nan,
                 zero_fraction=(r["zeros"] / numel) if numel else 0.0)
    return stats


def _torch_raw_fast(x: Any) -> Any:
    """Raw reductions of a flat float64 torch tensor assumed all finite (a float64 vector on
    its device). If it is not, its sum is not finite and :func:`_torch_raw_masked` redoes it.
    Fused reductions only: no full-size temporaries."""
    import torch

    numel = float(x.numel())
    if x.numel() == 0:
        return torch.zeros(len(_RAW), dtype=torch.float64, device=x.device)
    lo, hi = torch.aminmax(x)
    zeros = numel - torch.count_nonzero(x).to(torch.float64)
    parts = [torch.full((), numel, dtype=torch.float64, device=x.device)] * 2 + [
        torch.zeros((), dtype=torch.float64, device=x.device), x.sum(),
        torch.linalg.vector_norm(x, 1), torch.linalg.vector_norm(x, 2).square(), lo, hi, zeros]
    return torch.stack(parts)


def _torch_raw_masked(x: Any) -> Any:
    """Raw reductions of a flat float64 torch tensor with non-finite values (over its
    finite values)."""
    import torch

    finite = torch.isfinite(x)
    zero = torch.zeros((), dtype=torch.float64, device=x.device)
    big = torch.full((), math.inf, dtype=torch.float64, device=x.device)
    xf = torch.where(finite, x, zero)
    return torch.stack([
        torch.full((), float(x.numel()), dtype=torch.float64, device=x.device),
        finite.sum().to(torch.float64), torch.isnan(x).sum().to(torch.float64), xf.sum(),
        torch.linalg.vector_norm(xf, 1), torch.linalg.vector_norm(xf, 2).square(),
        torch.where(finite, x, big).min(), torch.where(finite, x, -big).max(),
        (x == 0).sum().to(torch.float64)])


def _torch_rows(values: list[Any]) -> list[list[float]]:
    """Raw reductions of torch tensors on one device: one host copy, plus one more for the
    tensors that hold non-finite values."""
    import torch

    def flat(value: Any) -> Any:
        return value.detach().reshape(-1).to(torch.float64)

    with torch.no_grad():
        # One float64 copy alive at a time; only the small result vectors are kept.
        rows: list[list[float]] = torch.stack(
            [_torch_raw_fast(flat(v)) for v in values]).cpu().tolist()
        redo = [i for i, row in enumerate(rows) if not math.isfinite(row[_SUM])]
        if redo:
            fixed = torch.stack([_torch_raw_masked(flat(values[i])) for i in redo]).cpu().tolist()
            for i, row in zip(redo, fixed, strict=True):
                rows[i] = row
    return rows


def _numpy_raw(array: np.ndarray) -> list[float]:
    """The raw reductions of a numpy array, as Python floats."""
    x = np.asarray(array, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return [0.0] * len(_RAW)
    total = float(x.sum())
    if math.isfinite(total):
        n_finite, nan, xf = x.size, 0, x
        lo, hi = float(x.min()), float(x.max())
    else:
        finite = np.isfinite(x)
        n_finite, nan = int(finite.sum()), int(np.isnan(x).sum())
        xf = np.where(finite, x, 0.0)
        total = float(xf.sum())
        lo = float(np.where(finite, x, np.inf).min()) if n_finite else 0.0
        hi = float(np.where(finite, x, -np.inf).max()) if n_finite else 0.0
    return [float(x.size), float(n_finite), float(nan), total, float(np.abs(xf).sum()),
            float(np.dot(xf, xf)), lo, hi, float(x.size - np.count_nonzero(x))]


def tensor_stats_many(tensors: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Statistics of each named tensor (see the module docstring), in the input's order.

    Accepts torch tensors (any dtype and device), numpy arrays, nested lists and scalars.
    """
    out: dict[str, dict[str, Any] | None] = dict.fromkeys(tensors)
    torch_groups: dict[str, list[tuple[str, Any, tuple[int, ...]]]] = {}
    for name, value in tensors.items():
        if _is_torch_tensor(value):
            torch_groups.setdefault(str(value.device), []).append(
                (name, value, tuple(int(d) for d in value.shape)))
        else:
            array = np.asarray(value)
            if array.dtype == object:
                raise TypeError(f"tensor {name!r}: cannot summarise values of type "
                                f"{type(value).__name__}")
            out[name] = _finish(_numpy_raw(array), tuple(int(d) for d in array.shape))
    if torch_groups:
        for group in torch_groups.values():
            rows = _torch_rows([value for _, value, _ in group])
            for (name, _, shape), raw in zip(group, rows, strict=True):
                out[name] = _finish(raw, shape)
    return {name: stats for name, stats in out.items() if stats is not None}


def tensor_stats(value: Any) -> dict[str, Any]:
    """Statistics of one tensor (see :func:`tensor_stats_many`)."""
    return tensor_stats_many({"_": value})["_"]


def label_counts(labels: Any) -> dict[int, int]:
    """Counts per class id of a batch of integer labels (list, numpy array or torch tensor,
    any shape; flattened). Negative ids (such as the ``-100`` ignore index) are skipped.
    Raises ``ValueError`` for labels that are not whole numbers."""
    if _is_torch_tensor(labels):
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels).reshape(-1)
    if array.size == 0:
        return {}
    if array.dtype.kind == "b":
        array = array.astype(np.int64)
    elif array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError("labels must be integer class ids")
        array = array.astype(np.int64)
    elif array.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer class ids, got dtype {array.dtype}")
    array = array[array >= 0]
    classes, counts = np.unique(array, return_counts=True)
    return {int(c): int(n) for c, n in zip(classes.tolist(), counts.tolist(), strict=True)}
