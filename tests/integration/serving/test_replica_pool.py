"""Replica processes and the ReplicaPool (:mod:`mlyard.serving.pool`), with real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest

from mlyard.algorithms import get_algorithm
from mlyard.algorithms.base import TrainingContext
from mlyard.errors import http_status
from mlyard.models import load_model, write_manifest
from mlyard.models.base import ModelManifest
from mlyard.serving.pool import (
    MAX_ATTEMPTS,
    InvokeResult,
    NoHealthyReplica,
    Overloaded,
    ReplicaPool,
    ReplicaStartError,
)
from mlyard.serving.replica import (
    KIND_INVOKE,
    KIND_PING,
    RESPONSE_HEADER,
    ReplicaServer,
    encode_request,
)
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.models import save_test_model

JSON = "application/json"
TEXTS = ["love perfect beautiful dress", "awful ripped cheap top", "okay fine average size",
         "the dress was very comfortable and soft", ""]
HPS = {"epochs": 5, "vector_dim": 16, "buckets": 10000, "min_count": 1, "learning_rate": 0.5,
       "backend": "cpu"}
T = TypeVar("T")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bt")
    algo = get_algorithm("blazingtext")
    ctx = TrainingContext(channels={"train": make_text_dataset(tmp / "train.csv", 300, seed=1)},
                          model_dir=tmp / "model", output_dir=tmp / "out", num_threads=1,
                          device="cpu", log=lambda _m: None)
    algo.train(ctx, algo.resolve_hyperparameters(HPS))
    return ctx.model_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    """The pool's run folder; after the test no replica process may be left running."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield tmp_path / "run"
    deadline = time.monotonic() + 5
    while True:
        left = [p for p in psutil.Process().children(recursive=True)
                if p.pid not in before and _alive(p.pid)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"replica processes left behind: {left}"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def run(factory: Callable[[], Awaitable[T]], loop: str = "asyncio") -> T:
    """Run ``factory()`` on a fresh event loop: asyncio's own, or uvloop (the server's)."""
    async def main() -> T:
        return await factory()

    if loop == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        return uvloop.run(main())  # type: ignore[no-any-return]
    return asyncio.run(main())


LOOPS = pytest.mark.parametrize("loop", ["asyncio", "uvloop"])


def _body(*texts: str, k: int | None = None) -> bytes:
    doc: dict[str, Any] = {"instances": list(texts)}
    if k is not None:
        doc["configuration"] = {"k": k}
    return json.dumps(doc).encode()


async def _until(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _close_enough(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [g["label"] for g in got] == [w["label"] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g["prob"] == pytest.approx(w["prob"], abs=1e-6)


# -- the replica server on its own ------------------------------------------------------------

def test_replica_server_batches_queued_requests(model_dir: Path) -> None:
    model = load_model(model_dir)
    server = ReplicaServer(model, max_batch=64)
    ours, theirs = socket.socketpair()
    requests = [(1, _body(TEXTS[0])), (2, _body(TEXTS[1], TEXTS[2])), (3, b"[5]"),
                (4, _body(TEXTS[0], k=2)), (5, _body(TEXTS[3], k=2)), (6, b"{oops")]
    frames = [encode_request(KIND_INVOKE, rid, JSON.encode(), JSON.encode(), body)
              for rid, body in requests]
    frames.insert(2, encode_request(KIND_PING, 99, b"", b"", b""))
    ours.sendall(b"".join(frames))
    ours.shutdown(socket.SHUT_WR)
    server.serve(theirs)  # serves everything queued, returns at end-of-file
    theirs.close()
    data = b""
    while chunk := ours.recv(65536):
        data += chunk
    ours.close()
    answers: dict[int, tuple[int, int, bytes]] = {}
    pos = 0
    while pos < len(data):
        length, kind, rid, status, _, ct_len = RESPONSE_HEADER.unpack_from(data, pos)
        answers[rid] = (kind, status, data[pos + RESPONSE_HEADER.size + ct_len:pos + 4 + length])
        pos += 4 + length
    assert sorted(answers) == [1, 2, 3, 4, 5, 6, 99]
    assert answers[99][0] == KIND_PING and json.loads(answers[99][2])["ok"] is True
    for rid, texts, k in ((1, TEXTS[:1], 1), (2, TEXTS[1:3], 1), (4, TEXTS[:1], 2),
                          (5, TEXTS[3:4], 2)):
        assert answers[rid][1] == 200
        _close_enough(json.loads(answers[rid][2]), model.predict(texts, top_k=k))
    # the non-text instance fails alone (the shared call is retried request by request)
    assert answers[3][1] == 400 and json.loads(answers[3][2])["ErrorCode"] == "ValidationError"
    assert answers[6][1] == 400 and "malformed JSON" in json.loads(answers[6][2])["Message"]
    assert server.requests == 6 and server.batches == 1  # k=2 pair; the k=1 call failed


# -- the pool ---------------------------------------------------------------------------------

@LOOPS
def test_predictions_equal_in_process_ones(model_dir: Path, run_dir: Path, loop: str) -> None:
    model = load_model(model_dir)

    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 2, name="t") as pool:
            assert pool.replicas == 2 and pool.healthy == 2
            for text in TEXTS:  # one at a time: no batching, identical results
                r = await pool.invoke(_body(text, k=3), JSON, JSON)
                assert r.status == 200 and r.content_type == JSON
                assert json.loads(r.body) == model.predict([text], top_k=3)
            r = await pool.invoke(_body(*TEXTS), "application/json; charset=utf-8", "*/*")
            assert json.loads(r.body) == model.predict(TEXTS)
            r = await pool.invoke("\n".join(TEXTS[:3]).encode(), "text/csv", "text/csv")
            top = model.predict(TEXTS[:3])
            assert r.content_type == "text/csv" and r.body.decode().splitlines() == [
                f"{p['label'][0]},{p['prob'][0]!r}" for p in top]
            r = await pool.invoke(b'"love it"\n{"text": "awful"}\n', "application/jsonlines",
                                  "application/jsonlines")
            assert [json.loads(x) for x in r.body.splitlines()] == model.predict(
                ["love it", "awful"])
            r = await pool.invoke(b"love it\n", "text/plain", JSON)
            assert r.model_seconds > 0 and r.replica in {s.pid for s in pool.stats()}

    run(main, loop)


def test_large_request_and_response(model_dir: Path, run_dir: Path) -> None:
    model = load_model(model_dir)
    texts = [f"{TEXTS[i % 4]} {'fabric ' * 300}{i}" for i in range(1000)]  # about 2.4 MB

    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 1) as pool:
            body = _body(*texts, k=3)
            assert len(body) > 2_000_000
            results = await asyncio.gather(*(pool.invoke(body, JSON, JSON) for _ in range(3)))
            want = model.predict(texts, top_k=3)
            for r in results:
                assert r.status == 200
                _close_enough(json.loads(r.body), want)
            r = await pool.invoke(_body(*texts, "one too many"), JSON, JSON)
            assert r.status == 400 and b"1001 instances" in r.body

    run(main)


def test_concurrent_invocations(model_dir: Path, run_dir: Path) -> None:
    model = load_model(model_dir)

    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 2, max_in_flight_per_replica=512) as pool:
            bodies = [_body(TEXTS[i % 4], k=1 + i % 2) for i in range(500)]
            results = await asyncio.gather(*(pool.invoke(b, JSON, JSON) for b in bodies))
            assert {r.status for r in results} == {200}
            for i, r in enumerate(results):
                _close_enough(json.loads(r.body), model.predict([TEXTS[i % 4]], top_k=1 + i % 2))
            stats = pool.stats()
            assert len({r.replica for r in results}) == 2
            assert sum(s.requests for s in stats) == 500 and pool.in_flight == 0

    run(main)


@LOOPS
def test_killed_replica_loses_no_request(model_dir: Path, run_dir: Path, loop: str) -> None:
    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 2, max_in_flight_per_replica=512,
                               health_interval=0.2) as pool:
            victim = pool.stats()[0].pid
            tasks = [asyncio.ensure_future(pool.invoke(_body(TEXTS[i % 4]), JSON, JSON))
                     for i in range(300)]
            await asyncio.sleep(0)  # every task has sent its request
            assert pool.in_flight == 300
            assert next(s for s in pool.stats() if s.pid == victim).in_flight > 0
            os.kill(victim, signal.SIGKILL)
            results = await asyncio.gather(*tasks)
            assert [r.status for r in results] == [200] * 300
            await _until(lambda: pool.healthy == 2)
            stats = pool.stats()
            assert sum(s.restarts for s in stats) == 1
            assert victim not in {s.pid for s in stats} and not _alive(victim)
            r = await pool.invoke(_body("love it"), JSON, JSON)
            assert r.status == 200

    run(main, loop)


def test_hung_replica_is_replaced(model_dir: Path, run_dir: Path) -> None:
    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 2, health_interval=0.1,
                               hang_timeout=0.8) as pool:
            frozen = pool.stats()[0].pid
            os.kill(frozen, signal.SIGSTOP)  # alive, but answers nothing
            started = time.monotonic()
            results = await asyncio.gather(*(pool.invoke(_body(TEXTS[i % 4]), JSON, JSON)
                                             for i in range(20)))
            assert [r.status for r in results] == [200] * 20
            assert frozen not in {r.replica for r in results}
            assert time.monotonic() - started < 10
            await _until(lambda: pool.healthy == 2)
            assert sum(s.restarts for s in pool.stats()) == 1 and not _alive(frozen)

    run(main)


@LOOPS
def test_scale_out_and_in_under_load(model_dir: Path, run_dir: Path, loop: str) -> None:
    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 1, max_in_flight_per_replica=256) as pool:
            statuses: list[int] = []
            stop = asyncio.Event()

            async def client(i: int) -> None:
                while not stop.is_set():
                    statuses.append((await pool.invoke(_body(TEXTS[i % 4]), JSON, JSON)).status)

            clients = [asyncio.ensure_future(client(i)) for i in range(16)]
            await asyncio.sleep(0.2)
            await pool.scale(3)
            assert pool.replicas == 3 and pool.healthy == 3
            three = {s.pid for s in pool.stats()}
            assert len(three) == 3
            await asyncio.sleep(0.3)
            served = len(statuses)
            await pool.scale(1)
            assert pool.replicas == 1 and len(pool.stats()) == 1
            await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(*clients)  # a failed request would raise here
            assert set(statuses) == {200} and len(statuses) > served
            gone = three - {s.pid for s in pool.stats()}
            assert len(gone) == 2 and not any(_alive(p) for p in gone)

    run(main, loop)


def test_payload_and_model_errors(model_dir: Path, run_dir: Path, tmp_path: Path) -> None:
    failing = save_test_model(tmp_path / "failing", "failing")

    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir / "bt", 1) as pool:
            cases = [(b"{not json", JSON, JSON, 400, "ValidationError"),
                     (b"x", "image/png", JSON, 415, "UnsupportedMediaType"),
                     (b"x", "text/plain", "image/png", 406, "NotAcceptable"),
                     (b"[1, 2]", JSON, JSON, 400, "ValidationError"),
                     (b'{"instances": []}', JSON, JSON, 400, "ValidationError")]
            for body, ctype, accept, status, code in cases:
                r = await pool.invoke(body, ctype, accept)
                assert (r.status, r.content_type) == (status, JSON), r
                assert json.loads(r.body)["ErrorCode"] == code
        async with ReplicaPool(failing, run_dir / "failing", 1) as pool:
            r = await pool.invoke(_body("anything"), JSON, JSON)
            assert r.status == 424
            assert json.loads(r.body) == {"ErrorCode": "ModelError", "Message":
                                          "RuntimeError: FailingModel always fails"}
            assert pool.healthy == 1

    run(main)


def test_overloaded_when_every_replica_is_full(run_dir: Path, tmp_path: Path) -> None:
    slow = save_test_model(tmp_path / "slow", "slow", delay=0.3)

    async def main() -> None:
        async with ReplicaPool(slow, run_dir, 1, max_in_flight_per_replica=2) as pool:
            first = [asyncio.ensure_future(pool.invoke(_body("x"), JSON, JSON))
                     for _ in range(2)]
            await asyncio.sleep(0)
            with pytest.raises(Overloaded, match="2 requests in flight") as exc:
                await pool.invoke(_body("x"), JSON, JSON)
            assert exc.value.code == "ServiceUnavailable" and http_status(exc.value) == 503
            assert [r.status for r in await asyncio.gather(*first)] == [200, 200]
            assert (await pool.invoke(_body("x"), JSON, JSON)).status == 200

    run(main)


def test_close_drains_then_leaves_no_process(run_dir: Path, tmp_path: Path) -> None:
    slow = save_test_model(tmp_path / "slow", "slow", delay=0.3)

    async def main() -> None:
        pool = ReplicaPool(slow, run_dir, 2)
        await pool.start()
        pids = [s.pid for s in pool.stats()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        pending = asyncio.ensure_future(pool.invoke(_body("x"), JSON, JSON))
        await asyncio.sleep(0.05)
        await pool.close(drain=True)
        result: InvokeResult = await pending
        assert result.status == 200
        assert not any(_alive(p) for p in pids)
        assert pool.stats() == [] and pool.healthy == 0
        with pytest.raises(NoHealthyReplica, match="closed"):
            await pool.invoke(_body("x"), JSON, JSON)

        pool = ReplicaPool(slow, run_dir, 1)
        await pool.start()
        pid = pool.stats()[0].pid
        await pool.close(drain=False)
        assert not _alive(pid)

    run(main)


def test_replica_that_cannot_start(run_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    write_manifest(broken, ModelManifest(flavor="test", loader="no_such_module:load"))

    async def main() -> None:
        pool = ReplicaPool(broken, run_dir, 2, start_timeout=30)
        with pytest.raises(ReplicaStartError, match="exited with status 1") as exc:
            await pool.start()
        assert "no_such_module" in exc.value.message  # the tail of the replica's log
        assert exc.value.code == "ServiceUnavailable"
        assert pool.stats() == []

    run(main)


def test_request_that_kills_every_replica_fails_after_retries(run_dir: Path,
                                                              tmp_path: Path) -> None:
    crashing = save_test_model(tmp_path / "crashing", "crashing")

    async def main() -> None:
        async with ReplicaPool(crashing, run_dir, 2, health_interval=0.2) as pool:
            with pytest.raises(NoHealthyReplica, match=f"sent to {MAX_ATTEMPTS} replicas"):
                await pool.invoke(_body("crash"), JSON, JSON)
            await _until(lambda: pool.healthy == 2)
            assert sum(s.restarts for s in pool.stats()) == MAX_ATTEMPTS
            assert (await pool.invoke(_body("fine"), JSON, JSON)).status == 200

    run(main)


def test_long_run_dir_uses_a_short_socket_folder(model_dir: Path, run_dir: Path) -> None:
    deep = run_dir / ("x" * 60) / ("y" * 60)

    async def main() -> None:
        async with ReplicaPool(model_dir, deep, 1, health_interval=0.1) as pool:
            assert (await pool.invoke(_body("love it"), JSON, JSON)).status == 200
            await asyncio.sleep(0.3)  # a few health pings
            stats = pool.stats()[0]
            assert stats.healthy and stats.rss_bytes > 10_000_000 and stats.cpu_seconds > 0
            assert (deep / "replica-0.log").read_text().count("mlyard-replica ready") == 1

    run(main)


def test_frame_helpers_roundtrip() -> None:
    frame = encode_request(KIND_INVOKE, 7, b"text/csv", b"*/*", b"body")
    (length,) = struct.unpack_from("<I", frame)
    assert length == len(frame) - 4


def test_nested_json_is_a_400_and_kills_no_replica(model_dir: Path, run_dir: Path) -> None:
    """About 6 KB of ``[[[[...]]]]`` is the client's error: answered once with a 400 by the
    replica it reached, which keeps serving (issue 10, item 2)."""
    nested = b"[" * 3000 + b"]" * 3000

    async def main() -> None:
        async with ReplicaPool(model_dir, run_dir, 1, health_interval=0.1) as pool:
            pid = pool.stats()[0].pid
            for body, ctype in ((nested, JSON), (b'{"instances": [' + nested + b"]}", JSON),
                                (nested + b"\n", "application/jsonlines")):
                r = await pool.invoke(body, ctype, JSON)
                assert (r.status, r.replica) == (400, pid), r
                error = json.loads(r.body)
                assert error["ErrorCode"] == "ValidationError" and "nested" in error["Message"]
            assert (await pool.invoke(_body("love it"), JSON, JSON)).status == 200
            await _until(lambda: pool.stats()[0].requests == 4)  # each answered once
            stats = pool.stats()[0]
            assert (stats.pid, stats.restarts, stats.healthy) == (pid, 0, True)
            assert _alive(pid)

    run(main)
