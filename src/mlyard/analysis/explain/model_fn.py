"""The model as SHAP sees it: a function from a batch of inputs to a ``(n, outputs)`` array.

:class:`ModelFunction` wraps a :class:`~mlyard.models.base.LoadedModel`:

* inputs are de-duplicated within a call (SHAP's text masker produces the same masked string
  many times, and Kernel SHAP repeats background rows) and the model is called once per
  ``batch_size`` distinct inputs, never one row at a time;
* :meth:`ModelFunction.prefetch` predicts a set of inputs ahead in one call and answers them
  from a cache afterwards (the explainers ask for each record's unmasked and fully masked
  input one at a time);
* a classifier's output is its ``predict_proba`` (clipped into (0, 1) when the explanation is
  in log-odds, ``use_logit``), a regressor's its ``predict_values`` as one column;
* :meth:`ModelFunction.probe` runs the model on a few records and turns "no probabilities"
  (``NotImplementedError``, the base class's refusal, or an output of the wrong shape) into a
  ValidationError that names the model, before any job is created.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel

#: Probabilities are clipped into [EPS, 1 - EPS] before a logit link.
EPS = 1e-7


def model_outputs(model: LoadedModel) -> list[str]:
    """The output names SHAP explains: the labels of a classifier, ``["score"]`` for a
    regressor."""
    if model.task == "regression":
        return ["score"]
    return [str(label) for label in model.labels]


def _has_own_predict_proba(model: LoadedModel) -> bool:
    return type(model).predict_proba is not LoadedModel.predict_proba


class ModelFunction:
    """``f(inputs) -> (n, outputs)`` over a loaded model (see the module doc).

    ``to_instances`` turns a slice of the distinct inputs (a list of strings, or a list of
    row tuples for tabular data) into what the model's ``predict_proba`` takes.
    """

    def __init__(self, model: LoadedModel, name: str, *, batch_size: int = 1024,
                 use_logit: bool = False,
                 to_instances: Callable[[list[Any]], Sequence[Any]] | None = None) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.use_logit = use_logit
        self.outputs = model_outputs(model)
        self.to_instances = to_instances or (lambda keys: keys)
        self._cache: dict[Any, np.ndarray] = {}
        #: Model calls made and the rows they held (the batching the tests check).
        self.calls = 0
        self.rows = 0
        #: Inputs asked for (before de-duplication and the cache).
        self.requested = 0

    # -- the model -------------------------------------------------------------------------
    def _predict(self, instances: Sequence[Any]) -> np.ndarray:
        self.calls += 1
        self.rows += len(instances)
        if self.model.task == "regression":
            out = np.asarray(self.model.predict_values(instances), dtype=np.float64)
            return out.reshape(len(instances), 1)
        try:
            raw = self.model.predict_proba(instances)
        except NotImplementedError:
            raise self._no_probabilities() from None
        except ValidationError:
            if not _has_own_predict_proba(self.model):
                raise self._no_probabilities() from None
            raise
        if raw is None:
            raise self._no_probabilities()
        proba = np.asarray(raw, dtype=np.float64)
        n_out = len(self.outputs)
        if proba.ndim != 2 or proba.shape != (len(instances), n_out) or n_out == 0:
            raise self._no_probabilities(f"its predict_proba returned shape {proba.shape}, "
                                         f"not ({len(instances)}, {n_out})")
        if self.use_logit:
            proba = np.clip(proba, EPS, 1.0 - EPS)
        return proba

    def _no_probabilities(self, why: str = "") -> ValidationError:
        extra = f" ({why})" if why else ""
        return ValidationError(f"model {self.name} returns no probabilities; SHAP needs them"
                               f"{extra}")

    # -- the function SHAP calls -------------------------------------------------------------
    def predict_keys(self, keys: Sequence[Any]) -> np.ndarray:
        """Outputs for hashable inputs ``keys``: each distinct key not cached is predicted
        once, in calls of at most ``batch_size``."""
        self.requested += len(keys)
        n_out = len(self.outputs)
        index: dict[Any, int] = {}
        inverse = np.empty(len(keys), dtype=np.int64)
        for i, key in enumerate(keys):
            inverse[i] = index.setdefault(key, len(index))
        distinct = list(index)
        out = np.empty((len(distinct), n_out), dtype=np.float64)
        missing = []
        for j, key in enumerate(distinct):
            hit = self._cache.get(key)
            if hit is None:
                missing.append(j)
            else:
                out[j] = hit
        for start in range(0, len(missing), self.batch_size):
            part = missing[start:start + self.batch_size]
            out[part] = self._predict(self.to_instances([distinct[j] for j in part]))
        return out[inverse]

    def prefetch(self, keys: Sequence[Any]) -> None:
        """Predict ``keys`` now (batched) and keep their outputs for later calls."""
        fresh = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if fresh:
            values = self.predict_keys(fresh)
            self._cache.update(zip(fresh, values, strict=True))

    def clear_cache(self) -> None:
        """Forget prefetched outputs."""
        self._cache.clear()

    def probe(self, keys: Sequence[Any]) -> np.ndarray:
        """Run the model on ``keys`` (a few records): a ValidationError if it gives no
        probabilities, the model's own error (as a ValidationError naming the model) if it
        fails."""
        try:
            return self.predict_keys(list(keys))
        except ValidationError:
            raise
        except Exception as exc:
            raise ValidationError(f"model {self.name} failed on a probe of {len(keys)} "
                                  f"record(s): {type(exc).__name__}: {exc}") from None


class TextFunction(ModelFunction):
    """A :class:`ModelFunction` over strings (what shap's text masker produces)."""

    def __call__(self, masked: Any) -> np.ndarray:
        return self.predict_keys([str(s) for s in np.asarray(masked).reshape(-1)])


class TabularFunction(ModelFunction):
    """A :class:`ModelFunction` over rows of a 2-D array (what Kernel SHAP produces); rows go
    to the model as lists of Python values."""

    def __init__(self, model: LoadedModel, name: str, **kwargs: Any) -> None:
        kwargs.setdefault("to_instances", lambda keys: [list(k) for k in keys])
        super().__init__(model, name, **kwargs)

    def __call__(self, rows: Any) -> np.ndarray:
        array = np.asarray(rows)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        return self.predict_keys([tuple(r) for r in array.tolist()])
