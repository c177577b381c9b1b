"""Data capture through a crash (:mod:`mlyard.serving.capture`): a real process writing
capture records is killed with SIGKILL mid-stream (issue 10, item 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlyard.serving.capture import capture_files, read_capture

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mlyard.serving.capture import CaptureWriter, DataCaptureConfig

    root, policy = Path(sys.argv[1]), sys.argv[2]
    config = DataCaptureConfig.model_validate({"EnableCapture": True, "FlushPolicy": policy,
                                               "FlushIntervalSeconds": 60})
    writer = CaptureWriter(root, "ep", config)
    body = b"x" * 20_000  # large records: the kill often lands inside a write
    i = 0
    while True:
        writer.capture(variant="AB"[i % 2], event_id=f"e{i}", inference_id=None,
                       request_body=body, request_content_type="text/csv",
                       response_body=b"pos,0.9", response_content_type="text/csv",
                       inference_time=time.time())
        print(f"ack e{i}", flush=True)  # the response a client would now get
        i += 1
""")


def _run_and_kill(root: Path, policy: str, acks_wanted: int) -> set[str]:
    """Start the writer, read its acknowledgements, SIGKILL it; the acknowledged ids."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root), policy],
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    acked: set[str] = set()
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while len(acked) < acks_wanted:
            line = proc.stdout.readline()
            assert line, f"the writer exited early with status {proc.wait(timeout=30)}"
            acked.add(line.decode().split()[1])
            assert time.monotonic() < deadline
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # what was printed before the kill but not read yet was acknowledged too
        acked.update(line.decode().split()[1] for line in proc.stdout.read().splitlines()
                     if line.startswith(b"ack "))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return acked


def test_every_keeps_every_acknowledged_record_through_sigkill(tmp_path: Path) -> None:
    acked = _run_and_kill(tmp_path, "every", 400)
    records = list(read_capture(tmp_path, "ep"))  # a torn last line is skipped, no error
    found = {r["eventMetadata"]["eventId"] for r in records}
    assert acked <= found, f"{len(acked - found)} acknowledged records lost"
    assert len(found) == len(records)  # no record twice
    for path in capture_files(tmp_path, "ep"):  # every line but a torn last one is whole
        lines = path.read_bytes().split(b"\n")
        assert all(line.startswith(b'{"captureData"') for line in lines[:-1])


def test_interval_loses_the_buffered_window_but_nothing_written(tmp_path: Path) -> None:
    """The documented window of the default policy: with a 60 s interval, records not yet
    flushed when the process dies are gone; the files are still readable."""
    acked = _run_and_kill(tmp_path, "interval", 200)
    found = {r["eventMetadata"]["eventId"] for r in read_capture(tmp_path, "ep")}
    assert found < acked or not found
    assert len(acked - found) >= 200


@pytest.mark.parametrize("policy", ["every"])
def test_a_new_writer_after_a_crash_leaves_old_records_readable(tmp_path: Path,
                                                                policy: str) -> None:
    first = _run_and_kill(tmp_path, policy, 50)
    second = _run_and_kill(tmp_path, policy, 50)  # same ids again, new files
    records = list(read_capture(tmp_path, "ep"))
    assert {r["eventMetadata"]["eventId"] for r in records} >= first | second
    assert len(records) >= len(first) + len(second)
