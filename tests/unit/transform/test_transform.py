"""Tests of the batch transform engine (:mod:`mlyard.transform.engine`).

The fake models below are a flavor of their own, ``fake``, registered through
``MLYARD_MODEL_FLAVORS`` (``fake=tests.unit.transform.test_transform:load_fake``; a manifest
cannot name its loader), so ``spawn``-ed worker processes import this module to get them: run
with the repository root on ``sys.path``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlyard.errors import DataError, MlyardError, NotFoundError, ValidationError
from mlyard.models.base import LoadedModel, ModelManifest, read_manifest, write_manifest
from mlyard.transform import TransformOptions, TransformResult, run_transform
from mlyard.transform import parts as transform_parts

FAIL_MARKER = "fail-on-boom"


class FakeModel(LoadedModel):
    """Deterministic text classifier: P(pos) comes from the characters of the text.

    While the file ``fail-on-boom`` exists in its directory it raises on any input that
    contains ``BOOM`` (a crash to resume from).
    """

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self.manifest = read_manifest(self.model_dir)

    def _check(self, instances: Sequence[Any]) -> None:
        if (self.model_dir / FAIL_MARKER).exists():
            for text in instances:
                if "BOOM" in str(text):
                    raise RuntimeError(f"cannot handle {text!r}")

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        self._check(instances)
        pos = np.array([(sum(map(ord, str(t))) % 97) / 96 for t in instances], dtype=float)
        return np.stack([1.0 - pos, pos], axis=1)

    def predict_values(self, instances: Sequence[Any]) -> np.ndarray:
        self._check(instances)
        return np.array([float(len(str(t))) for t in instances])


def load_fake(model_dir: Path) -> FakeModel:
    """The manifest loader of the fake models."""
    return FakeModel(model_dir)


def make_model(path: Path, task: str = "classification") -> Path:
    write_manifest(
        path,
        ModelManifest(
            flavor="fake",
            loader=f"{__name__}:load_fake",
            task=task,  # type: ignore[arg-type]
            labels=["neg", "pos"] if task == "classification" else [],
        ),
    )
    return path


def expected(model_dir: Path, texts: list[Any], top_k: int = 1) -> list[dict[str, Any]]:
    return load_fake(model_dir).predict(texts, top_k=top_k)


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def quiet(message: str) -> None:
    return None


def texts(n: int, prefix: str = "review") -> list[str]:
    return [f"{prefix} {i} {'good' * (i % 3)}" for i in range(n)]


@pytest.fixture(autouse=True)
def fake_flavor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the ``fake`` flavor (inherited by spawned workers through the environment)."""
    monkeypatch.setenv("MLYARD_MODEL_FLAVORS", f"fake={__name__}:load_fake")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path / "model")


def transform(model: Path, src: Path, out: Path, **options: Any) -> TransformResult:
    return run_transform(model, src, out, TransformOptions(**options), log=quiet)


# -- input formats -----------------------------------------------------------------------------


def test_csv_input_with_quoted_newlines(model: Path, tmp_path: Path) -> None:
    rows = [["pos", "great, really"], ["neg", "bad\nsecond line"], ["pos", 'say "hi"']]
    src = write_csv(tmp_path / "in" / "reviews.csv", ["label", "text"], rows)
    result = transform(model, src, tmp_path / "out")
    out = tmp_path / "out" / "reviews.csv.out"
    assert result.output_files == [out]
    assert result.records == 3 and result.parts_done == 1 and result.parts_skipped == 0
    assert read_jsonl(out) == expected(model, [row[1] for row in rows])
    assert not list((tmp_path / "out").glob("*.tmp*"))


def test_csv_text_field_and_single_column(model: Path, tmp_path: Path) -> None:
    rows = [["1", "nice product", "x"], ["0", "awful", "y"]]
    src = write_csv(tmp_path / "a.csv", ["sentiment", "review_body", "id"], rows)
    transform(model, src, tmp_path / "o1", text_field="review_body")
    assert read_jsonl(tmp_path / "o1" / "a.csv.out") == expected(model, ["nice product", "awful"])
    single = write_csv(tmp_path / "b.csv", ["sentence"], [["one"], ["two"]])
    transform(model, single, tmp_path / "o2")
    assert read_jsonl(tmp_path / "o2" / "b.csv.out") == expected(model, ["one", "two"])


def test_text_plain_skips_blank_lines(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "lines.txt"
    src.write_text("first line\n\n  \nsecond line\r\nthird\n", encoding="utf-8")
    result = transform(model, src, tmp_path / "out")
    assert result.records == 3
    got = read_jsonl(tmp_path / "out" / "lines.txt.out")
    assert got == expected(model, ["first line", "second line", "third"])


def test_jsonlines_input_shapes(model: Path, tmp_path: Path) -> None:
    lines = [{"text": "a b", "id": 1}, "bare string", {"body": "only key"}, {"text": "c"}]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(v) for v in lines) + "\n\n", encoding="utf-8")
    transform(model, src, tmp_path / "out")
    got = read_jsonl(tmp_path / "out" / "in.jsonl.out")
    assert got == expected(model, ["a b", "bare string", "only key", "c"])


def test_jsonlines_text_field(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.json"
    src.write_text('{"body": "x y", "text": "ignored"}\n{"body": "z"}\n', encoding="utf-8")
    transform(model, src, tmp_path / "out", text_field="body")
    assert read_jsonl(tmp_path / "out" / "in.json.out") == expected(model, ["x y", "z"])


def test_split_type_none(model: Path, tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text('{\n  "text": "whole document"\n}\n', encoding="utf-8")
    note = tmp_path / "note.md"
    note.write_text("line one\nline two\n", encoding="utf-8")
    out = tmp_path / "out"
    assert transform(model, doc, out, split_type="None").records == 1
    assert read_jsonl(out / "doc.json.out") == expected(model, ["whole document"])
    assert transform(model, note, out, split_type="None").records == 1
    assert read_jsonl(out / "note.md.out") == expected(model, ["line one\nline two\n"])
    with pytest.raises(ValidationError, match="split_type"):
        transform(model, write_csv(tmp_path / "c.csv", ["text"], [["a"]]), out, split_type="None")


def test_folder_input(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_csv(src / "b.csv", ["label", "text"], [["pos", "bee"]])
    (src / "a.txt").write_text("ay\n", encoding="utf-8")
    (src / "sub").mkdir()
    (src / "sub" / "c.jsonl").write_text('{"text": "sea"}\n', encoding="utf-8")
    (src / ".hidden").write_text("skip me\n", encoding="utf-8")
    (src / ".cache").mkdir()
    (src / ".cache" / "d.txt").write_text("skip me\n", encoding="utf-8")
    out = src / "results"  # an output folder inside the input folder is not input
    result = transform(model, src, out)
    assert result.input_files == 3
    assert result.output_files == [
        out / "a.txt.out",
        out / "b.csv.out",
        out / "sub" / "c.jsonl.out",
    ]
    assert read_jsonl(out / "sub" / "c.jsonl.out") == expected(model, ["sea"])
    again = transform(model, src, out)
    assert again.input_files == 3 and again.files_skipped == 3


def test_order_preserved_across_parts_and_batches(model: Path, tmp_path: Path) -> None:
    data = texts(53)
    src = tmp_path / "many.txt"
    src.write_text("\n".join(data) + "\n", encoding="utf-8")
    seen: list[int] = []
    result = run_transform(
        model,
        src,
        tmp_path / "out",
        TransformOptions(part_records=7, batch_size=3),
        log=quiet,
        progress=seen.append,
    )
    assert result.parts_done == 8 and result.records == 53
    assert seen == sorted(seen) and seen[-1] == 53
    assert read_jsonl(tmp_path / "out" / "many.txt.out") == expected(model, data)
    assert not [p for p in (tmp_path / "out" / ".parts").iterdir() if p.name != "manifest.json"]


# -- output formats ------------------------------------------------------------------------------


def test_join_source_input_jsonlines(model: Path, tmp_path: Path) -> None:
    csv_src = write_csv(tmp_path / "r.csv", ["label", "text"], [["pos", "hi"], ["neg", "lo"]])
    out = tmp_path / "out"
    transform(model, csv_src, out, join_source="Input")
    preds = expected(model, ["hi", "lo"])
    assert read_jsonl(out / "r.csv.out") == [
        {"label": "pos", "text": "hi", "SageMakerOutput": preds[0]},
        {"label": "neg", "text": "lo", "SageMakerOutput": preds[1]},
    ]
    json_src = tmp_path / "j.jsonl"
    json_src.write_text('{"text": "hi", "k": 1}\n["hi"]\n"lo"\n', encoding="utf-8")
    transform(model, json_src, out, join_source="Input")
    assert read_jsonl(out / "j.jsonl.out") == [
        {"text": "hi", "k": 1, "SageMakerOutput": preds[0]},
        ["hi", expected(model, [["hi"]])[0]],
        {"SageMakerInput": "lo", "SageMakerOutput": preds[1]},
    ]
    txt = tmp_path / "t.txt"
    txt.write_text("hi\n", encoding="utf-8")
    transform(model, txt, out, join_source="Input")
    assert read_jsonl(out / "t.txt.out") == [{"SageMakerInput": "hi", "SageMakerOutput": preds[0]}]


def test_csv_accept(model: Path, tmp_path: Path) -> None:
    rows = [["pos", "multi\nline, text"], ["neg", "plain"]]
    src = write_csv(tmp_path / "r.csv", ["label", "text"], rows)
    preds = expected(model, [row[1] for row in rows])
    out = tmp_path / "out"
    transform(model, src, out, accept="text/csv")
    assert read_csv(out / "r.csv.out") == [["predicted_label", "probability"]] + [
        [p["label"][0], repr(p["prob"][0])] for p in preds
    ]
    transform(model, src, out, accept="text/csv", join_source="Input")
    assert read_csv(out / "r.csv.out") == [["label", "text", "predicted_label", "probability"]] + [
        [*row, p["label"][0], repr(p["prob"][0])] for row, p in zip(rows, preds, strict=True)
    ]
    transform(model, src, out, accept="text/csv", top_k=2)
    table = read_csv(out / "r.csv.out")
    assert table[0] == ["predicted_label_1", "predicted_label_2", "probability_1", "probability_2"]
    assert sorted(table[1][:2]) == ["neg", "pos"]


def test_csv_accept_json_join_and_regression(tmp_path: Path) -> None:
    regressor = make_model(tmp_path / "reg", task="regression")
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "abc", "n": 1}\n{"text": "de", "n": null}\n', encoding="utf-8")
    out = tmp_path / "out"
    transform(regressor, src, out, accept="text/csv", join_source="Input")
    assert read_csv(out / "in.jsonl.out") == [
        ["text", "n", "predicted_score"],
        ["abc", "1", "3.0"],
        ["de", "", "2.0"],
    ]
    src.write_text('{"text": "abc", "n": 1}\n{"text": "de"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        transform(regressor, src, out, accept="text/csv", join_source="Input")
    assert not (out / "in.jsonl.out").exists()


# -- parallel workers -----------------------------------------------------------------------------


def test_workers_give_identical_output(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_csv(src / "a.csv", ["label", "text"], [["x", t] for t in texts(95, "alpha")])
    (src / "b.txt").write_text("\n".join(texts(41, "beta")) + "\n", encoding="utf-8")
    options = {"part_records": 20, "batch_size": 8, "join_source": "Input"}
    one = transform(model, src, tmp_path / "one", workers=1, **options)
    seen: list[int] = []
    two = run_transform(
        model,
        src,
        tmp_path / "two",
        TransformOptions(workers=2, **options),
        log=quiet,
        progress=seen.append,
    )
    assert one.records == two.records == 136
    assert one.parts_done == two.parts_done == 8
    assert seen[-1] == 136
    for name in ("a.csv.out", "b.txt.out"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_worker_model_error_names_file_and_part(model: Path, tmp_path: Path) -> None:
    data = texts(60)
    data[45] = "BOOM"
    src = tmp_path / "in.txt"
    src.write_text("\n".join(data) + "\n", encoding="utf-8")
    (model / FAIL_MARKER).touch()
    out = tmp_path / "out"
    with pytest.raises(MlyardError, match=r"in\.txt part 4 .*RuntimeError"):
        transform(model, src, out, workers=2, part_records=10, batch_size=5)
    assert not (out / "in.txt.out").exists()
    (model / FAIL_MARKER).unlink()
    result = transform(model, src, out, workers=2, part_records=10, batch_size=5)
    assert result.parts_done + result.parts_skipped == 6 and result.parts_done >= 1
    assert result.records + result.records_skipped == 60
    assert read_jsonl(out / "in.txt.out") == expected(model, data)


# -- resume, stop ------------------------------------------------------------------------------


def test_resume_after_crash(model: Path, tmp_path: Path) -> None:
    data = texts(40)
    data[25] = "BOOM here"  # in part 2 of 0..3
    src = tmp_path / "in.txt"
    src.write_text("\n".join(data) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    (model / FAIL_MARKER).touch()
    with pytest.raises(MlyardError, match=r"in\.txt part 2 \(records 26-30\)") as info:
        transform(model, src, out, part_records=10, batch_size=5)
    assert "cannot handle" in str(info.value)
    assert not (out / "in.txt.out").exists()
    assert sorted(p.name for p in (out / ".parts").glob("in.txt.*")) == [
        "in.txt.000000",
        "in.txt.000001",
    ]
    (model / FAIL_MARKER).unlink()
    result = transform(model, src, out, part_records=10, batch_size=7)  # batch size may change
    assert (result.parts_skipped, result.parts_done) == (2, 2)
    assert (result.records_skipped, result.records) == (20, 20)
    assert read_jsonl(out / "in.txt.out") == expected(model, data)
    again = transform(model, src, out, part_records=10)
    assert (again.files_skipped, again.parts_done, again.records) == (1, 0, 0)
    assert (again.parts_skipped, again.records_skipped) == (4, 40)


def test_changed_options_or_input_start_over(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts(12)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    transform(model, src, out, part_records=5)
    changed = transform(model, src, out, part_records=5, top_k=2)
    assert (changed.parts_done, changed.parts_skipped) == (3, 0)
    assert read_jsonl(out / "in.txt.out") == expected(model, texts(12), top_k=2)
    src.write_text("\n".join(texts(4)) + "\n", encoding="utf-8")
    edited = transform(model, src, out, part_records=5, top_k=2)
    assert (edited.parts_done, edited.records, edited.files_skipped) == (1, 4, 0)
    assert read_jsonl(out / "in.txt.out") == expected(model, texts(4), top_k=2)


def test_stop_keeps_finished_parts(model: Path, tmp_path: Path) -> None:
    data = texts(30)
    src = tmp_path / "in.txt"
    src.write_text("\n".join(data) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    seen: list[int] = []
    with pytest.raises(MlyardError, match=r"^transform stopped$"):
        run_transform(
            model,
            src,
            out,
            TransformOptions(part_records=10, batch_size=5),
            log=quiet,
            should_stop=lambda: bool(seen) and seen[-1] >= 15,
            progress=seen.append,
        )
    assert not (out / "in.txt.out").exists()
    assert [p.name for p in (out / ".parts").glob("in.txt.*")] == ["in.txt.000000"]
    result = transform(model, src, out, part_records=10, batch_size=5)
    assert (result.parts_skipped, result.parts_done, result.records) == (1, 2, 20)
    assert read_jsonl(out / "in.txt.out") == expected(model, data)


def test_stop_with_workers(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts(400)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    seen: list[int] = []
    with pytest.raises(MlyardError, match=r"^transform stopped$"):
        run_transform(
            model,
            src,
            out,
            TransformOptions(part_records=10, batch_size=1, workers=2),
            log=quiet,
            should_stop=lambda: bool(seen),
            progress=seen.append,
        )
    assert seen and seen[-1] < 400
    assert not (out / "in.txt.out").exists()
    result = transform(model, src, out, part_records=10, workers=2)
    assert result.records + result.records_skipped == 400
    assert result.parts_done + result.parts_skipped == 40
    assert read_jsonl(out / "in.txt.out") == expected(model, texts(400))


def test_unserializable_prediction_is_reported(tmp_path: Path) -> None:
    class Odd(FakeModel):
        def predict(self, instances: Sequence[Any], top_k: int = 1) -> list[dict[str, Any]]:
            return [{"value": object()} for _ in instances]

    model = make_model(tmp_path / "model")
    src = tmp_path / "in.txt"
    src.write_text("a\n", encoding="utf-8")
    with pytest.raises(MlyardError, match=r"cannot write the predictions of in\.txt part 0"):
        transform_parts.run_part(
            Odd(model),
            transform_parts.PartTask(
                rel="in.txt",
                index=0,
                path=str(tmp_path / "part"),
                first_record=0,
                instances=["a"],
                sources=None,
                source_kind="text",
                columns=None,
                spec=transform_parts.RenderSpec("application/jsonlines", "None", 1, 8),
            ),
            lambda: False,
            lambda n: None,
        )
    assert not (tmp_path / "part").exists()


# -- bad input ------------------------------------------------------------------------------------


def test_missing_input_and_model(model: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        transform(model, tmp_path / "nope.csv", tmp_path / "out")
    src = tmp_path / "x.txt"
    src.write_text("a\n", encoding="utf-8")
    with pytest.raises(NotFoundError, match="no-model is not an mlyard model directory"):
        transform(tmp_path / "no-model", src, tmp_path / "out")


def test_empty_inputs(model: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.touch()
    with pytest.raises(DataError, match=r"empty\.csv is empty"):
        transform(model, empty, tmp_path / "out")
    header_only = write_csv(tmp_path / "h.csv", ["label", "text"], [])
    with pytest.raises(DataError, match=r"h\.csv holds no records"):
        transform(model, header_only, tmp_path / "out")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"blank\.txt holds no records"):
        transform(model, blank, tmp_path / "out")
    (tmp_path / "void").mkdir()
    with pytest.raises(DataError, match="no input files"):
        transform(model, tmp_path / "void", tmp_path / "out")


def test_csv_column_errors(model: Path, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "r.csv", ["sentiment", "review_body"], [["1", "fine"]])
    with pytest.raises(DataError, match="sentiment, review_body"):
        transform(model, src, tmp_path / "out")
    with pytest.raises(DataError, match="no column 'body'"):
        transform(model, src, tmp_path / "out", text_field="body")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("label,text\npos,ok\nneg,too,many\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged\.csv:3: 3 field\(s\), but the header has 2"):
        transform(model, ragged, tmp_path / "out")


def test_malformed_json_line(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"text": "ok"}\n\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:3: malformed JSON"):
        transform(model, src, tmp_path / "out")
    src.write_text('{"a": 1, "b": 2}\n', encoding="utf-8")
    with pytest.raises(DataError, match="no 'text' key among a, b"):
        transform(model, src, tmp_path / "out")


def test_bad_file_fails_before_any_output(model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src).mkdir()
    (src / "a.txt").write_text("fine\n", encoding="utf-8")
    write_csv(src / "b.csv", ["x", "y"], [["1", "2"]])
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"b\.csv"):
        transform(model, src, out)
    assert not (out / "a.txt.out").exists()


def test_output_folder_must_differ_from_input(model: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="is the input folder"):
        transform(model, tmp_path, tmp_path)


def test_options_validation() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        TransformOptions(batch_size=0)
    with pytest.raises(ValueError, match="workers"):
        TransformOptions(workers=0)
    with pytest.raises(ValueError, match="accept"):
        TransformOptions(accept="application/json")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown"):
        TransformOptions(unknown=1)  # type: ignore[call-arg]


def test_transform_formats_match_the_shared_content_types() -> None:
    from typing import get_args

    from mlyard.models.content_types import TRANSFORM_INPUT_TYPES, TRANSFORM_OUTPUT_TYPES

    fields = TransformOptions.model_fields
    assert set(get_args(get_args(fields["content_type"].annotation)[0])) == \
        set(TRANSFORM_INPUT_TYPES)
    assert set(get_args(fields["accept"].annotation)) == set(TRANSFORM_OUTPUT_TYPES)


# -- the one bad-row policy ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "match"), [
    ("u.csv", b"label,text\npos,ok\nneg,caf\xe9\n", r"u\.csv:3: not UTF-8 text"),
    ("u.txt", b"fine\n\xff\xfe\n", r"u\.txt:2: not UTF-8 text"),
    ("u.jsonl", b'{"text": "ok"}\n{"text": "\xff"}\n', r"u\.jsonl:2: not UTF-8 text"),
    ("r.csv", b"label,text\npos,ok\nneg\n", r"r\.csv:3: 1 field\(s\), but the header has 2"),
])
def test_bad_records_are_refused_with_file_and_line(model: Path, tmp_path: Path, name: str,
                                                    data: bytes, match: str) -> None:
    src = tmp_path / name
    src.write_bytes(data)
    with pytest.raises(DataError, match=match):
        transform(model, src, tmp_path / "out")


@pytest.mark.parametrize(("name", "data", "good"), [
    ("s.csv", b"label,text\npos,ok\nneg,caf\xe9\nneg\nx,a,b\npos,fine\n", 2),
    ("s.txt", b"fine\n\xff\xfe\nalso fine\n", 2),
    ("s.jsonl", b'{"text": "ok"}\n{"text": oops}\n{"text": "\xff"}\n{"text": "b"}\n', 2),
])
def test_bad_records_are_skipped_and_counted_on_request(model: Path, tmp_path: Path,
                                                        name: str, data: bytes,
                                                        good: int) -> None:
    src = tmp_path / name
    src.write_bytes(data)
    lines: list[str] = []
    result = run_transform(model, src, tmp_path / "out", TransformOptions(skip_bad_rows=True),
                           log=lines.append)
    assert result.records == good
    bad = data.count(b"\n") - good - (1 if name.endswith(".csv") else 0)
    assert any(f"warning: skipped {bad} bad row(s)" in line for line in lines), lines
