"""The endpoint manager refuses a model whose manifest mlyard will not load, before any
replica starts (a 400 at the HTTP layer), so a hostile model directory runs nothing in the
server or its replicas."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError, http_status
from mlyard.serving.manager import EndpointManager
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.store import EndpointStore
from mlyard.testing.models import save_test_model
from tests.unit.models.test_base import hostile_model


def _config(model: str) -> dict[str, object]:
    return {"EndpointConfigName": f"{model}-cfg",
            "ProductionVariants": [{"VariantName": "A", "ModelName": model}]}


def test_endpoint_config_with_a_hostile_model_is_a_400(ws: Workspace, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    ws.store.create_model("evil", hostile_model(tmp_path / "evil", marker).as_uri(),
                          "blazingtext")
    ws.store.create_model("echo", save_test_model(tmp_path / "echo").as_uri(), "test")
    manager = EndpointManager(ws, MetricsRecorder())
    with pytest.raises(ValidationError, match="'site:addsitedir' is not the loader") as exc:
        manager.create_endpoint_config(_config("evil"))
    assert http_status(exc.value) == 400
    assert not marker.exists()
    with pytest.raises(NotFoundError):  # nothing was stored
        EndpointStore.of(ws.store).get_endpoint_config("evil-cfg")
    assert manager.create_endpoint_config(_config("echo")).name == "echo-cfg"
