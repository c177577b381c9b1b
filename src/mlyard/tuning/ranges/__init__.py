"""Hyperparameter ranges of a tuning job, in SageMaker's vocabulary.

A tuning job searches some hyperparameters over *ranges* and keeps the others static:

* :class:`ContinuousParameter` -- a real interval with a scaling (``Auto``, ``Linear``,
  ``Logarithmic``, ``ReverseLogarithmic``);
* :class:`IntegerParameter` -- an inclusive integer interval (``Auto``, ``Linear``,
  ``Logarithmic``);
* :class:`CategoricalParameter` -- a list of values (strings, numbers or booleans).

:data:`ParameterRange` is their union, told apart by ``type`` ("Continuous", "Integer",
"Categorical"), so a range stores as JSON and reads back (:func:`ranges_to_json`,
:func:`ranges_from_json`).

The package's modules: :mod:`~mlyard.tuning.ranges.models` (the range types),
:mod:`~mlyard.tuning.ranges.text` (the CLI form ``NAME=SPEC``: :func:`parse_range`,
:func:`parse_value`), :mod:`~mlyard.tuning.ranges.declared` (an algorithm's declared default
ranges, :func:`default_ranges`, and the check against its declarations,
:func:`validate_ranges`), :mod:`~mlyard.tuning.ranges.search` (the Optuna search space:
:func:`to_distributions`, :func:`decode`, :func:`encode`, :func:`grid_space`; scaling, see
there) and :mod:`~mlyard.tuning.ranges.serialization` (JSON). Everything public is exported
here: ``from mlyard.tuning.ranges import ParameterRange, parse_range, ...``.
"""

from mlyard.tuning.ranges.declared import default_ranges, validate_ranges
from mlyard.tuning.ranges.models import (
    CategoricalParameter,
    CategoricalValue,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from mlyard.tuning.ranges.search import (
    AUTO_LOG_RATIO,
    MAX_GRID_SIZE,
    contains,
    decode,
    encode,
    grid_size,
    grid_space,
    resolved_scaling,
    to_distributions,
)
from mlyard.tuning.ranges.serialization import ranges_from_json, ranges_to_json
from mlyard.tuning.ranges.text import parse_range, parse_value

__all__ = [
    "AUTO_LOG_RATIO",
    "MAX_GRID_SIZE",
    "CategoricalParameter",
    "CategoricalValue",
    "ContinuousParameter",
    "IntegerParameter",
    "ParameterRange",
    "contains",
    "decode",
    "default_ranges",
    "encode",
    "grid_size",
    "grid_space",
    "parse_range",
    "parse_value",
    "ranges_from_json",
    "ranges_to_json",
    "resolved_scaling",
    "to_distributions",
    "validate_ranges",
]
