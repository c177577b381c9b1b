"""Loading a model directory (:mod:`mlyard.models.base`): the manifest names a flavor, the
flavor names the loader; a hostile manifest runs nothing.

The attack these tests reproduce: a manifest whose ``loader`` was ``site:addsitedir`` made
:func:`load_model` call ``site.addsitedir(model_dir)``, which executes the ``import`` lines
of every ``.pth`` file in the model directory, while the model listed as ``blazingtext``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.algorithms import TrainingContext, get_algorithm
from mlyard.errors import ValidationError
from mlyard.models import MANIFEST_NAME, ModelLoadError, load_model, read_manifest
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.models import save_test_model

FAST = {"epochs": 2, "vector_dim": 8, "buckets": 1000, "min_count": 1, "backend": "cpu",
        "threads": 1}


def hostile_model(folder: Path, marker: Path, *, flavor: str = "blazingtext",
                  loader: str = "site:addsitedir") -> Path:
    """A model directory whose manifest asks for ``site.addsitedir(model_dir)`` and whose
    ``.pth`` file writes ``marker`` when it runs."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_NAME).write_text(json.dumps(
        {"format_version": 1, "flavor": flavor, "loader": loader, "task": "classification",
         "labels": ["a", "b"]}))
    (folder / "payload.pth").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).write_text('pwned')\n")
    return folder


def test_site_addsitedir_payload_is_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    model_dir = hostile_model(tmp_path / "model", marker)
    with pytest.raises(ModelLoadError, match="'site:addsitedir' is not the loader of flavor "
                                             "'blazingtext'"):
        load_model(model_dir)
    assert not marker.exists()
    # the same refusal from reading the manifest alone (what registering and serving do)
    with pytest.raises(ModelLoadError, match="site:addsitedir"):
        read_manifest(model_dir)
    assert not marker.exists()


def test_model_load_error_is_a_client_error() -> None:
    from mlyard.errors import http_status

    assert http_status(ModelLoadError("x")) == 400
    assert isinstance(ModelLoadError("x"), ValidationError)


@pytest.mark.parametrize("loader", ["site:addsitedir", "os:system", "mlyard.models.handler:"
                                    "load_model", "mlyard.algorithms.bert:load_model", ""])
def test_a_loader_not_registered_for_the_flavor_is_refused(tmp_path: Path, loader: str) -> None:
    marker = tmp_path / "marker"
    model_dir = hostile_model(tmp_path / "model", marker, loader=loader)
    with pytest.raises(ModelLoadError, match="is not the loader of flavor 'blazingtext'"):
        load_model(model_dir)
    assert not marker.exists()


def test_unknown_flavor_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    model_dir = hostile_model(tmp_path / "model", marker, flavor="pickle-jar")
    with pytest.raises(ModelLoadError, match=r"unknown model flavor 'pickle-jar'.*blazingtext"):
        load_model(model_dir)
    assert not marker.exists()


LOADERS = {"test": "mlyard.testing.models:load_test_model",
           "blazingtext": "mlyard.algorithms.blazingtext:load_model"}


@settings(max_examples=60, deadline=None)
@given(flavor=st.one_of(st.sampled_from(sorted(LOADERS)), st.text(max_size=30)),
       loader=st.one_of(st.none(), st.sampled_from(sorted(LOADERS.values())),
                        st.text(max_size=60)))
def test_any_manifest_either_loads_through_its_flavor_or_is_refused(
        tmp_path_factory: pytest.TempPathFactory, flavor: str, loader: str | None) -> None:
    model_dir = tmp_path_factory.mktemp("m")
    body: dict[str, object] = {"flavor": flavor, "labels": ["echo"],
                               "metadata": {"kind": "echo"}}
    if loader is not None:
        body["loader"] = loader
    (model_dir / MANIFEST_NAME).write_text(json.dumps(body))
    if flavor not in LOADERS or loader not in (None, LOADERS[flavor]):
        with pytest.raises(ModelLoadError):
            load_model(model_dir)
    elif flavor == "test":
        assert load_model(model_dir).predict(["x"]) == [{"label": ["echo"], "prob": [1.0]}]
    else:  # blazingtext's own loader runs and finds no arrays: not a trust refusal
        with pytest.raises(ValidationError, match="incomplete blazingtext model") as exc:
            load_model(model_dir)
        assert not isinstance(exc.value, ModelLoadError)


def test_a_manifest_without_loader_loads_through_its_flavor(tmp_path: Path) -> None:
    model_dir = save_test_model(tmp_path / "m")
    body = json.loads((model_dir / MANIFEST_NAME).read_text())
    del body["loader"]
    (model_dir / MANIFEST_NAME).write_text(json.dumps(body))
    assert load_model(model_dir).labels == ["echo"]


@pytest.fixture(scope="module")
def blazingtext_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small blazingtext model trained the way training jobs train it."""
    tmp = tmp_path_factory.mktemp("bt")
    algo = get_algorithm("blazingtext")
    data = make_text_dataset(tmp / "train.csv", 120, seed=3)
    ctx = TrainingContext(channels={"train": data}, model_dir=tmp / "model",
                          output_dir=tmp / "out", log=lambda _m: None)
    algo.train(ctx, algo.resolve_hyperparameters(FAST))
    return ctx.model_dir


def test_models_written_by_the_trainers_still_load(blazingtext_dir: Path,
                                                   tmp_path: Path) -> None:
    """A blazingtext model as the trainer writes it (loader string included), and the same
    manifest as mlyard 43fe8a7 wrote it, load through the flavor's loader."""
    model_dir = tmp_path / "model"
    shutil.copytree(blazingtext_dir, model_dir)
    written = json.loads((model_dir / MANIFEST_NAME).read_text())
    assert (written["flavor"], written["loader"]) == (
        "blazingtext", "mlyard.algorithms.blazingtext:load_model")
    first = load_model(model_dir).predict(["sports game score"])
    legacy = {key: written[key] for key in ("format_version", "flavor", "loader", "task",
                                            "labels", "input_type", "created_at", "metadata")}
    (model_dir / MANIFEST_NAME).write_text(json.dumps(legacy, indent=2))
    assert load_model(model_dir).predict(["sports game score"]) == first


def test_blazingtext_arrays_are_never_unpickled(blazingtext_dir: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(blazingtext_dir, model_dir)
    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (exec, (f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')",))

    np.save(model_dir / "output.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    with pytest.raises(ValidationError, match=r"incomplete blazingtext model.*allow_pickle"):
        load_model(model_dir)
    assert not marker.exists()


def test_corrupt_manifest_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ValidationError, match="corrupt model manifest"):
        load_model(tmp_path)
