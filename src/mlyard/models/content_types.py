"""The content types mlyard reads and writes, defined once.

Endpoints (:mod:`mlyard.serving.codec`), SageMaker-style inference handlers
(:mod:`mlyard.models.handler`), batch transform, the predictions reader
(:mod:`mlyard.models.predictions`) and the CLI's choices all name formats with these
constants, and compare ``Content-Type``/``Accept`` values by their :func:`media_type`. The
module sits in :mod:`mlyard.models`, low in the layering (models are imported by evaluation,
serving and batch transform), so every user imports it without going up the layers.
"""

from __future__ import annotations

from functools import lru_cache

JSON = "application/json"
"""JSON: one document (``{"instances": [...]}``, a list, or a single value)."""
JSONLINES = "application/jsonlines"
"""JSON Lines: one JSON value a line (SageMaker's name for it)."""
CSV = "text/csv"
"""CSV rows (RFC 4180 quoting)."""
TEXT = "text/plain"
"""Plain text, one record a line."""
NPY = "application/x-npy"
"""A NumPy ``.npy`` array (SageMaker's PyTorch inference handler)."""

JSONLINES_ALIASES: frozenset[str] = frozenset({
    JSONLINES, "application/x-jsonlines", "application/jsonl", "application/x-ndjson",
    "application/ndjson",
})
"""Media types read as JSON Lines."""

ANY: frozenset[str] = frozenset({"", "*", "*/*", "application/*"})
"""``Accept`` values (and an empty ``Content-Type``) that leave the choice to the server,
which then picks :data:`JSON`."""

TRANSFORM_INPUT_TYPES: tuple[str, ...] = (CSV, JSONLINES, TEXT)
"""Input formats of batch transform."""
TRANSFORM_OUTPUT_TYPES: tuple[str, ...] = (JSONLINES, CSV)
"""Output formats of batch transform (the first is the default)."""


@lru_cache(maxsize=256)
def media_type(header: str) -> str:
    """The bare, lower-cased media type of a ``Content-Type`` or ``Accept`` item, parameters
    dropped: ``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return header.partition(";")[0].strip().lower()


def is_json(content_type: str) -> bool:
    """Whether ``content_type`` names JSON (``application/json``, ``+json`` suffixes)."""
    kind = media_type(content_type)
    return kind in (JSON, "application/x-json") or kind.endswith("+json")


def is_jsonlines(content_type: str) -> bool:
    """Whether ``content_type`` names JSON Lines (any of :data:`JSONLINES_ALIASES`)."""
    return media_type(content_type) in JSONLINES_ALIASES
