"""The flavor registry (:mod:`mlyard.models.flavors`): where loaders come from, what each
flavor says about the code it runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.errors import ValidationError
from mlyard.models import MANIFEST_NAME, ModelLoadError, describe_loading, get_flavor, load_model
from mlyard.models.flavors import BUILTIN_FLAVORS, ENV_VAR, available_flavors, check_flavor
from mlyard.testing.models import EchoModel


def load_reversed(model_dir: Path) -> EchoModel:
    """A plug-in loader for the tests below."""
    from mlyard.models import read_manifest

    return EchoModel(read_manifest(model_dir))


def test_builtin_flavors_are_the_ones_mlyard_writes() -> None:
    assert {"blazingtext", "bert", "pytorch-handler", "test"} <= set(BUILTIN_FLAVORS)
    assert get_flavor("blazingtext").loader == "mlyard.algorithms.blazingtext:load_model"
    assert get_flavor("bert").loader == "mlyard.algorithms.bert:load_model"
    assert get_flavor("pytorch-handler").loader == "mlyard.models.handler:load_model"
    # only the handler flavor runs code that comes with the model
    assert [f.name for f in BUILTIN_FLAVORS.values() if f.user_code] == ["pytorch-handler"]


def test_flavors_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, f" plug = {__name__}:load_reversed , blazingtext=os:system")
    assert get_flavor("plug").loader == f"{__name__}:load_reversed"
    assert get_flavor("plug").source == ENV_VAR
    # a plug-in never takes over a built-in flavor's name
    assert get_flavor("blazingtext").loader == "mlyard.algorithms.blazingtext:load_model"
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"flavor": "plug", "labels": ["echo"]}))
    assert load_model(tmp_path).labels == ["echo"]
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(ModelLoadError, match="unknown model flavor 'plug'"):
        load_model(tmp_path)


@pytest.mark.parametrize("value", ["plug", "plug=", "=a:b", "plug=module", "plug=module:"])
def test_a_malformed_environment_entry_names_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                          value: str) -> None:
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(ValidationError, match=f"{ENV_VAR}: .* is not name=package.module:"):
        available_flavors()


def test_check_flavor_names_the_model_and_the_registered_loader(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as exc:
        check_flavor("bert", "site:addsitedir", tmp_path)
    assert str(tmp_path) in exc.value.message
    assert "mlyard.algorithms.bert:load_model" in exc.value.message
    assert check_flavor("bert", None, tmp_path).name == "bert"


def test_describe_loading_says_plainly_whether_user_code_runs(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    handler = get_flavor("pytorch-handler")
    assert describe_loading(handler, tmp_path) == (
        "flavor: pytorch-handler - no user code (code/inference.py absent); reads "
        + handler.reads)
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("")
    assert describe_loading(handler, tmp_path) == (
        "flavor: pytorch-handler - runs user code: code/inference.py")
    line = describe_loading(get_flavor("blazingtext"), tmp_path)
    assert line.startswith("flavor: blazingtext - no user code; reads ")
    assert "pickle refused" in line
    monkeypatch.setenv(ENV_VAR, f"plug={__name__}:load_reversed")
    assert describe_loading(get_flavor("plug")) == (
        f"flavor: plug - plug-in loader {__name__}:load_reversed (from {ENV_VAR}) runs; "
        "no code from the model directory")


@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet=st.sampled_from("ab.:=, _\t"), max_size=40))
def test_any_environment_value_parses_or_is_refused_by_name(value: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_VAR, value)
        try:
            found = available_flavors()
        except ValidationError as exc:
            assert exc.message.startswith(f"{ENV_VAR}: ")
            return
    for name, flavor in found.items():
        if name in BUILTIN_FLAVORS:
            assert flavor is BUILTIN_FLAVORS[name]
            continue
        module, _, attr = flavor.loader.partition(":")
        assert name.strip() == name and name and module and attr
