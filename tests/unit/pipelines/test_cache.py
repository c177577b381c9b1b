"""Step cache keys: the same resolved arguments and input content give the same key;
changed arguments, a changed byte in a named file or folder, or another step type give
another; the execution id plays no part."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.pipelines.cache import cache_key, digest_path, local_location
from mlyard.pipelines.driver import step_job_name


def _args(data: Path, src: Path) -> dict[str, object]:
    return {"EntryPoint": "prep.py", "SourceDir": str(src),
            "ProcessingInputs": [{"InputName": "raw", "Source": data.as_uri()}],
            "ContainerArguments": ["--rate", "0.5"]}


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("1,2\n")
    (data / "sub" / "b.csv").write_text("3,4\n")
    src = tmp_path / "src"
    src.mkdir()
    (src / "prep.py").write_text("print('hi')\n")
    return data, src


def test_same_arguments_and_content_same_key(tmp_path: Path) -> None:
    data, src = _tree(tmp_path)
    key = cache_key("Processing", _args(data, src))
    assert key == cache_key("Processing", _args(data, src))
    assert len(key) == 64
    # a copy of the same content elsewhere: other arguments, so another key
    other = tmp_path / "copy"
    other.mkdir()
    assert cache_key("Processing", _args(other, src)) != key
    assert cache_key("Training", _args(data, src)) != key


def test_changed_content_changes_the_key(tmp_path: Path) -> None:
    data, src = _tree(tmp_path)
    key = cache_key("Processing", _args(data, src))
    (data / "sub" / "b.csv").write_text("3,5\n")
    changed_data = cache_key("Processing", _args(data, src))
    assert changed_data != key
    (src / "prep.py").write_text("print('hello')\n")
    assert cache_key("Processing", _args(data, src)) not in (key, changed_data)
    (data / "sub" / "c.csv").write_text("")
    assert digest_path(data) != digest_path(tmp_path / "data" / "sub")


def test_changed_arguments_change_the_key(tmp_path: Path) -> None:
    data, src = _tree(tmp_path)
    args = _args(data, src)
    key = cache_key("Processing", args)
    assert cache_key("Processing", {**args, "ContainerArguments": ["--rate", "0.6"]}) != key
    # key order does not matter (canonical JSON)
    assert cache_key("Processing", dict(reversed(list(args.items())))) == key


def test_local_locations(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    assert local_location(f.as_uri()) == f
    assert local_location(str(f)) == f
    assert local_location("relative/x.txt") is None
    assert local_location(str(tmp_path / "missing")) is None
    assert local_location("s3://bucket/key") is None
    assert local_location("mem://k", lambda uri: f) == f


def test_step_job_names_fit_the_job_name_rule() -> None:
    from mlyard.core.specs import check_job_name

    assert step_job_name("demo-20261207223000-ab12", "Train Model", 2) == \
        "demo-20261207223000-ab12-train-model-2"
    long_id = "p" * 43 + "-20261207223000-ab12"
    names = {step_job_name(long_id, step, 1) for step in ("EvaluateModelQuality",
                                                          "EvaluateModelSpeed")}
    assert len(names) == 2
    for name in names:
        assert len(name) <= 63
        check_job_name(name)


def test_relative_locations_count_in_location_fields_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = tmp_path / "code"
    code.mkdir()
    (code / "prep.py").write_text("a")
    (tmp_path / "train").write_text("not an input")
    args = {"EntryPoint": "prep.py", "SourceDir": "code",
            "ProcessingOutputs": [{"OutputName": "train"}]}
    key = cache_key("Processing", args)
    (tmp_path / "train").write_text("changed, but only an output's name")
    assert cache_key("Processing", args) == key
    (code / "prep.py").write_text("b")
    assert cache_key("Processing", args) != key
    script = {"EntryPoint": "code/prep.py"}
    key = cache_key("Processing", script)
    (code / "prep.py").write_text("c")
    assert cache_key("Processing", script) != key
