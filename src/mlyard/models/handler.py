"""SageMaker's PyTorch inference handler contract for models trained by user scripts.

A model directory in SageMaker's ``model.tar.gz`` layout may carry ``code/inference.py``
defining any of these functions (the ones it leaves out get SageMaker's defaults)::

    model_fn(model_dir)                              -> model       (called once, at load)
    input_fn(request_body, request_content_type)     -> input data
    predict_fn(input_data, model)                    -> prediction
    output_fn(prediction, accept)                    -> body, or (body, content_type)

or ``transform_fn(model, request_body, content_type, accept)`` in place of the last three.
As in SageMaker, ``request_body`` is a ``str`` for ``application/json`` and ``text/csv``
and ``bytes`` otherwise; an empty content type means JSON, an empty or ``*/*`` accept
means JSON.

Defaults (those of ``sagemaker-pytorch-inference-toolkit``):

* ``model_fn`` loads a TorchScript ``model.pt`` (or ``model.pth``) with ``torch.jit.load``.
* ``input_fn`` decodes JSON, CSV (``np.genfromtxt``) or NPY into a float32 tensor (NPY
  keeps its dtype); JSON that is no numeric array (strings, ragged lists, objects) is
  returned as the decoded value. Other content types are 415. Bodies are untrusted
  (:mod:`mlyard.models.payloads`): JSON nested too deeply and ``.npy`` headers whose shape
  does not match the bytes sent are 400, refused before parsing or allocating.
* ``predict_fn`` calls ``model(input_data)`` under ``torch.no_grad()`` (the model in eval
  mode, a tensor input moved to the model's device).
* ``output_fn`` turns a tensor into a list and encodes JSON, CSV or NPY (first supported
  type of ``accept``; else 406).

This is the one flavor that runs code coming with the model (``mlyard models describe``
says so): loading a ``pytorch-handler`` model imports its ``code/inference.py``, and a model
directory without this flavor in its manifest never gets here
(:mod:`mlyard.models.flavors`). The script is imported in isolation from its file (a private
module name, with ``model_dir/code`` on ``sys.path`` so it can import its helper modules).
An exception inside one of the functions becomes :class:`mlyard.errors.ModelError`
(HTTP 424) carrying its message; :class:`mlyard.errors.MlyardError` subclasses (415/406/400
of the defaults) pass through unchanged.

:class:`HandlerModel` serves raw payloads through :meth:`HandlerModel.invoke_raw` (what
endpoint replicas use for it) and the generic :meth:`HandlerModel.predict` for batch
transform: each instance becomes one JSON request and the JSON response its prediction.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import itertools
import json
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from mlyard.errors import (
    MlyardError,
    ModelError,
    NotAcceptable,
    UnsupportedMediaType,
    ValidationError,
)
from mlyard.models.base import MANIFEST_NAME, LoadedModel, ModelManifest, read_manifest
from mlyard.models.content_types import ANY, CSV, JSON, NPY, media_type
from mlyard.models.payloads import load_npy, loads_json

FLAVOR = "pytorch-handler"
LOADER = "mlyard.models.handler:load_model"
#: Where the handler script lives inside a model directory (SageMaker's layout).
SCRIPT = Path("code") / "inference.py"

#: Request types whose body reaches ``input_fn`` as ``str`` (as in SageMaker).
UTF8_TYPES = frozenset({JSON, CSV})

_import_lock = threading.Lock()
_import_count = itertools.count()


def handler_manifest(**metadata: Any) -> ModelManifest:
    """The manifest of a handler model directory."""
    return ModelManifest(flavor=FLAVOR, loader=LOADER, task="classification", labels=[],
                         input_type="json", metadata=dict(metadata))


def _import_script(path: Path) -> ModuleType:
    """Import ``path`` afresh as a private module (a name of its own per load, so two
    models' scripts never share state), its folder on ``sys.path`` for its imports."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    code_dir = str(path.parent.resolve())
    with _import_lock:
        name = f"_mlyard_handler_{digest}_{next(_import_count)}"
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValidationError(f"cannot import the inference script {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise ModelError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


# -- SageMaker's default handler functions ---------------------------------------------------
def default_model_fn(model_dir: str) -> Any:
    """Load a TorchScript ``model.pt`` (or ``model.pth``) from ``model_dir``."""
    import torch

    for name in ("model.pt", "model.pth"):
        path = Path(model_dir) / name
        if path.is_file():
            with warnings.catch_warnings():  # TorchScript is SageMaker's default format
                warnings.simplefilter("ignore", DeprecationWarning)
                return torch.jit.load(str(path), map_location="cpu")
    raise ValidationError(f"{SCRIPT} defines no model_fn and {model_dir} holds no TorchScript "
                          "model.pt")


def default_input_fn(request_body: Any, request_content_type: str) -> Any:
    """Decode JSON, CSV or NPY into a tensor (JSON that is no numeric array: the value)."""
    import numpy as np
    import torch

    ctype = media_type(request_content_type) or JSON
    if ctype == JSON:
        data = loads_json(request_body, what="request body")  # depth-limited, 400 on error
        try:
            array = np.asarray(data, dtype=np.float32)
        except (ValueError, TypeError):
            return data
        return torch.from_numpy(array)
    if ctype == CSV:
        text = request_body if isinstance(request_body, str) else request_body.decode()
        try:
            array = np.genfromtxt(io.StringIO(text), dtype=np.float32, delimiter=",")
        except ValueError as exc:
            raise ValidationError(f"request body is not numeric CSV: {exc}") from None
        return torch.from_numpy(np.atleast_1d(array))
    if ctype == NPY:
        # the header's shape must match the bytes sent: never allocates more than the body
        array = load_npy(bytes(request_body), what="request body")
        return torch.from_numpy(np.ascontiguousarray(array))
    raise UnsupportedMediaType(f"content type {request_content_type!r} is not supported; "
                               f"send {JSON}, {CSV} or {NPY}")


def default_predict_fn(input_data: Any, model: Any) -> Any:
    """``model(input_data)`` under ``torch.no_grad()``, in eval mode, on the model's device."""
    import torch

    if hasattr(model, "eval"):
        model.eval()
    if isinstance(input_data, torch.Tensor) and hasattr(model, "parameters"):
        param = next(iter(model.parameters()), None)
        if param is not None:
            input_data = input_data.to(param.device)
    with torch.no_grad():
        return model(input_data)


def _to_jsonable(value: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().tolist()
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    return value


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """Encode ``prediction`` as the first of JSON, CSV or NPY that ``accept`` allows."""
    import numpy as np

    data = _to_jsonable(prediction)
    for part in accept.split(","):
        ctype = media_type(part)
        if ctype in ANY or ctype == JSON:
            return json.dumps(data).encode(), JSON
        if ctype == CSV:
            out = io.StringIO()
            np.savetxt(out, np.atleast_1d(np.asarray(data)), delimiter=",", fmt="%s")
            return out.getvalue().encode(), CSV
        if ctype == NPY:
            buf = io.BytesIO()
            np.save(buf, np.asarray(data), allow_pickle=False)
            return buf.getvalue(), NPY
    raise NotAcceptable(f"accept {accept!r} names no supported type ({JSON}, {CSV}, {NPY})")


# -- the model -------------------------------------------------------------------------------
def _call(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Call a handler function; anything but an :class:`MlyardError` becomes ModelError."""
    try:
        return fn(*args)
    except MlyardError:
        raise
    except Exception as exc:
        raise ModelError(f"{name} raised {type(exc).__name__}: {exc}") from exc


class HandlerModel(LoadedModel):
    """A model served through a SageMaker-style ``inference.py`` (see the module docstring)."""

    def __init__(self, manifest: ModelManifest, model_dir: Path,
                 module: ModuleType | None) -> None:
        self.manifest = manifest
        self.model_dir = model_dir
        self.module = module

        def pick(name: str, default: Callable[..., Any]) -> Callable[..., Any]:
            fn = getattr(module, name, None) if module is not None else None
            return fn if callable(fn) else default

        self.model_fn = pick("model_fn", default_model_fn)
        self.input_fn = pick("input_fn", default_input_fn)
        self.predict_fn = pick("predict_fn", default_predict_fn)
        self.output_fn = pick("output_fn", default_output_fn)
        transform = getattr(module, "transform_fn", None) if module is not None else None
        self.transform_fn: Callable[..., Any] | None = transform if callable(transform) \
            else None
        self.model = _call("model_fn", self.model_fn, str(model_dir))

    def invoke_raw(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """Answer one request: ``input_fn`` → ``predict_fn`` → ``output_fn`` (or
        ``transform_fn``); returns ``(response body, response content type)``."""
        content_type = content_type.strip() or JSON
        accept = accept.strip()
        if accept in ANY and accept != "application/*":  # output_fn still sees application/*
            accept = JSON
        data: Any = body
        if media_type(content_type) in UTF8_TYPES:
            try:
                data = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError(f"request body is not UTF-8: {exc}") from None
        if self.transform_fn is not None:
            result = _call("transform_fn", self.transform_fn, self.model, data, content_type,
                           accept)
        else:
            inputs = _call("input_fn", self.input_fn, data, content_type)
            prediction = _call("predict_fn", self.predict_fn, inputs, self.model)
            result = _call("output_fn", self.output_fn, prediction, accept)
        out_type = accept
        if isinstance(result, tuple) and len(result) == 2:
            result, out_type = result[0], str(result[1])
        if isinstance(result, str):
            result = result.encode("utf-8")
        elif isinstance(result, bytearray | memoryview):
            result = bytes(result)
        elif not isinstance(result, bytes):
            try:
                result = json.dumps(_to_jsonable(result)).encode()
            except (TypeError, ValueError) as exc:
                raise ModelError(f"output_fn returned an unencodable "
                                 f"{type(result).__name__}: {exc}") from None
        return result, out_type

    def predict(self, instances: Sequence[Any], top_k: int = 1) -> list[dict[str, Any]]:
        """One JSON request per instance; a JSON object response is the prediction, any
        other JSON value ``v`` becomes ``{"prediction": v}`` (``top_k`` is ignored)."""
        out: list[dict[str, Any]] = []
        for instance in instances:
            body, _ = self.invoke_raw(json.dumps(instance).encode(), JSON, JSON)
            try:
                value = json.loads(body)
            except ValueError as exc:
                raise ModelError(f"the handler's response is not JSON: {exc}") from None
            out.append(value if isinstance(value, dict) else {"prediction": value})
        return out


def load_model(model_dir: str | Path) -> HandlerModel:
    """Load a handler model: import ``model_dir/code/inference.py`` (if any) and call its
    ``model_fn(model_dir)`` once."""
    model_dir = Path(model_dir).resolve()
    if (model_dir / MANIFEST_NAME).is_file():
        manifest = read_manifest(model_dir)
        if manifest.flavor != FLAVOR:
            raise ValidationError(f"{model_dir} holds a {manifest.flavor!r} model, not "
                                  f"{FLAVOR!r}; its code is not run")
    else:
        manifest = handler_manifest()
    script = model_dir / SCRIPT
    module = _import_script(script) if script.is_file() else None
    return HandlerModel(manifest, model_dir, module)
