"""Bench: real-time serving throughput and latency of mlyard endpoints vs a bare app vs Ray Serve.

One BlazingText model (course transform of the public Kaggle dataset "Women's E-Commerce
Clothing Reviews" by Nick Brooks, CC0; the demo's hyperparameters, 10 epochs), trained twice
(seeds 1 and 2) into a temporary workspace, is served four ways; each is loaded with ``wrk``
on 127.0.0.1, one real review per request (``{"instances": ["<review>"]}``, a few reviews in
rotation, ``Content-Type: application/json``):

(a) ``bare``: a Starlette app on uvicorn (uvloop, httptools, access log off, 1 worker) that
    calls ``load_model(dir).predict`` in its own process: the floor of what serving costs.
(b) ``mlyard``: ``mlyard server`` with an endpoint of one variant (1 replica), created
    through :class:`mlyard.serving.client.EndpointsClient`.
(c) ``mlyard-ab``: an endpoint of two variants weighted 50/50 (1 replica each) plus a shadow
    variant sampling 10 % of the traffic.
(d) ``ray``: Ray Serve, one deployment (1 replica) that loads the same model and parses the
    same JSON from the request Ray's HTTP proxy hands it (access log off).

Each case: a warm-up run of ``wrk`` (``--warmup`` s), then ``--repeats`` measured runs of
``--seconds`` s with ``wrk -t1 -c16 --latency`` (``--threads``/``--connections``); the
reported run is the one of median throughput. While ``wrk`` runs, the CPU time of every
process involved (``wrk``, the server, its replicas, Ray's processes) is read with psutil,
giving the cores each used and its CPU milliseconds per request (for (b) and (c): the
router, i.e. the ``mlyard server`` process, vs its replica processes). Every server under
test listens on 127.0.0.1 only and runs in its own process group; all are stopped at the end
(also on errors or SIGTERM) and the bench checks that none of their processes is left. The
TCP addresses each server's processes listen on are recorded: Ray's own gRPC servers (GCS,
raylet, workers) listen on the node's address whatever ``ray.init`` is told, and show up
under ``non_loopback_listeners`` of (d).

Targets: (b)/(a) throughput >= 0.80, p50 of (b) at most 1 ms above (a), (b)/(d) throughput
>= 5. If Ray Serve cannot start, (d) is null and ``errors`` says why.

Data capture, side by side in the same run and on the same server as (b):
(e) is (b) with data capture of every request under ``FlushPolicy: "interval"`` (the
default: records written each ``FlushIntervalSeconds``, a crash loses up to that window) and
(f) under ``FlushPolicy: "every"`` (each record written before its response is sent, nothing
answered is lost). The ratios (e)/(b), (f)/(b) and the p50 differences are the cost of
capture (see :mod:`mlyard.serving.capture`). ``--capture interval|every`` (``--capture-sync``
is ``--capture every``) also turns capture on for (b) and (c).

Usage: ``python bench/serving.py [--cases a,b,c,d,e,f] [--seconds 10] [--repeats 1] [--save]``;
the last line printed is one line of JSON with every figure, the targets and whether each was
met (``--save`` also writes it to ``bench/results/serving.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from _common import machine

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv"
RESULTS = REPO / "bench" / "results" / "serving.json"
MODELS = {"bench-bt-1": 1, "bench-bt-2": 2}  # model name -> training seed
CASES = {
    "a": "bare Starlette/uvicorn, in-process",
    "b": "mlyard endpoint, 1 variant",
    "c": "mlyard, 2 variants 50/50 + 10% shadow",
    "d": "Ray Serve, 1 replica",
    "e": "(b) + capture, FlushPolicy interval",
    "f": "(b) + capture, FlushPolicy every",
}
#: The flush policy of each data-capture case (every request captured).
CAPTURE_CASES = {"e": "interval", "f": "every"}
TARGETS = {"b_over_a_throughput": 0.80, "b_added_p50_ms": 1.0, "b_over_d_throughput": 5.0}

BARE_APP = '''
"""(a) A bare Starlette app on uvicorn that predicts in-process."""
import json
import socket
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mlyard.models import load_model

model = load_model(sys.argv[1])
model.predict(["warm up"])


async def invocations(request: Request) -> Response:
    data = json.loads(await request.body())
    preds = model.predict(data["instances"])
    return Response(json.dumps(preds).encode(), media_type="application/json")


app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"])])
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False,
                        log_level="warning", workers=1)
server = uvicorn.Server(config)
ready = Path(sys.argv[2])
ready.with_suffix(".tmp").write_text(str(sock.getsockname()[1]))
ready.with_suffix(".tmp").replace(ready)
server.run(sockets=[sock])  # runs on config.loop (uvloop)
'''

RAY_APP = '''
"""(d) Ray Serve: one deployment loading the model, Ray's HTTP proxy as ingress."""
import json
import signal
import sys
import time
from pathlib import Path

import ray
from ray import serve
from starlette.requests import Request

model_dir, port, ready, max_ongoing, temp_dir = (sys.argv[1], int(sys.argv[2]),
                                                 Path(sys.argv[3]), int(sys.argv[4]),
                                                 sys.argv[5])
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
signal.signal(signal.SIGINT, lambda *_: stopping.append(1))

# Serve's HTTP proxy binds 127.0.0.1 (http_options); Ray's own gRPC servers (GCS, raylet,
# workers) listen on the node's address whatever ray.init is given (127.0.0.1 is resolved
# to the node IP), so the bench reports them as non-loopback listeners.
ray.init(include_dashboard=False, log_to_driver=False, _temp_dir=temp_dir)
try:
    serve.start(http_options={"host": "127.0.0.1", "port": port},
                logging_config={"enable_access_log": False, "log_level": "WARNING"})

    @serve.deployment(num_replicas=1, max_ongoing_requests=max_ongoing,
                      logging_config={"enable_access_log": False, "log_level": "WARNING"})
    class Model:
        def __init__(self, model_dir: str) -> None:
            from mlyard.models import load_model

            self.model = load_model(model_dir)
            self.model.predict(["warm up"])

        async def __call__(self, request: Request) -> list:
            data = json.loads(await request.body())
            return self.model.predict(data["instances"])

    serve.run(Model.bind(model_dir), route_prefix="/invocations")
    ready.with_suffix(".tmp").write_text(str(port))
    ready.with_suffix(".tmp").replace(ready)
    while not stopping:
        time.sleep(0.2)
finally:
    try:
        serve.shutdown()
    finally:
        ray.shutdown()
'''


# -- machine, wrk ---------------------------------------------------------------------------


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def duration_ms(text: str) -> float:
    """``wrk``'s printed durations (``812.00us``, ``1.20ms``, ``2.01s``, ``1.00m``) in ms."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    """Requests/s, p50/p99 (ms), request and error counts from ``wrk --latency`` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+)", out, re.M)
    if rps is None or p50 is None or p99 is None or total is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     out)
    return {"requests_per_s": float(rps.group(1)), "p50_ms": duration_ms(p50.group(1)),
            "p99_ms": duration_ms(p99.group(1)), "requests": int(total.group(1)),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0}


def write_lua(path: Path, bodies: list[str]) -> Path:
    """A wrk script that POSTs ``bodies`` in rotation (requests built once, in ``init``)."""
    items = []
    for body in bodies:
        level = 1
        while f"]{'=' * level}]" in body:
            level += 1
        items.append(f"[{'=' * level}[{body}]{'=' * level}]")
    path.write_text(textwrap.dedent("""\
        local bodies = {
        %s
        }
        local requests = {}
        local i = 0
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["Accept"] = "application/json"
        function init(args)
          for k, body in ipairs(bodies) do
            requests[k] = wrk.format("POST", nil, nil, body)
          end
        end
        function request()
          i = i %% #requests + 1
          return requests[i]
        end
        """) % ",\n".join(items))
    return path


# -- processes ----------------------------------------------------------------------------
class Proc:
    """A server subprocess in its own process group; remembers every descendant it has seen
    so that :meth:`stop` can make sure none is left."""

    def __init__(self, name: str, argv: list[str], log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          cwd=log.parent)
        self.main = psutil.Process(self.popen.pid)
        self.seen: dict[int, psutil.Process] = {self.main.pid: self.main}

    def descendants(self) -> list[psutil.Process]:
        """Live descendants now (and remember them)."""
        try:
            kids = self.main.children(recursive=True)
        except psutil.Error:
            kids = []
        for p in kids:
            self.seen.setdefault(p.pid, p)
        return kids

    def alive(self) -> bool:
        return self.popen.poll() is None

    def listening(self) -> list[str]:
        """``address:port`` of every TCP socket this server's processes listen on."""
        out = set()
        for p in [self.main, *self.descendants()]:
            with contextlib.suppress(psutil.Error):
                for c in p.net_connections(kind="inet"):
                    if c.status == psutil.CONN_LISTEN:
                        out.add(f"{c.laddr.ip}:{c.laddr.port}")
        return sorted(out)

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        return ""

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> None:
        """Ask the main process to stop (``sig``), then kill whatever is left: the process
        group and every descendant ever seen."""
        self.descendants()
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        survivors = [p for p in self.seen.values() if p.is_running()]
        if survivors:
            _, survivors = psutil.wait_procs(survivors, timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        for p in survivors:
            with contextlib.suppress(psutil.Error):
                p.kill()
        psutil.wait_procs(survivors, timeout=5)

    def leftovers(self) -> list[str]:
        """Processes of this server still running (should be none after :meth:`stop`)."""
        out = []
        for p in self.seen.values():
            with contextlib.suppress(psutil.Error):
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"{p.pid} {' '.join(p.cmdline())[:100]}")
        return out


def wait_for(what: str, check: Callable[[], Any], proc: Proc, timeout: float) -> Any:
    """Poll ``check`` until it returns a truthy value; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited while waiting for {what}:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.name}: no {what} within {timeout:.0f} s:\n{proc.tail()}")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post_ok(url: str, body: str) -> bool:
    import httpx

    try:
        r = httpx.post(url, content=body, headers={"Content-Type": "application/json"},
                       timeout=10.0)
    except httpx.HTTPError:
        return False
    return r.status_code == 200


def _cpu_seconds(p: psutil.Process) -> float | None:
    try:
        t = p.cpu_times()
    except psutil.Error:
        return None
    return float(t.user + t.system)


# -- load ---------------------------------------------------------------------------------
def run_wrk(args: argparse.Namespace, url: str, lua: Path, seconds: int,
            groups: dict[str, list[psutil.Process]] | None = None) -> dict[str, Any]:
    """One ``wrk`` run; with ``groups``, the cores and CPU ms per request of each group of
    processes (and of ``wrk``) while it ran."""
    cmd = [args.wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s",
           "--latency", "--timeout", "10s", "-s", str(lua), url]
    groups = dict(groups or {})
    before = {name: [_cpu_seconds(p) for p in procs] for name, procs in groups.items()}
    started = time.perf_counter()
    wrk = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wrk_ps = psutil.Process(wrk.pid)
    wrk_cpu = 0.0
    try:
        while wrk.poll() is None:
            wrk_cpu = _cpu_seconds(wrk_ps) or wrk_cpu
            time.sleep(0.05)
    finally:
        if wrk.poll() is None:
            wrk.kill()
        out = wrk.communicate()[0]
    wall = time.perf_counter() - started
    if wrk.returncode != 0:
        raise RuntimeError(f"wrk failed ({wrk.returncode}): {out}")
    result = parse_wrk(out)
    cpu: dict[str, float] = {}
    for name, procs in groups.items():
        total = 0.0
        for p, b in zip(procs, before[name], strict=True):
            a = _cpu_seconds(p)
            if a is not None and b is not None:
                total += a - b
        cpu[name] = total
    cpu["wrk"] = wrk_cpu
    requests = max(1, result["requests"])
    result["cpu_cores"] = {k: round(v / wall, 3) for k, v in cpu.items()}
    result["cpu_ms_per_request"] = {k: round(v / requests * 1e3, 4) for k, v in cpu.items()}
    return result


def measure(args: argparse.Namespace, url: str, lua: Path, proc: Proc,
            groups: Callable[[], dict[str, list[psutil.Process]]]) -> dict[str, Any]:
    """Warm up, then ``--repeats`` runs; the run of median throughput, with all runs, and
    the TCP addresses the server's processes listen on (all should be 127.0.0.1)."""
    if args.warmup > 0:
        run_wrk(args, url, lua, args.warmup)
    listening = proc.listening()
    runs = [run_wrk(args, url, lua, args.seconds, groups()) for _ in range(args.repeats)]
    ordered = sorted(runs, key=lambda r: r["requests_per_s"])
    best = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        best["runs"] = [{k: r[k] for k in ("requests_per_s", "p50_ms", "p99_ms")}
                        for r in runs]
        best["requests_per_s_median"] = statistics.median(r["requests_per_s"] for r in runs)
    best["listening"] = listening
    best["non_loopback_listeners"] = [a for a in listening if not a.startswith("127.")]
    if best["non_loopback_listeners"]:
        print(f"warning: {proc.name} listens beyond 127.0.0.1: "
              f"{best['non_loopback_listeners']}", file=sys.stderr)
    return best


# -- model and workspace ------------------------------------------------------------------
def prepare(args: argparse.Namespace, tmp: Path) -> tuple[Any, dict[str, Path], list[str]]:
    """Train the models, register them in a fresh workspace; (settings, model dirs, bodies)."""
    from mlyard.algorithms import TrainingContext, get_algorithm
    from mlyard.config import Settings
    from mlyard.core.workspace import Workspace
    from mlyard.datasets.reviews import course_transform, load_raw
    from mlyard.demo import DEMO_HYPERPARAMETERS

    frame = course_transform(load_raw(args.data))
    train_csv = tmp / "reviews.csv"
    frame.rename(columns={"sentiment": "label", "review_body": "text"})[["label", "text"]]\
        .to_csv(train_csv, index=False)
    settings = Settings.from_env(tmp / "ws")
    ws = Workspace(settings)
    dirs: dict[str, Path] = {}
    try:
        algo = get_algorithm("blazingtext")
        for name, seed in MODELS.items():
            ctx = TrainingContext(channels={"train": train_csv}, model_dir=tmp / name / "model",
                                  output_dir=tmp / name / "out", log=lambda _m: None)
            hps = {**DEMO_HYPERPARAMETERS, "epochs": args.epochs, "seed": seed}
            t = time.perf_counter()
            algo.train(ctx, algo.resolve_hyperparameters(hps))
            print(f"trained {name} (seed {seed}) on {len(frame)} reviews in "
                  f"{time.perf_counter() - t:.1f} s", file=sys.stderr)
            uri = ws.artifacts.upload(ctx.model_dir, ws.artifacts.uri("models", name))
            ws.store.create_model(name, uri, "blazingtext")
            dirs[name] = ctx.model_dir
    finally:
        ws.close()
    texts = [str(t) for t in frame["review_body"]]
    picked = random.Random(args.seed).sample(texts, args.texts)
    bodies = [json.dumps({"instances": [t]}) for t in picked]
    return settings, dirs, bodies


# -- cases --------------------------------------------------------------------------------
def case_bare(args: argparse.Namespace, tmp: Path, model_dir: Path, lua: Path,
              bodies: list[str], procs: list[Proc]) -> dict[str, Any]:
    script = tmp / "bare_app.py"
    script.write_text(BARE_APP)
    ready = tmp / "bare.port"
    proc = Proc("bare app", [sys.executable, str(script), str(model_dir), str(ready)],
                tmp / "bare.log")
    procs.append(proc)
    try:
        port = int(wait_for("port", lambda: ready.exists() and ready.read_text(), proc, 120))
        url = f"http://127.0.0.1:{port}/invocations"
        wait_for("a 200 answer", lambda: post_ok(url, bodies[0]), proc, 60)
        return measure(args, url, lua, proc, lambda: {"server": [proc.main]})
    finally:
        proc.stop()


def start_mlyard(settings: Any, tmp: Path, procs: list[Proc]) -> tuple[Proc, Any]:
    from mlyard.serving.client import EndpointsClient

    info = settings.home / "server.json"
    info.unlink(missing_ok=True)
    env = {**os.environ, **settings.child_env()}
    proc = Proc("mlyard server", [sys.executable, "-m", "mlyard", "server", "--port", "0"],
                tmp / "mlyard-server.log", env=env)
    procs.append(proc)

    def announced() -> str | None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            data = json.loads(info.read_text())
            if data["pid"] == proc.main.pid:
                return str(data["url"])
        return None

    url = wait_for("server.json", announced, proc, 120)
    if not url.startswith("http://127.0.0.1:"):
        raise RuntimeError(f"mlyard server is not on 127.0.0.1: {url}")
    return proc, EndpointsClient(url)


def _variant(name: str, model: str, weight: float = 1.0) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InitialVariantWeight": weight,
            "InitialInstanceCount": 1}


def case_mlyard(args: argparse.Namespace, proc: Proc, client: Any, name: str,
                spec: dict[str, Any], lua: Path, bodies: list[str]) -> dict[str, Any]:
    from mlyard.sdk.endpoints import wait_for_endpoint

    client.create_endpoint_config({"EndpointConfigName": f"{name}-cfg", **spec})
    client.create_endpoint(name, f"{name}-cfg")
    try:
        desc = wait_for_endpoint(client, name, timeout=180)
        url = f"{client.url}/endpoints/{name}/invocations"
        wait_for("a 200 answer", lambda: post_ok(url, bodies[0]), proc, 60)

        def groups() -> dict[str, list[psutil.Process]]:
            return {"router": [proc.main], "replicas": proc.descendants()}

        result = measure(args, url, lua, proc, groups)
        result["replica_processes"] = len(proc.descendants())
        variants = [v["VariantName"] for v in desc["ProductionVariants"]]
        if "ShadowProductionVariant" in desc:
            variants.append(desc["ShadowProductionVariant"]["VariantName"])
        if len(variants) > 1:  # the traffic split the server recorded (warm-up included)
            counts = {}
            for v in variants:
                points = client.metrics(name, "Invocations", variant=v, period=60,
                                        stat="Sum", start=-3600)
                counts[v] = int(sum(p["Value"] for p in points))
            result["invocations_by_variant"] = counts
        return result
    finally:
        with contextlib.suppress(Exception):
            client.delete_endpoint(name)


def case_ray(args: argparse.Namespace, tmp: Path, model_dir: Path, lua: Path,
             bodies: list[str], procs: list[Proc]) -> dict[str, Any]:
    script = tmp / "ray_app.py"
    script.write_text(RAY_APP)
    ready = tmp / "ray.port"
    port = free_port()
    ray_tmp = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))  # short: Ray's socket paths
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_SERVE_LOG_TO_STDERR": "0"}
    proc = Proc("ray serve", [sys.executable, str(script), str(model_dir), str(port),
                              str(ready), str(args.ray_max_ongoing), str(ray_tmp)],
                tmp / "ray.log", env=env)
    procs.append(proc)
    try:
        wait_for("Serve app", lambda: ready.exists(), proc, 300)
        url = f"http://127.0.0.1:{port}/invocations"
        wait_for("a 200 answer", lambda: post_ok(url, bodies[0]), proc, 60)

        def groups() -> dict[str, list[psutil.Process]]:
            out: dict[str, list[psutil.Process]] = {"proxy": [], "replica": [],
                                                    "ray other": [proc.main]}
            for p in proc.descendants():
                with contextlib.suppress(psutil.Error):
                    line = " ".join(p.cmdline())
                    key = ("proxy" if "ProxyActor" in line else
                           "replica" if "ServeReplica" in line else "ray other")
                    out[key].append(p)
            return out

        return measure(args, url, lua, proc, groups)
    finally:
        proc.stop(signal.SIGTERM, timeout=60)
        shutil.rmtree(ray_tmp, ignore_errors=True)


# -- report -------------------------------------------------------------------------------
def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(cases: dict[str, dict[str, Any] | None], errors: dict[str, str],
           args: argparse.Namespace, extra: dict[str, Any]) -> dict[str, Any]:
    """Print the table and the ratios; the JSON summary."""
    print()
    print(f"wrk -t{args.threads} -c{args.connections}, {args.seconds} s per run after "
          f"{args.warmup} s warm-up, {args.repeats} run(s) per case (median shown)")
    head = f"{'case':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  CPU cores"
    print(head)
    print("-" * len(head))
    for key, label in CASES.items():
        r = cases.get(key)
        if r is None:
            why = errors.get(key, "not run")
            print(f"({key}) {label:<40} {'-':>9} {'-':>8} {'-':>8} {'-':>7}  {why[:60]}")
            continue
        cores = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_cores"].items())
        err = r["non_2xx"] + r["socket_errors"]
        print(f"({key}) {label:<40} {r['requests_per_s']:>9.0f} {r['p50_ms']:>8.2f} "
              f"{r['p99_ms']:>8.2f} {err:>7}  {cores}")

    def rps(k: str) -> float | None:
        r = cases.get(k)
        return None if r is None else float(r["requests_per_s"])

    a, b, d = rps("a"), rps("b"), rps("d")
    ratios: dict[str, float | None] = {
        "b_over_a_throughput": round(b / a, 4) if a and b is not None else None,
        "b_added_p50_ms": (round(cases["b"]["p50_ms"] - cases["a"]["p50_ms"], 3)  # type: ignore[index]
                           if cases.get("a") and cases.get("b") else None),
        "b_over_d_throughput": round(b / d, 3) if d and b is not None else None,
        "c_over_b_throughput": (round(rps("c") / b, 4)  # type: ignore[operator]
                                if b and rps("c") is not None else None),
    }
    for key, policy in CAPTURE_CASES.items():  # the cost of data capture, vs (b)
        r, rb = cases.get(key), cases.get("b")
        ratios[f"capture_{policy}_over_b_throughput"] = (
            round(float(r["requests_per_s"]) / b, 4) if r and b else None)
        ratios[f"capture_{policy}_added_p50_ms"] = (
            round(r["p50_ms"] - rb["p50_ms"], 3) if r and rb else None)
    met: dict[str, bool | None] = {
        "b_over_a_throughput": None if ratios["b_over_a_throughput"] is None
        else ratios["b_over_a_throughput"] >= TARGETS["b_over_a_throughput"],
        "b_added_p50_ms": None if ratios["b_added_p50_ms"] is None
        else ratios["b_added_p50_ms"] <= TARGETS["b_added_p50_ms"],
        "b_over_d_throughput": None if ratios["b_over_d_throughput"] is None
        else ratios["b_over_d_throughput"] >= TARGETS["b_over_d_throughput"],
    }
    print()
    labels = {"b_over_a_throughput": ("(b)/(a) throughput", ">=", ".3f"),
              "b_added_p50_ms": ("(b) - (a) p50 latency, ms", "<=", ".3f"),
              "b_over_d_throughput": ("(b)/(d) throughput", ">=", ".2f")}
    for key, (label, op, spec) in labels.items():
        verdict = {True: "met", False: "MISSED", None: "n/a"}[met[key]]
        print(f"{label:<30} {_fmt(ratios[key], spec):>8}   target {op} {TARGETS[key]}  "
              f"{verdict}")
    if ratios["c_over_b_throughput"] is not None:
        print(f"{'(c)/(b) throughput':<30} {ratios['c_over_b_throughput']:>8.3f}")
    for key, policy in CAPTURE_CASES.items():
        if ratios[f"capture_{policy}_over_b_throughput"] is not None:
            print(f"{f'({key})/(b) throughput, {policy}':<30} "
                  f"{ratios[f'capture_{policy}_over_b_throughput']:>8.3f}   p50 "
                  f"{ratios[f'capture_{policy}_added_p50_ms']:+.3f} ms vs (b)")
    known = [v for v in met.values() if v is not None]
    return {
        "bench": "serving",
        "params": {"seconds": args.seconds, "warmup": args.warmup, "repeats": args.repeats,
                   "wrk_threads": args.threads, "wrk_connections": args.connections,
                   "cases": sorted(cases), "epochs": args.epochs,
                   "ray_max_ongoing_requests": args.ray_max_ongoing},
        **extra,
        "cases": {k: cases.get(k) for k in CASES},
        "errors": errors,
        "ratios": ratios,
        "targets": TARGETS,
        "targets_met": met,
        "all_targets_met": bool(known) and len(known) == len(met) and all(known),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="a,b,c,d,e,f",
                   help="comma-separated subset of a,b,c,d,e,f")
    p.add_argument("--seconds", type=int, default=10, help="measured seconds per run")
    p.add_argument("--warmup", type=int, default=2, help="warm-up seconds per case")
    p.add_argument("--repeats", type=int, default=1, help="measured runs per case")
    p.add_argument("--threads", type=int, default=1, help="wrk -t")
    p.add_argument("--connections", type=int, default=16, help="wrk -c")
    p.add_argument("--wrk", default="wrk", help="the wrk executable")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the reviews CSV")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--texts", type=int, default=8, help="reviews rotated in the requests")
    p.add_argument("--seed", type=int, default=0, help="seed of the review sample")
    p.add_argument("--ray-max-ongoing", type=int, default=64,
                   help="Ray Serve max_ongoing_requests (mlyard's per-replica in-flight cap)")
    p.add_argument("--capture", choices=("off", "interval", "every"), default="off",
                   help="data capture of every request for (b) and (c), with this flush policy")
    p.add_argument("--capture-sync", dest="capture", action="store_const", const="every",
                   help="same as --capture every: each record written before the response")
    p.add_argument("--save", action="store_true", help=f"write the JSON to {RESULTS}")
    args = p.parse_args(argv)
    extra_spec: dict[str, Any] = {}
    if args.capture != "off":
        extra_spec["DataCaptureConfig"] = {"EnableCapture": True,
                                           "InitialSamplingPercentage": 100,
                                           "FlushPolicy": args.capture}
    chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(chosen) - set(CASES))
    if unknown or not chosen:
        p.error(f"--cases takes a comma-separated subset of {','.join(CASES)}; got {unknown}")
    if shutil.which(args.wrk) is None:
        p.error(f"wrk not found ({args.wrk}); install it (apt-get install wrk)")

    cases: dict[str, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    procs: list[Proc] = []
    extra: dict[str, Any] = {"capture": args.capture}

    def run_case(key: str, fn: Callable[[], dict[str, Any]]) -> None:
        print(f"({key}) {CASES[key]} ...", file=sys.stderr)
        try:
            cases[key] = fn()
        except Exception as exc:  # one case failing leaves the others to run; say why
            prefix = "Ray Serve did not run: " if key == "d" else ""
            errors[key] = f"{prefix}{type(exc).__name__}: {exc}"
            cases[key] = None
            print(f"({key}) failed: {errors[key]}", file=sys.stderr)

    # SIGTERM unwinds like Ctrl-C, so the finally blocks below stop every server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="mlyard-bench-serving-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            settings, dirs, bodies = prepare(args, tmp)
            lua = write_lua(tmp / "post.lua", bodies)
            extra["payload"] = {"reviews": len(bodies), "mean_body_bytes": round(
                statistics.mean(len(b.encode()) for b in bodies), 1)}
            model_dir = dirs["bench-bt-1"]
            if "a" in chosen:
                run_case("a", lambda: case_bare(args, tmp, model_dir, lua, bodies, procs))
            mlyard_cases = [k for k in ("b", "c", *CAPTURE_CASES) if k in chosen]
            if mlyard_cases:
                try:
                    proc, client = start_mlyard(settings, tmp, procs)
                except Exception as exc:
                    for key in mlyard_cases:
                        errors[key] = f"mlyard server did not start: {exc}"
                        cases[key] = None
                    print(f"mlyard server did not start: {exc}", file=sys.stderr)
                else:
                    try:
                        if "b" in chosen:
                            run_case("b", lambda: case_mlyard(args, proc, client, "bench-one", {
                                "ProductionVariants": [_variant("AllTraffic", "bench-bt-1")],
                                **extra_spec},
                                lua, bodies))
                        if "c" in chosen:
                            run_case("c", lambda: case_mlyard(args, proc, client, "bench-ab", {
                                "ProductionVariants": [_variant("A", "bench-bt-1", 0.5),
                                                       _variant("B", "bench-bt-2", 0.5)],
                                "ShadowProductionVariant": {"VariantName": "Shadow",
                                                            "ModelName": "bench-bt-2",
                                                            "SamplingPercentage": 10},
                                **extra_spec},
                                lua, bodies))
                        for key, policy in CAPTURE_CASES.items():
                            if key in chosen:
                                run_case(key, functools.partial(
                                    case_mlyard, args, proc, client, f"bench-capture-{policy}",
                                    {"ProductionVariants": [
                                        _variant("AllTraffic", "bench-bt-1")],
                                     "DataCaptureConfig": {
                                         "EnableCapture": True,
                                         "InitialSamplingPercentage": 100,
                                         "FlushPolicy": policy}},
                                    lua, bodies))
                    finally:
                        client.close()
                        proc.stop()
            if "d" in chosen:
                run_case("d", lambda: case_ray(args, tmp, model_dir, lua, bodies, procs))
        finally:
            for proc in procs:
                proc.stop()
            left = [line for proc in procs for line in proc.leftovers()]
            extra["leftover_processes"] = left
            if left:
                print(f"warning: processes left running: {left}", file=sys.stderr)
    summary = report(cases, errors, args, extra)
    line = json.dumps(summary)
    if args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(line + "\n")
    print(line)
    failed = [k for k in errors if k != "d"]  # Ray Serve not starting is recorded, not fatal
    return 1 if failed or extra["leftover_processes"] else 0


if __name__ == "__main__":
    sys.exit(main())
