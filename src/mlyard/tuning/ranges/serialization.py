"""Ranges as JSON: :func:`ranges_to_json` and its inverse :func:`ranges_from_json` (how tuning
job specs store them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from mlyard.errors import ValidationError
from mlyard.tuning.ranges.models import RANGE_ADAPTER, ParameterRange, pydantic_problems


def ranges_to_json(ranges: Mapping[str, ParameterRange]) -> dict[str, dict[str, Any]]:
    """Ranges as JSON-ready dicts (``{"type": "Integer", "min_value": 1, ...}``)."""
    return {name: RANGE_ADAPTER.dump_python(rng, mode="json") for name, rng in ranges.items()}


def ranges_from_json(data: Mapping[str, Any]) -> dict[str, ParameterRange]:
    """Read back :func:`ranges_to_json`'s output; :class:`ValidationError` names a bad entry."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"hyperparameter ranges must be an object, got {type(data).__name__}")
    out: dict[str, ParameterRange] = {}
    for name, raw in data.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"invalid hyperparameter range name {name!r}")
        try:
            out[name] = RANGE_ADAPTER.validate_python(raw)
        except pydantic.ValidationError as exc:
            raise ValidationError(
                f"invalid range for {name}: {pydantic_problems(exc)}"
            ) from None
    return out
