"""Unit tests of mlyard.serving.capture: SageMaker data capture format, sampling, rotation."""

from __future__ import annotations

import base64
import calendar
import json
import random
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from mlyard.errors import DataError
from mlyard.serving.capture import (
    CaptureWriter,
    DataCaptureConfig,
    capture_files,
    decode_data,
    iso_time,
    read_capture,
)

NOON = float(calendar.timegm((2026, 11, 23, 12, 0, 0)))
ON = DataCaptureConfig(enabled=True)


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _capture(w: CaptureWriter, event_id: str, *, variant: str = "A", t: float = NOON,
             req: bytes = b'{"instances": ["good"]}', req_type: str = "application/json",
             resp: bytes = b'[{"label": ["pos"], "prob": [0.9]}]',
             resp_type: str = "application/json", inference_id: str | None = None) -> None:
    w.capture(variant=variant, event_id=event_id, inference_id=inference_id,
              request_body=req, request_content_type=req_type, response_body=resp,
              response_content_type=resp_type, inference_time=t)


def _lines(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.splitlines()]


def test_json_record_is_exactly_sagemakers(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path, "ep", ON, clock=FakeClock(NOON)) as w:
        _capture(w, "e1", inference_id="inf-1")
    (path,) = capture_files(tmp_path, "ep")
    (record,) = _lines(path)
    assert record == {
        "captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                              "data": '{"instances": ["good"]}', "encoding": "JSON"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                               "data": '[{"label": ["pos"], "prob": [0.9]}]',
                               "encoding": "JSON"},
        },
        "eventMetadata": {"eventId": "e1", "inferenceId": "inf-1",
                          "inferenceTime": "2026-11-23T12:00:00Z"},
        "eventVersion": "0",
    }
    assert list(record) == ["captureData", "eventMetadata", "eventVersion"]
    rel = path.relative_to(tmp_path).as_posix()
    assert re.fullmatch(
        r"ep/A/2026/11/23/12/00-00-000-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
        r"[0-9a-f]{12}\.jsonl", rel), rel
    assert iso_time(NOON + 0.999) == "2026-11-23T12:00:00Z"


def test_csv_base64_and_options(tmp_path: Path) -> None:
    config = DataCaptureConfig(enabled=True, capture_options=["Output"])
    with CaptureWriter(tmp_path, "ep", ON, clock=FakeClock(NOON + 61.25)) as w:
        _capture(w, "csv", req=b"1,2,3\n4,5,6", req_type="text/csv; charset=utf-8",
                 resp=b"pos\nneg", resp_type="text/csv")
        _capture(w, "bin", req=b"\x00\xffimage", req_type="image/png",
                 resp=b"\xff\xfe", resp_type="text/csv")  # not UTF-8: base64 anyway
    with CaptureWriter(tmp_path, "ep2", config, clock=FakeClock(NOON)) as w:
        _capture(w, "out-only")
    (path,) = capture_files(tmp_path, "ep")
    assert path.name.startswith("01-01-250-")
    first, second = _lines(path)
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv; charset=utf-8", "mode": "INPUT",
        "data": "1,2,3\n4,5,6", "encoding": "CSV"}
    assert first["captureData"]["endpointOutput"]["encoding"] == "CSV"
    assert "inferenceId" not in first["eventMetadata"]
    inp, out = second["captureData"]["endpointInput"], second["captureData"]["endpointOutput"]
    assert inp["encoding"] == "BASE64" and out["encoding"] == "BASE64"
    assert inp["data"] == base64.b64encode(b"\x00\xffimage").decode()
    assert decode_data(inp) == b"\x00\xffimage" and decode_data(out) == b"\xff\xfe"
    assert decode_data(first["captureData"]["endpointInput"]) == b"1,2,3\n4,5,6"
    (only,) = list(read_capture(tmp_path, "ep2"))
    assert list(only["captureData"]) == ["endpointOutput"]


def test_config_accepts_sagemaker_names() -> None:
    config = DataCaptureConfig.model_validate({
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": "file:///tmp/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["Text/CSV"],
                                     "JsonContentTypes": ["application/json"]},
    })
    assert config.enabled and config.sampling_percentage == 20.0
    assert config.capture_options == ["Input", "Output"]
    assert config.csv_content_types == ["text/csv"]
    assert config.json_content_types == ["application/json"]
    assert config.destination == "file:///tmp/capture"
    default = DataCaptureConfig()
    assert not default.enabled and default.capture_options == ["Input", "Output"]
    assert default.rotation_seconds == 3600.0
    bads: list[dict[str, Any]] = [
        {"sampling_percentage": 101}, {"capture_options": []}, {"capture_options": ["Both"]},
        {"rotation_seconds": 0}, {"nope": 1},
    ]
    for bad in bads:
        (field,) = bad  # the error names the field it refuses
        with pytest.raises(PydanticValidationError, match=field):
            DataCaptureConfig.model_validate(bad)


def test_sampling(tmp_path: Path) -> None:
    def writer(pct: float, enabled: bool = True) -> CaptureWriter:
        config = DataCaptureConfig(enabled=enabled, sampling_percentage=pct)
        return CaptureWriter(tmp_path, "ep", config, rng=random.Random(42))

    assert not any(writer(0).should_capture() for _ in range(10_000))
    assert all(writer(100).should_capture() for _ in range(10_000))
    assert not any(writer(100, enabled=False).should_capture() for _ in range(1000))
    half = writer(50)
    hits = sum(half.should_capture() for _ in range(10_000))
    assert 4800 <= hits <= 5200  # binomial sd is 50
    tenth = writer(10)
    assert 900 <= sum(tenth.should_capture() for _ in range(10_000)) <= 1100
    # Seeded: the same decisions every time.
    a, b = writer(50), writer(50)
    assert [a.should_capture() for _ in range(100)] == [b.should_capture() for _ in range(100)]


def test_rotation_by_age_and_hour(tmp_path: Path) -> None:
    clock = FakeClock(NOON + 3590)  # 12:59:50
    config = DataCaptureConfig(enabled=True, rotation_seconds=5)
    w = CaptureWriter(tmp_path, "ep", config, clock=clock)
    for i, dt in enumerate((0, 1, 4.9, 5, 6, 9.99, 11)):  # 12:59:50 .. 13:00:01
        clock.t = NOON + 3590 + dt
        _capture(w, f"e{i}")
    _capture(w, "b0", variant="B")
    w.close()
    files = capture_files(tmp_path, "ep", "A")
    rel = [p.relative_to(tmp_path / "ep" / "A").as_posix() for p in files]
    assert [r[:22] for r in rel] == [
        "2026/11/23/12/59-50-00",  # e0 e1 e2 (age < 5 s)
        "2026/11/23/12/59-55-00",  # e3 e4 e5: rotated by age
        "2026/11/23/13/00-01-00",  # e6: a new hour, a new folder
    ]
    assert [[r["eventMetadata"]["eventId"] for r in _lines(p)] for p in files] == [
        ["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6"]]
    assert len(capture_files(tmp_path, "ep", "B")) == 1


def test_hourly_rotation_by_default(tmp_path: Path) -> None:
    clock = FakeClock(NOON + 10)
    w = CaptureWriter(tmp_path, "ep", ON, clock=clock)
    for minute in range(0, 120, 7):
        clock.t = NOON + 10 + minute * 60
        _capture(w, f"m{minute}")
        if minute % 3 == 0:
            w.flush()  # flushing does not decide the file
    w.close()
    folders = [p.parent.name for p in capture_files(tmp_path, "ep")]
    assert folders == ["12", "13"]
    assert w.written == len(range(0, 120, 7)) and w.dropped == 0


def test_read_capture_roundtrip_and_order(tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    w = CaptureWriter(tmp_path, "ep", DataCaptureConfig(enabled=True, rotation_seconds=30),
                      clock=clock)
    expected = []
    for i in range(200):
        clock.t = NOON + i
        variant = "A" if i % 3 else "B"
        _capture(w, f"e{i}", variant=variant, t=NOON + i, resp=f"label-{i}".encode(),
                 resp_type="text/plain")
        expected.append((f"e{i}", variant))
        if i % 50 == 0:
            w.flush()
    w.close()
    records = list(read_capture(tmp_path, "ep"))
    assert [(r["eventMetadata"]["eventId"], r["variant"]) for r in records] == expected
    assert decode_data(records[7]["captureData"]["endpointOutput"]) == b"label-7"
    assert records[7]["captureData"]["endpointOutput"]["encoding"] == "BASE64"
    assert list(read_capture(tmp_path, "missing")) == []


def test_partial_and_bad_lines(tmp_path: Path) -> None:
    with CaptureWriter(tmp_path, "ep", ON, clock=FakeClock(NOON)) as w:
        _capture(w, "e1")
        _capture(w, "e2")
    (path,) = capture_files(tmp_path, "ep")
    with path.open("ab") as f:
        f.write(b'{"captureData": {"endpointIn')  # a line still being written
    assert [r["eventMetadata"]["eventId"] for r in read_capture(tmp_path, "ep")] == ["e1", "e2"]
    with path.open("ab") as f:
        f.write(b"\n")
    with pytest.raises(DataError, match=r":3: not a JSON capture record"):
        list(read_capture(tmp_path, "ep"))


def test_each_flush_appends_whole_lines_in_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlyard.serving.capture as capture_module

    chunks: list[bytes] = []
    real_write = capture_module.os.write

    def spy(fd: int, data: Any) -> int:
        chunks.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(capture_module.os, "write", spy)
    clock = FakeClock(NOON)
    w = CaptureWriter(tmp_path, "ep", ON, clock=clock, flush_interval=60.0)
    for batch in range(3):
        for i in range(50):
            _capture(w, f"e{batch}-{i}", req=b"y" * 3000, req_type="text/csv")
        w.flush()
    w.close()
    assert len(chunks) == 3
    assert all(c.endswith(b"\n") and c.count(b"\n") == 50 for c in chunks)


def test_background_flush_while_reading(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "ep", ON, flush_interval=0.01)
    big = b"x" * 5000
    stop = threading.Event()
    seen: list[int] = []
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                # A read racing a write may miss the tail of the last line (the OS copies a
                # write page by page); read_capture skips it, everything before is whole.
                seen.append(sum(1 for _ in read_capture(tmp_path, "ep")))
            except (DataError, FileNotFoundError) as exc:
                problems.append(str(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(2000):
        _capture(w, f"e{i}", req=big, req_type="text/csv", t=time.time())
        if i % 200 == 0:
            time.sleep(0.005)
    deadline = time.monotonic() + 5.0
    while w.written < 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    written_by_thread = w.written
    stop.set()
    thread.join()
    w.close()
    assert not problems
    assert written_by_thread == 2000  # the flusher wrote everything without close()
    assert seen == sorted(seen) and max(seen) <= 2000
    for path in capture_files(tmp_path, "ep"):
        assert path.read_bytes().endswith(b"\n")
    assert len(list(read_capture(tmp_path, "ep"))) == 2000


def test_capture_after_close_is_dropped(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "ep", ON, clock=FakeClock(NOON))
    _capture(w, "e1")
    w.close()
    w.close()
    _capture(w, "late")
    assert w.dropped == 1 and w.written == 1
    assert [r["eventMetadata"]["eventId"] for r in read_capture(tmp_path, "ep")] == ["e1"]


def test_capture_is_cheap(tmp_path: Path) -> None:
    w = CaptureWriter(tmp_path, "ep", ON, flush_interval=60.0)
    n = 20_000
    started = time.perf_counter()
    for i in range(n):
        if w.should_capture():
            _capture(w, "e", t=NOON + i)
    per_call = (time.perf_counter() - started) / n
    w.close()
    assert per_call < 50e-6  # a few microseconds in practice; generous for slow CI


# -- flush policy (issue 10, item 7) --------------------------------------------------------

def test_flush_policy_config() -> None:
    default = DataCaptureConfig()
    assert (default.flush_policy, default.flush_interval_seconds) == ("interval", 1.0)
    config = DataCaptureConfig.model_validate({"EnableCapture": True, "FlushPolicy": "Every",
                                               "FlushIntervalSeconds": 0.25})
    assert (config.flush_policy, config.flush_interval_seconds) == ("every", 0.25)
    for bad in ({"FlushPolicy": "sometimes"}, {"FlushIntervalSeconds": 0},
                {"FlushIntervalSeconds": 3600}):
        with pytest.raises(PydanticValidationError):
            DataCaptureConfig.model_validate(bad)


def test_every_writes_the_record_before_capture_returns(tmp_path: Path) -> None:
    config = DataCaptureConfig(enabled=True, flush_policy="every")
    w = CaptureWriter(tmp_path, "ep", config, clock=FakeClock(NOON), flush_interval=3600.0)
    for i in range(5):
        _capture(w, f"e{i}", variant="AB"[i % 2])
        assert [r["eventMetadata"]["eventId"] for r in read_capture(tmp_path, "ep")
                if r["eventMetadata"]["eventId"] == f"e{i}"] == [f"e{i}"]
    assert w.written == 5 and w.dropped == 0
    w.close()
    _capture(w, "late")
    assert w.dropped == 1 and len(list(read_capture(tmp_path, "ep"))) == 5


def test_interval_comes_from_the_config(tmp_path: Path) -> None:
    config = DataCaptureConfig(enabled=True, flush_interval_seconds=0.05)
    with CaptureWriter(tmp_path, "ep", config) as w:
        _capture(w, "e1", t=time.time())
        deadline = time.monotonic() + 5
        while w.written == 0:
            assert time.monotonic() < deadline, "the flusher did not use the config's interval"
            time.sleep(0.01)
        assert [r["eventMetadata"]["eventId"] for r in read_capture(tmp_path, "ep")] == ["e1"]


@pytest.mark.parametrize("policy", ["interval", "every"])
def test_a_torn_write_never_breaks_other_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               policy: str) -> None:
    """A write that fails half-way leaves a torn last line; later records go to a new file,
    so every reader still gets every whole record."""
    import mlyard.serving.capture as capture_module

    real_write = capture_module.os.write
    fail = {"next": False}

    def flaky(fd: int, data: Any) -> int:
        if fail["next"]:
            fail["next"] = False
            real_write(fd, bytes(data)[: len(data) // 2])
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(capture_module.os, "write", flaky)
    config = DataCaptureConfig(enabled=True, flush_policy=policy)  # type: ignore[arg-type]
    w = CaptureWriter(tmp_path, "ep", config, clock=FakeClock(NOON), flush_interval=3600.0)
    _capture(w, "e1")
    w.flush()
    fail["next"] = True
    _capture(w, "torn")
    if policy == "interval":
        with pytest.raises(OSError):
            w.flush()
    _capture(w, "e2")
    w.close()
    assert (w.written, w.dropped) == (2, 1)
    files = capture_files(tmp_path, "ep")
    assert len(files) == 2  # the torn line is the last of the first file
    assert sorted(f.read_bytes().endswith(b"\n") for f in files) == [False, True]
    assert sorted(r["eventMetadata"]["eventId"] for r in read_capture(tmp_path, "ep")) == \
        ["e1", "e2"]
