"""SageMaker's PyTorch inference handler (``inference.py``) for script-trained models:
training job → handler manifest → in-process, batch transform and endpoint serving."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mlyard.config import Settings  # noqa: E402
from mlyard.core.jobs import submit_job, wait_for_job  # noqa: E402
from mlyard.core.specs import Channel  # noqa: E402
from mlyard.core.workspace import Workspace  # noqa: E402
from mlyard.errors import ModelError, NotAcceptable, UnsupportedMediaType  # noqa: E402
from mlyard.models import load_model, read_manifest, write_manifest  # noqa: E402
from mlyard.models.handler import HandlerModel, handler_manifest  # noqa: E402
from mlyard.sdk.session import set_default_workspace  # noqa: E402
from mlyard.training.spec import TrainingJobSpec  # noqa: E402

TRUE_W = [1.0, -2.0, 0.5]
TRUE_B = 0.3

TRAIN_SCRIPT = """
import argparse, os
import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
args = parser.parse_args()

data = np.loadtxt(os.path.join(args.train, "train.csv"), delimiter=",", dtype=np.float32)
x, y = torch.from_numpy(data[:, :3]), torch.from_numpy(data[:, 3:])
torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
for epoch in range(args.epochs):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
print(f"final loss={loss.item():.6f}", flush=True)
torch.save(model.state_dict(), os.path.join(args.model_dir, "model.pth"))
"""

INFERENCE_SCRIPT = """
import json, os
import torch


def model_fn(model_dir):
    model = torch.nn.Linear(3, 1)
    model.load_state_dict(torch.load(os.path.join(model_dir, "model.pth")))
    model.eval()
    return model


def input_fn(request_body, request_content_type):
    assert request_content_type.startswith("application/json"), request_content_type
    data = json.loads(request_body)
    if isinstance(data, dict):
        data = data["inputs"]
    x = torch.tensor(data, dtype=torch.float32)
    return x.unsqueeze(0) if x.ndim == 1 else x


def predict_fn(input_data, model):
    if input_data.shape[-1] != 3:
        raise ValueError(f"expected 3 features, got {input_data.shape[-1]}")
    with torch.no_grad():
        return model(input_data)


def output_fn(prediction, accept):
    return json.dumps({"predictions": prediction.squeeze(-1).tolist()}), "application/json"
"""

BATCH = [[0.5, 0.1, -1.0], [1.0, 2.0, 3.0], [-1.0, 0.0, 2.0]]


@dataclass
class Trained:
    ws: Workspace
    settings: Settings
    name: str
    model_dir: Path
    tmp: Path

    def expected(self, rows: list[list[float]]) -> list[float]:
        linear = torch.nn.Linear(3, 1)
        linear.load_state_dict(torch.load(self.model_dir / "model.pth"))
        with torch.no_grad():
            return [float(v) for v in linear(torch.tensor(rows)).squeeze(-1)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    tmp = tmp_path_factory.mktemp("handler")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLYARD_HOME", str(tmp / "ws"))
        for var in ("MLYARD_DB_URL", "MLYARD_ARTIFACT_ROOT", "MLYARD_EXECUTOR"):
            mp.delenv(var, raising=False)
        settings = Settings.from_env()
        ws = Workspace(settings)
        set_default_workspace(ws)
        src = tmp / "src"
        src.mkdir()
        (src / "train.py").write_text(TRAIN_SCRIPT)
        (src / "inference.py").write_text(INFERENCE_SCRIPT)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(200, 3))
        y = x @ np.array(TRUE_W) + TRUE_B
        np.savetxt(tmp / "train.csv", np.column_stack([x, y]), delimiter=",")
        spec = TrainingJobSpec(entry_point="train.py", source_dir=str(src),
                               hyperparameters={"epochs": 300, "lr": 0.1},
                               channels=[Channel(name="train", uri=str(tmp / "train.csv"))])
        submit_job(ws, spec, "torch-linear")
        rec = wait_for_job(ws, "torch-linear", timeout=120)
        model_dir = ws.artifacts.local_path(rec.outputs["model"])
        assert model_dir is not None
        try:
            yield Trained(ws, settings, "torch-linear", model_dir, tmp)
        finally:
            set_default_workspace(None)
            ws.close()


def test_training_registers_handler_model(trained: Trained) -> None:
    assert trained.ws.store.get_model(trained.name).flavor == "pytorch-handler"
    assert (trained.model_dir / "model.pth").is_file()
    assert (trained.model_dir / "code" / "inference.py").read_text() == INFERENCE_SCRIPT
    manifest = read_manifest(trained.model_dir)
    assert manifest.loader == "mlyard.models.handler:load_model"


def test_invoke_raw_runs_the_handler_chain(trained: Trained) -> None:
    model = load_model(trained.model_dir)
    assert isinstance(model, HandlerModel)
    body, ctype = model.invoke_raw(json.dumps({"inputs": BATCH}).encode(),
                                   "application/json", "*/*")
    assert ctype == "application/json"
    preds = json.loads(body)["predictions"]
    assert preds == pytest.approx(trained.expected(BATCH), abs=1e-5)
    truth = [float(np.dot(TRUE_W, row) + TRUE_B) for row in BATCH]
    assert preds == pytest.approx(truth, abs=0.05)  # the training job really learned
    assert model.predict([BATCH[0]]) == [{"predictions": pytest.approx(preds[:1])}]
    with pytest.raises(ModelError, match="predict_fn raised ValueError: expected 3 features"):
        model.invoke_raw(b'{"inputs": [[1, 2]]}', "application/json", "application/json")


def test_batch_transform(trained: Trained) -> None:
    from mlyard import Model

    data = trained.tmp / "batch" / "rows.jsonl"
    data.parent.mkdir()
    data.write_text("".join(json.dumps(row) + "\n" for row in BATCH))
    out_dir = trained.tmp / "batch-out"
    job = Model(trained.name).transformer(str(out_dir)).transform(data)
    assert job.record.status.value == "Completed"
    lines = (out_dir / "rows.jsonl.out").read_text().splitlines()
    got = [json.loads(line)["predictions"][0] for line in lines]
    assert got == pytest.approx(trained.expected(BATCH), abs=1e-5)


def test_endpoint_serves_the_handler(trained: Trained) -> None:
    from mlyard.sdk.endpoints import wait_for_endpoint
    from mlyard.serving.client import EndpointsClient

    settings = trained.settings
    info = settings.home / "server.json"
    info.unlink(missing_ok=True)
    with open(settings.home / "server-handler.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "mlyard", "server", "--port", "0"],
                                env={**os.environ, **settings.child_env()}, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not info.exists():
            assert proc.poll() is None, "server exited at start"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        url = json.loads(info.read_text())["url"]
        client = EndpointsClient(url)
        try:
            client.create_endpoint_config({"EndpointConfigName": "torch-cfg",
                                           "ProductionVariants": [{
                                               "VariantName": "A", "ModelName": trained.name,
                                               "InitialInstanceCount": 1}]})
            client.create_endpoint("torch-ep", "torch-cfg")
            assert wait_for_endpoint(client, "torch-ep", timeout=120)["EndpointStatus"] == \
                "InService"
            body, headers = client.invoke("torch-ep", {"inputs": BATCH})
            assert headers["content-type"] == "application/json"
            assert json.loads(body)["predictions"] == pytest.approx(trained.expected(BATCH),
                                                                    abs=1e-5)
            r = httpx.post(f"{url}/endpoints/torch-ep/invocations",
                           content=b'{"inputs": [[1.0, 2.0]]}',
                           headers={"Content-Type": "application/json"}, timeout=30)
            assert r.status_code == 424
            assert r.json()["ErrorCode"] == "ModelError"
            assert "expected 3 features, got 2" in r.json()["Message"]
            body, _ = client.invoke("torch-ep", {"inputs": BATCH[:1]})  # still serving
            assert len(json.loads(body)["predictions"]) == 1
        finally:
            client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_defaults_serve_a_torchscript_model(tmp_path: Path) -> None:
    """No inference.py: SageMaker's default model_fn/input_fn/predict_fn/output_fn."""
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[2.0, -1.0]]))
        linear.bias.fill_(0.5)
    torch.jit.script(linear).save(str(tmp_path / "model.pt"))
    write_manifest(tmp_path, handler_manifest())
    model = load_model(tmp_path)
    body, ctype = model.invoke_raw(b"[[1, 1], [0, 2]]", "application/json", "")
    assert ctype == "application/json" and json.loads(body) == [[1.5], [-1.5]]
    body, ctype = model.invoke_raw(b"1,1\n0,2\n", "text/csv", "text/csv")
    assert ctype == "text/csv" and body.decode().split() == ["1.5", "-1.5"]
    with pytest.raises(UnsupportedMediaType, match="'application/xml' is not supported"):
        model.invoke_raw(b"x", "application/xml", "application/json")
    with pytest.raises(NotAcceptable, match="accept 'image/png' names no supported type"):
        model.invoke_raw(b"[[1, 1]]", "application/json", "image/png")
    with pytest.raises(ModelError, match="predict_fn raised"):
        model.invoke_raw(b"[[1, 1, 1]]", "application/json", "application/json")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(textwrap.dedent("""
        def transform_fn(model, body, content_type, accept):
            return b"n=" + str(len(body)).encode(), "text/plain"
    """))
    body, ctype = load_model(tmp_path).invoke_raw(b"[1]", "application/json", "*/*")
    assert (body, ctype) == (b"n=3", "text/plain")
