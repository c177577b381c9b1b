"""A training script that writes its own hostile ``mlyard-model.json`` (the manifest names
``site:addsitedir`` as loader and ships a ``.pth`` payload, yet claims flavor
``blazingtext``): the job fails naming the refusal and no model is registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.specs import Channel
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, NotFoundError
from mlyard.training.spec import TrainingJobSpec

SCRIPT = """
import json, os, pathlib
model = pathlib.Path(os.environ["SM_MODEL_DIR"])
(model / "mlyard-model.json").write_text(json.dumps(
    {{"flavor": "blazingtext", "loader": "site:addsitedir", "labels": ["a", "b"]}}))
(model / "payload.pth").write_text(
    "import pathlib; pathlib.Path({marker!r}).write_text('pwned')\\n")
"""


def test_a_script_model_with_a_foreign_loader_is_not_registered(ws: Workspace,
                                                                 tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    (tmp_path / "train.py").write_text(SCRIPT.format(marker=str(marker)))
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("a,b\n")
    spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                           channels=[Channel(name="train", uri=str(data))])
    submit_job(ws, spec, "evil-script")
    with pytest.raises(JobFailedError):
        wait_for_job(ws, "evil-script", timeout=120)
    reason = ws.store.get_job("evil-script").failure_reason or ""
    assert "'site:addsitedir' is not the loader of flavor 'blazingtext'" in reason, reason
    with pytest.raises(NotFoundError):
        ws.store.get_model("evil-script")
    assert not marker.exists()
