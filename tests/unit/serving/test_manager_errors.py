"""The endpoint manager's validation errors are one line naming the field (they reach CLI
users and HTTP clients as the error message), never pydantic's multi-line dump."""

from __future__ import annotations

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.serving.manager import EndpointManager
from mlyard.serving.metrics import MetricsRecorder


def test_a_bad_endpoint_config_is_one_line_naming_the_field(ws: Workspace) -> None:
    manager = EndpointManager(ws, MetricsRecorder())
    spec = {"EndpointConfigName": "cfg", "ProductionVariants": [
        {"VariantName": "A", "ModelName": "m", "InitialVariantWeight": -1}]}
    with pytest.raises(ValidationError) as info:
        manager.create_endpoint_config(spec)
    text = info.value.message
    assert "\n" not in text and "errors.pydantic.dev" not in text, text
    assert "ProductionVariants[0].InitialVariantWeight: must be >= 0.0, got -1" in text, text
