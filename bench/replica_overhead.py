"""Micro-benchmark of the replica IPC path: in-process predict vs ReplicaPool.invoke.

Usage::

    python bench/replica_overhead.py [--model-dir D] [--seconds 3] [--concurrency 16]

Without ``--model-dir`` a tiny BlazingText model is trained into a temporary folder.
Measures, on one short review text (one instance per request):

1. ``inproc_predict``: ``model.predict([text])`` in a loop (requests/s, p50 latency);
2. ``inproc_full``: the same plus the codec (JSON body decoded, predictions encoded),
   i.e. what a replica computes per request;
3. ``pool_c1``: ``pool.invoke`` with one replica, one request at a time (latency);
4. ``pool_cN``: ``pool.invoke`` with one replica from one asyncio client keeping
   ``--concurrency`` requests in flight (throughput).

Prints a table, the per-request overheads in microseconds (latency added at concurrency 1;
client-side CPU per request, i.e. what a router spends on IPC; replica CPU per request),
and one line of JSON at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine

TEXT = "This dress is lovely, the fabric is soft and it fits perfectly. Would buy again!"
BODY = json.dumps({"instances": [TEXT]}).encode()
JSON = "application/json"


def _train(tmp: Path) -> Path:
    from mlyard.algorithms import get_algorithm
    from mlyard.algorithms.base import TrainingContext
    from mlyard.testing.algorithms import make_text_dataset

    algo = get_algorithm("blazingtext")
    data = make_text_dataset(tmp / "train.csv", 300, seed=1)
    ctx = TrainingContext(channels={"train": data}, model_dir=tmp / "model",
                          output_dir=tmp / "out", num_threads=1, device="cpu",
                          log=lambda _m: None)
    algo.train(ctx, algo.resolve_hyperparameters({
        "epochs": 5, "vector_dim": 16, "buckets": 10000, "min_count": 1,
        "learning_rate": 0.5, "backend": "cpu"}))
    return ctx.model_dir


def _loop_stats(fn: Any, seconds: float) -> dict[str, float]:
    for _ in range(200):
        fn()
    lat: list[float] = []
    cpu0 = time.process_time()
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        lat.append(t1 - t0)
        if t1 > end:
            break
    wall = time.perf_counter() - start
    return {"rps": len(lat) / wall, "p50_us": statistics.median(lat) * 1e6,
            "cpu_us_per_req": (time.process_time() - cpu0) / len(lat) * 1e6}


async def _pool_stats(model_dir: Path, run_dir: Path, seconds: float, concurrency: int,
                      max_batch: int) -> tuple[dict[str, float], dict[str, float]]:
    from mlyard.serving.pool import ReplicaPool

    pool = ReplicaPool(model_dir, run_dir, 1, name="bench", health_interval=3600,
                       max_batch=max_batch)
    await pool.start()
    try:
        for _ in range(500):  # warm-up
            await pool.invoke(BODY, JSON, JSON)
        # concurrency 1: latency
        lat: list[float] = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            r = await pool.invoke(BODY, JSON, JSON)
            lat.append(time.perf_counter() - t0)
            assert r.status == 200, r
        c1 = {"rps": len(lat) / sum(lat), "p50_us": statistics.median(lat) * 1e6}

        # concurrency N: throughput
        pong0 = await pool._ping(pool._slots[0])
        count = 0
        lat_n: list[float] = []

        async def client(stop: float) -> None:
            nonlocal count
            while True:
                t0 = time.perf_counter()
                r = await pool.invoke(BODY, JSON, JSON)
                t1 = time.perf_counter()
                if r.status != 200:
                    raise RuntimeError(r)
                count += 1
                lat_n.append(t1 - t0)
                if t1 > stop:
                    return

        cpu0 = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(client(start + seconds) for _ in range(concurrency)))
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        pong1 = await pool._ping(pool._slots[0])
        assert pong0 is not None and pong1 is not None
        cn = {"rps": count / wall, "p50_us": statistics.median(lat_n) * 1e6,
              "client_cpu_us_per_req": cpu / count * 1e6,
              "replica_cpu_us_per_req": (pong1["cpu_seconds"] - pong0["cpu_seconds"])
              / count * 1e6}
        return c1, cn
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-batch", type=int, default=64,
                        help="replica dynamic batching cap (1 disables batching)")
    parser.add_argument("--uvloop", action="store_true", help="run the client on uvloop")
    parser.add_argument("--save", action="store_true",
                        help="write the JSON line to bench/results/replica_overhead.json")
    args = parser.parse_args()

    from mlyard.models import load_model
    from mlyard.serving.codec import decode_instances, encode_predictions

    with tempfile.TemporaryDirectory(prefix="mlyard-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model_dir = args.model_dir or _train(tmp)
        model = load_model(model_dir)

        def predict() -> None:
            model.predict([TEXT])

        def full() -> None:
            instances, params = decode_instances(BODY, JSON)
            encode_predictions(model.predict(instances, params.get("top_k", 1)), JSON)

        inproc = _loop_stats(predict, args.seconds)
        inproc_full = _loop_stats(full, args.seconds)
        runner: Any = asyncio.run
        if args.uvloop:
            import uvloop

            runner = uvloop.run
        c1, cn = runner(_pool_stats(Path(model_dir), tmp / "run", args.seconds,
                                    args.concurrency, args.max_batch))

    added_p50 = c1["p50_us"] - inproc["p50_us"]
    rows = [("inproc_predict", inproc), ("inproc_full", inproc_full), ("pool_c1", c1),
            (f"pool_c{args.concurrency}", cn)]
    print(f"{'case':<16}{'req/s':>10}{'p50 us':>10}")
    for name, row in rows:
        print(f"{name:<16}{row['rps']:>10.0f}{row['p50_us']:>10.1f}")
    print(f"latency added at concurrency 1 (p50): {added_p50:.1f} us")
    print(f"client (router) CPU per request at c{args.concurrency}: "
          f"{cn['client_cpu_us_per_req']:.1f} us")
    print(f"replica CPU per request at c{args.concurrency}: "
          f"{cn['replica_cpu_us_per_req']:.1f} us "
          f"(in-process predict+codec: {inproc_full['cpu_us_per_req']:.1f} us)")
    print(f"pool throughput / in-process predict: {cn['rps'] / inproc['rps']:.2f}")
    figures = {
        "bench": "replica_overhead",
        "inproc_predict_rps": round(inproc["rps"]), "inproc_predict_p50_us":
        round(inproc["p50_us"], 1), "inproc_full_rps": round(inproc_full["rps"]),
        "pool_c1_rps": round(c1["rps"]), "pool_c1_p50_us": round(c1["p50_us"], 1),
        "pool_cN_rps": round(cn["rps"]), "pool_cN_p50_us": round(cn["p50_us"], 1),
        "concurrency": args.concurrency, "added_p50_us": round(added_p50, 1),
        "client_cpu_us_per_req": round(cn["client_cpu_us_per_req"], 1),
        "replica_cpu_us_per_req": round(cn["replica_cpu_us_per_req"], 1),
        "max_batch": args.max_batch, "uvloop": args.uvloop,
        "machine": machine()}
    line = json.dumps(figures)
    print(line)
    if args.save:
        out = Path(__file__).resolve().parent / "results" / "replica_overhead.json"
        out.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
