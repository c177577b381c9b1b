"""Model flavors: the only way a model directory gets to choose what code loads it.

A model directory is data that may come from anywhere (a script training job writes its own
``mlyard-model.json``; a folder can be copied in from another machine). Its manifest used to
name any importable callable as its loader, so ``"loader": "site:addsitedir"`` plus a
``.pth`` file ran arbitrary code in every process that loaded the model. Now the manifest
names a *flavor*, and this registry (code that is installed, never read from the model
directory) maps the flavor to its loader. A manifest naming an unknown flavor, or a
``loader`` that is not its flavor's registered loader, is refused with
:class:`ModelLoadError` before anything is imported.

Where flavors come from, in order (an earlier source wins a name):

1. :data:`BUILTIN_FLAVORS`, the flavors mlyard's own trainers write;
2. the ``mlyard.model_flavors`` entry-point group of installed packages
   (``name = "package.module:load_function"``), as algorithms and executors are found;
3. ``MLYARD_MODEL_FLAVORS``: ``name=package.module:load_function`` pairs separated by commas,
   for code on the path that is not packaged (tests' fake models).

Installed packages and the process environment belong to the workspace owner, who is trusted;
the model directory is not. Only the ``pytorch-handler`` flavor runs code that comes with the
model (SageMaker's ``code/inference.py``), and ``mlyard models describe`` says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from mlyard.errors import ValidationError

#: Entry-point group through which installed packages add flavors.
ENTRY_POINT_GROUP = "mlyard.model_flavors"
#: Environment variable listing extra flavors (``name=module:function,...``).
ENV_VAR = "MLYARD_MODEL_FLAVORS"


class ModelLoadError(ValidationError):
    """A model directory's manifest asks for something mlyard refuses to run (an unknown
    flavor, or a loader that is not its flavor's). A client error: HTTP 400, CLI exit 2."""


@dataclass(frozen=True)
class Flavor:
    """One kind of saved model and the loader that reads it.

    ``reads`` says, for people, which files the loader reads and how; ``user_code`` is the
    path (relative to the model directory) of code that comes with the model and that the
    loader runs, ``None`` when it runs none; ``source`` is where the flavor was registered.
    """

    name: str
    loader: str
    reads: str
    user_code: str | None = None
    source: str = "built-in"


BUILTIN_FLAVORS: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (
        Flavor("blazingtext", "mlyard.algorithms.blazingtext:load_model",
               "mlyard-model.json, vocab.json (JSON) and input.npy, output.npy, bucket_ids.npy "
               "(numpy arrays, pickle refused)"),
        Flavor("bert", "mlyard.algorithms.bert:load_model",
               "mlyard-model.json and hf/: config and tokenizer files (JSON, vocabulary) and "
               "weights from model.safetensors only (no pickle, no remote code)"),
        Flavor("pytorch-handler", "mlyard.models.handler:load_model",
               "code/inference.py (imported, its model_fn/input_fn/predict_fn/output_fn run "
               "in the serving process) or, without a model_fn, a TorchScript model.pt / "
               "model.pth through torch.jit.load",
               user_code="code/inference.py"),
        Flavor("test", "mlyard.testing.models:load_test_model",
               "mlyard-model.json only (mlyard's stand-in models for serving tests)"),
    )
}


def _env_flavors() -> dict[str, Flavor]:
    raw = os.environ.get(ENV_VAR, "").strip()
    found: dict[str, Flavor] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, loader = (s.strip() for s in item.partition("="))
        module, colon, attr = loader.partition(":")
        if not (sep and name and module and colon and attr):
            raise ValidationError(f"{ENV_VAR}: {item!r} is not name=package.module:function")
        found.setdefault(name, Flavor(name, loader, f"whatever {loader} reads",
                                      source=ENV_VAR))
    return found


def _entry_point_flavors() -> dict[str, Flavor]:
    return {ep.name: Flavor(ep.name, ep.value, f"whatever {ep.value} reads",
                            source=f"entry point {ENTRY_POINT_GROUP} of an installed package")
            for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_flavors() -> dict[str, Flavor]:
    """Every flavor mlyard can load, by name (built-ins, then entry points, then
    ``MLYARD_MODEL_FLAVORS``; an earlier source keeps a name)."""
    found = dict(BUILTIN_FLAVORS)
    for extra in (_entry_point_flavors(), _env_flavors()):
        for name, flavor in extra.items():
            found.setdefault(name, flavor)
    return found


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``; :class:`ModelLoadError` naming the known ones if none."""
    flavor = BUILTIN_FLAVORS.get(name)  # the common case reads no package metadata
    if flavor is not None:
        return flavor
    known = available_flavors()
    if name in known:
        return known[name]
    raise ModelLoadError(
        f"unknown model flavor {name!r}; mlyard loads only registered flavors "
        f"({', '.join(sorted(known))}; more through the {ENTRY_POINT_GROUP} entry-point group "
        f"or {ENV_VAR})")


def check_flavor(name: str, loader: str | None, where: str | Path) -> Flavor:
    """The flavor a manifest names, after checking its ``loader`` (if the manifest has one)
    is that flavor's registered loader. Imports nothing; refuses with
    :class:`ModelLoadError` naming ``where`` (the model directory)."""
    try:
        flavor = get_flavor(name)
    except ModelLoadError as exc:
        raise ModelLoadError(f"{where}: {exc.message}") from None
    if loader is not None and loader != flavor.loader:
        raise ModelLoadError(
            f"{where}: manifest loader {loader!r} is not the loader of flavor {name!r} "
            f"({flavor.loader}); a model's manifest names its flavor and mlyard picks the "
            "loader, it never imports one a model directory names")
    return flavor


def describe_loading(flavor: Flavor, model_dir: Path | None = None) -> str:
    """One line for people: the flavor, whether loading runs code that comes with the model,
    and what it reads. With ``model_dir``, user code the flavor would run is checked for."""
    if flavor.user_code is not None:
        if model_dir is None or (model_dir / flavor.user_code).is_file():
            return f"flavor: {flavor.name} - runs user code: {flavor.user_code}"
        return (f"flavor: {flavor.name} - no user code ({flavor.user_code} absent); "
                f"reads {flavor.reads}")
    if flavor.source != "built-in":
        return (f"flavor: {flavor.name} - plug-in loader {flavor.loader} (from {flavor.source}) "
                "runs; no code from the model directory")
    return f"flavor: {flavor.name} - no user code; reads {flavor.reads}"
