"""Importing shap without its import-time warnings (shap's colour maps call matplotlib
methods that matplotlib marks as pending deprecation)."""

from __future__ import annotations

import warnings
from types import ModuleType


def import_shap() -> ModuleType:
    """The ``shap`` module, imported with its PendingDeprecationWarnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap
    return shap
