"""The text form of ranges, as written on the command line: ``NAME=MIN:MAX[:SCALING][:TYPE]``
or ``NAME=[A,B,...]`` (:func:`parse_range`), and of one categorical value
(:func:`parse_value`, also used to read hyperparameter values stored as strings)."""

from __future__ import annotations

import math
import re
from typing import Any

from mlyard.errors import ValidationError
from mlyard.tuning.ranges.models import (
    CategoricalParameter,
    CategoricalValue,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
    build_range,
)

_SCALING_WORDS: dict[str, str] = {
    "auto": "Auto",
    "linear": "Linear",
    "log": "Logarithmic",
    "logarithmic": "Logarithmic",
    "reverselog": "ReverseLogarithmic",
    "reverselogarithmic": "ReverseLogarithmic",
}
_TYPE_WORDS: dict[str, str] = {
    "int": "Integer",
    "integer": "Integer",
    "float": "Continuous",
    "continuous": "Continuous",
}
_INT_RE = re.compile(r"^[+-]?\d+$")


def parse_value(item: str) -> CategoricalValue:
    """One categorical item as written on the command line.

    An integer (``100``), else a finite float (``0.5``, ``1e-3``), else ``true``/``false``
    (any case), else the string itself; surrounding whitespace is dropped, and quotes
    (``'1'`` or ``"1"``) keep an item a string.
    """
    text = item.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _INT_RE.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _parse_number(text: str, whole: str) -> float | int:
    t = text.strip()
    if _INT_RE.match(t):
        return int(t)
    try:
        value = float(t)
    except ValueError:
        raise ValidationError(f"invalid range {whole!r}: {t!r} is not a number") from None
    if not math.isfinite(value):
        raise ValidationError(f"invalid range {whole!r}: bounds must be finite, got {t!r}")
    return value


def parse_range(text: str) -> tuple[str, ParameterRange]:
    """Parse the CLI form ``NAME=SPEC`` into ``(name, range)``.

    ``SPEC`` is either

    * ``MIN:MAX[:SCALING][:TYPE]`` -- scaling ``auto``, ``linear``, ``log``/``logarithmic``
      or ``reverselog``/``reverselogarithmic`` (any case); type ``int``/``integer`` or
      ``float``/``continuous``. Without a type, both ends written as integers (no ``.`` or
      exponent) give an :class:`IntegerParameter` (unless the scaling is reverse-log), else a
      :class:`ContinuousParameter`: ``learning_rate=0.01:1.0:log``, ``word_ngrams=1:3``,
      ``dropout=0:0.5``, ``epochs=1:20:float``;
    * ``[a,b,c]`` -- a :class:`CategoricalParameter`; each item is read by
      :func:`parse_value` (int, float, boolean, else string): ``vector_dim=[50,100,200]``.

    Raises :class:`ValidationError` naming ``text``.
    """
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name:
        raise ValidationError(
            f"invalid range {text!r}: expected NAME=MIN:MAX[:SCALING] or NAME=[A,B,...]"
        )
    where = f"invalid range {text!r}"
    if spec.startswith("[") or spec.endswith("]"):
        if not (spec.startswith("[") and spec.endswith("]")):
            raise ValidationError(f"{where}: a categorical range is written [A,B,...]")
        inner = spec[1:-1].strip()
        if not inner:
            raise ValidationError(f"{where}: a categorical range needs at least one value")
        items = [item.strip() for item in inner.split(",")]
        if any(not item for item in items):
            raise ValidationError(f"{where}: empty item in the list")
        values = [parse_value(i) for i in items]
        return name, build_range(CategoricalParameter, where, values=values)

    parts = [p.strip() for p in spec.split(":")]
    if not 2 <= len(parts) <= 4 or not parts[0] or not parts[1]:
        raise ValidationError(
            f"{where}: expected MIN:MAX[:SCALING][:TYPE] (e.g. 0.01:1.0:log) or [A,B,...]"
        )
    scaling: str | None = None
    kind: str | None = None
    for word in parts[2:]:
        key = word.lower()
        if key in _SCALING_WORDS:
            if scaling is not None:
                raise ValidationError(f"{where}: the scaling is given twice")
            scaling = _SCALING_WORDS[key]
        elif key in _TYPE_WORDS:
            if kind is not None:
                raise ValidationError(f"{where}: the type is given twice")
            kind = _TYPE_WORDS[key]
        else:
            raise ValidationError(
                f"{where}: {word!r} is neither a scaling ({', '.join(_SCALING_WORDS)}) "
                f"nor a type ({', '.join(_TYPE_WORDS)})"
            )
    lo, hi = _parse_number(parts[0], text), _parse_number(parts[1], text)
    if kind is None:
        both_int = isinstance(lo, int) and isinstance(hi, int)
        kind = "Integer" if both_int and scaling != "ReverseLogarithmic" else "Continuous"
    fields: dict[str, Any] = {} if scaling is None else {"scaling": scaling}
    if kind == "Integer":
        if scaling == "ReverseLogarithmic":
            raise ValidationError(
                f"{where}: ReverseLogarithmic scaling applies only to continuous ranges"
            )
        ends = []
        for end in (lo, hi):
            if isinstance(end, float) and not end.is_integer():
                raise ValidationError(f"{where}: {end!r} is not an integer")
            ends.append(int(end))
        return name, build_range(
            IntegerParameter, where, min_value=ends[0], max_value=ends[1], **fields
        )
    return name, build_range(
        ContinuousParameter, where, min_value=float(lo), max_value=float(hi), **fields
    )
