"""The training part of a job run: checkpoints, spot attempts, workers, Debugger, Profiler.

:class:`TrainingRun` is used by the ``training`` job kind (:mod:`mlyard.training.kind`) in
the job's own process. A built-in algorithm with one process and no spot capacity trains in
that process; everything else (scripts, commands, containers, several ranks, spot) runs as worker
processes (:mod:`mlyard.training.launcher`), one attempt after another when a simulated spot
reclaim interrupts an attempt. Every training process gets the same environment contract:
``SM_*`` (script mode), ``SM_CHECKPOINT_DIR``, ``MLYARD_DEBUGGER_CONFIG``,
``MLYARD_PROFILER_CONFIG`` and, with several ranks, torchrun's and SageMaker's distribution
variables.

Time accounting follows SageMaker: ``TrainingTimeInSeconds`` is the wall time from start to
end, waits for spot capacity included; ``BillableTimeInSeconds`` is the training time
(× ``instance_count``) on demand, and for spot jobs the time instances ran, at the spot
price ratio; the saving is ``1 - billable / (training × instance_count)``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.core.context import resolve_input
from mlyard.core.logcapture import JobLog
from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError, ValidationError
from mlyard.training.channel_cache import ENV as CACHE_ENV
from mlyard.training.checkpoint import PREFIX, SAVE_LOG, checkpoint_env
from mlyard.training.distributed import WorldSpec, free_port
from mlyard.training.launcher import WorkerGroup, WorkerSpec
from mlyard.training.rule_store import RuleEvaluationStatus, RuleStatus, RuleStore
from mlyard.training.script_mode import (
    MlLayout,
    hyperparameter_args,
    stage_channel,
    training_environment,
)
from mlyard.training.spec import SpotConfig, TrainingJobSpec

#: Built-in workers report metric points on stdout with this prefix (JSON after it).
METRIC_PREFIX = "#mlyard-metric "
WORKER_FILE = "worker.json"
TIME_METRICS = ("TrainingTimeInSeconds", "BillableTimeInSeconds", "SpotInterruptions")


def spot_saving_percent(training_seconds: float, billable_seconds: float,
                        instance_count: int) -> float:
    """SageMaker's managed spot saving: ``1 - billable / (training × instances)``, in %."""
    if training_seconds <= 0:
        return 0.0
    return 100.0 * (1.0 - billable_seconds / (training_seconds * instance_count))


@contextlib.contextmanager
def environment(extra: dict[str, str]) -> Iterator[None]:
    """Set ``extra`` in ``os.environ`` for the duration (for in-process training)."""
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class SpotSchedule:
    """When the simulated spot capacity is reclaimed (see :class:`SpotConfig`)."""

    config: SpotConfig
    checkpoint_dir: Path | None
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.config.seed)

    def trigger(self, attempt: int) -> Callable[[], bool]:
        """A function that turns true when attempt ``attempt`` (0-based) is reclaimed."""
        cfg = self.config
        started = time.monotonic()
        at = cfg.interrupt_at_seconds[attempt] if attempt < len(cfg.interrupt_at_seconds) \
            else None
        if at is None and cfg.random_per_hour > 0:
            at = self._rng.expovariate(cfg.random_per_hour / 3600.0)
        after = cfg.interrupt_after_checkpoints[attempt] \
            if attempt < len(cfg.interrupt_after_checkpoints) else None
        before = set(self._checkpoints())
        saves_before = self._saves()
        new: set[str] = set()

        def fire() -> bool:
            if at is not None and time.monotonic() - started >= at:
                return True
            if after is None:
                return False
            new.update(set(self._checkpoints()) - before)
            return max(len(new), self._saves() - saves_before) >= after

        return fire

    def _checkpoints(self) -> list[str]:
        """What a script or a built-in has put in the checkpoint folder."""
        if self.checkpoint_dir is None or not self.checkpoint_dir.is_dir():
            return []
        return [p.name for p in self.checkpoint_dir.iterdir() if not p.name.startswith(".")]

    def _saves(self) -> int:
        """Checkpoints mlyard's :class:`CheckpointManager` wrote (pruned ones included)."""
        if self.checkpoint_dir is None:
            return 0
        try:
            return len((self.checkpoint_dir / SAVE_LOG).read_text().splitlines())
        except OSError:
            return 0


class PromptReports:
    """Makes a training job's reports prompt in both directions, which early stopping by a
    tuning job needs: a trial of about a second reports its objective every epoch, and the
    job log's background flush (0.5 s) plus the stop watcher's poll (0.5 s) used to let it
    run all its epochs before a stop request landed.

    After each reported metric point (:meth:`notify`) a thread sends the buffered points to
    the store and reads the job's stop flag (:meth:`check`), so the driver sees the point
    within milliseconds and the training sees a stop request at its next epoch (through
    ``should_stop``). Reports of one epoch arriving together are sent together
    (``delay``). The training itself never waits for the store.
    """

    def __init__(self, ws: Workspace, name: str, log: JobLog, stop: Any,
                 delay: float = 0.005, min_interval: float = 0.05) -> None:
        self.ws = ws
        self.name = name
        self.log = log
        self.stop = stop
        self.delay = delay
        self.min_interval = min_interval  # at most 20 store round trips a second
        self._event = threading.Event()
        self._closing = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="mlyard-reports")
        self._thread.start()

    def notify(self) -> None:
        """A metric point was reported: send it and look for a stop request soon."""
        self._event.set()

    def check(self) -> bool:
        """Read the job's stop flag from the store now; True (and the stop signal set) when
        the job was asked to stop."""
        if self.stop():
            return True
        try:
            record = self.ws.store.get_job(self.name)
        except MlyardError:
            return False
        if record.stop_requested:
            self.stop.set(record.failure_reason or "stop requested")
            return True
        return False

    def _run(self) -> None:
        while True:
            self._event.wait()
            if self._closed or self._closing.wait(self.delay):
                return
            self._event.clear()
            started = time.monotonic()
            try:
                self.log.flush()
                self.check()
            except Exception:  # the log's own flusher retries; the watcher polls anyway
                pass
            if self._closing.wait(max(0.0, self.min_interval - (time.monotonic() - started))):
                return

    def close(self) -> None:
        """Stop the thread (the log's close sends what is left)."""
        self._closed = True
        self._closing.set()
        self._event.set()
        self._thread.join(timeout=5)


class TrainingRun:
    """Runs the training work of job ``name`` (see the module docstring)."""

    def __init__(self, ws: Workspace, name: str, spec: TrainingJobSpec, log: JobLog,
                 stop: Any, staging: Path, scratch: Path) -> None:
        self.ws = ws
        self.name = name
        self.spec = spec
        self.log = log
        self.stop = stop
        self.scratch = scratch
        self.layout = MlLayout(staging / "ml")
        self.world = WorldSpec(
            instance_count=spec.resources.instance_count,
            processes_per_host=spec.distribution.processes_per_host if spec.distribution else 1,
            strategy=spec.distribution.strategy if spec.distribution else "ddp",
            backend=spec.distribution.backend if spec.distribution else "auto")
        self.remote_checkpoint: str | None = None
        self.checkpoint_dir: Path | None = None
        self.env: dict[str, str] = {}
        self.interruptions = 0
        self.reports: PromptReports | None = None
        self._metric_rx = [re.compile(d.regex) for d in spec.metric_definitions]

    # -- set-up --------------------------------------------------------------------------
    def _prepare_checkpoints(self) -> None:
        cfg = self.spec.checkpoint
        if cfg is None and not self.spec.use_spot:
            return
        every = cfg.every_steps if cfg else 500
        if cfg is not None and cfg.uri:
            local = Path(cfg.uri) if "://" not in cfg.uri else self.ws.artifacts.local_path(cfg.uri)
            if local is None:  # a remote store: mirror it locally, upload after attempts
                self.remote_checkpoint = cfg.uri
                local = self.scratch / "checkpoints"
                shutil.rmtree(local, ignore_errors=True)
                if self.ws.artifacts.exists(cfg.uri):
                    self.ws.artifacts.download(cfg.uri, local)
        else:
            local = self.scratch / "checkpoints"
        local.mkdir(parents=True, exist_ok=True)
        self.checkpoint_dir = local.resolve()
        self.env.update(checkpoint_env(
            self.checkpoint_dir, every_steps=every,
            every_seconds=cfg.every_seconds if cfg else None, keep=cfg.keep if cfg else 2,
            on_invalid=cfg.on_invalid if cfg else "fail"))
        found = sorted(p.name for p in self.checkpoint_dir.iterdir()
                       if p.name.startswith(PREFIX))
        self.log.write(f"checkpoints: {self.checkpoint_dir} "
                       + (f"(resuming from {found[-1]})" if found else "(none yet)"))

    def _sync_checkpoints(self) -> None:
        if self.remote_checkpoint and self.checkpoint_dir is not None:
            self.ws.artifacts.upload(self.checkpoint_dir, self.remote_checkpoint)

    def _put_rule(self, kind: str) -> Callable[[str, RuleEvaluationStatus, str, int | None],
                                               None]:
        def put(rule: str, status: RuleEvaluationStatus, message: str,
                step: int | None) -> None:
            RuleStore.of(self.ws.store).put_rule_status(RuleStatus(
                self.name, rule, kind, status, message, step, time.time()))
            if status is RuleEvaluationStatus.ISSUES_FOUND:
                self.log.write(f"{kind} rule {rule}: IssuesFound at step {step}: {message}")
        return put

    # -- the run -------------------------------------------------------------------------
    def execute(self) -> MlLayout:
        """Train; the model ends in ``layout.model_dir`` and outputs in ``output_dir``."""
        spec = self.spec
        self.layout.create()
        channels = {c.name: resolve_input(self.ws, c.uri, f"channel {c.name!r}")
                    for c in spec.channels}
        self._prepare_checkpoints()
        # built-in algorithms prepare each distinct input once (a tuning job's trials share it)
        self.env[CACHE_ENV] = str(self.ws.cache_dir / "channels")
        rules = monitor = None
        debug_dir = self.layout.output_dir / "debug-output"
        profile_dir = self.layout.output_dir / "profiler-output"
        if spec.debugger is not None:
            from mlyard.training.debugger import RuleRunner, hook_env

            self.env.update(hook_env(spec.debugger, debug_dir))
            if spec.debugger.rules:
                rules = RuleRunner(debug_dir, spec.debugger.rules,
                                   on_status=self._put_rule("debugger"),
                                   on_stop=lambda reason: self.stop.set(reason))
                rules.start()
        if spec.profiler is not None:
            from mlyard.training.profiler import SystemMonitor, profiler_env

            self.env.update(profiler_env(spec.profiler, profile_dir))
            monitor = SystemMonitor(profile_dir, spec.profiler.system_interval_ms / 1000.0,
                                    root_pid=os.getpid())
            monitor.start()
        started = time.monotonic()
        billable = 0.0
        completed = False
        self.reports = PromptReports(self.ws, self.name, self.log, self.stop)
        try:
            if spec.algorithm is not None and not spec.use_spot and self.world.world_size == 1:
                self._train_in_process(channels)
                billable = time.monotonic() - started
            else:
                billable = self._attempts(channels)
            self.reports.close()
            # a stop requested while the last epoch ran (or its process exited) still
            # stops the job: it was asked to stop before it completed
            if self.reports.check():
                raise MlyardError("stopped")
            completed = True
        finally:
            self.reports.close()
            training = time.monotonic() - started
            if rules is not None:
                rules.finish(completed=completed)
            if monitor is not None:
                monitor.stop()
                self._profiler_report(profile_dir)
            self._report_times(training, billable)
        return self.layout

    def _report_times(self, training: float, billable: float) -> None:
        count = self.spec.resources.instance_count
        if self.spec.use_spot:
            billed = billable * self.spec.spot.price_ratio * count
        else:  # on demand, instances are billed for the whole training time
            billed = training * count
        self.log.metric("TrainingTimeInSeconds", round(training, 3))
        self.log.metric("BillableTimeInSeconds", round(billed, 3))
        if self.spec.use_spot:
            self.log.metric("SpotInterruptions", float(self.interruptions))
            saving = spot_saving_percent(training, billed, count)
            self.log.write(
                f"training seconds {training:.1f}, billable seconds {billed:.1f} "
                f"({self.interruptions} spot interruption(s)); managed spot training "
                f"saving {saving:.1f}%")

    def _profiler_report(self, profile_dir: Path) -> None:
        from mlyard.training.profiler import build_report

        assert self.spec.profiler is not None
        try:
            results = build_report(profile_dir, self.layout.output_dir / "profiler-report",
                                   self.spec.profiler, title=f"training job {self.name}")
        except Exception as exc:  # the report must not turn a finished job into a failure
            self.log.write(f"profiler report failed: {type(exc).__name__}: {exc}")
            return
        put = self._put_rule("profiler")
        for rule, result in results.items():
            put(rule, result.status, result.message, None)

    # -- in process ----------------------------------------------------------------------
    def _algorithm_task(self, channels: dict[str, Path]) -> dict[str, Any]:
        """What a built-in algorithm trains with (JSON: it also goes to worker processes)."""
        from mlyard.algorithms import get_algorithm

        spec = self.spec
        assert spec.algorithm is not None
        algo = get_algorithm(spec.algorithm)
        hps = algo.resolve_hyperparameters(spec.hyperparameters)
        algo.check_channels(channels)
        self.log.write(f"training {algo.name} with hyperparameters {json.dumps(hps)}")
        return {"algorithm": algo.name, "hyperparameters": hps,
                "channels": {k: str(v) for k, v in channels.items()},
                "model_dir": str(self.layout.model_dir),
                "output_dir": str(self.layout.output_data_dir),
                "num_threads": self._threads(), "device": spec.resources.device,
                "seed": spec.seed, "skip_bad_rows": spec.skip_bad_rows}

    def _train_in_process(self, channels: dict[str, Path]) -> None:
        task = self._algorithm_task(channels)
        def report(name: str, value: float, step: int | None = None) -> None:
            self.log.metric(name, value, step)
            if self.reports is not None:
                self.reports.notify()

        with environment(self.env):
            train_task(task, log=self.log.write, report_metric=report, should_stop=self.stop)
        if self.stop():
            raise MlyardError("stopped")

    def _threads(self) -> int:
        total = self.spec.resources.num_threads or (os.cpu_count() or 1)
        return max(1, total // self.world.world_size)

    # -- workers -------------------------------------------------------------------------
    def _command(self, channels: dict[str, Path]) -> tuple[list[str], dict[str, str], Path]:
        """The command every rank runs, its environment and working folder."""
        spec = self.spec
        if spec.algorithm is not None:
            path = self.scratch / WORKER_FILE
            path.write_text(json.dumps(self._algorithm_task(channels)))
            command = [sys.executable, "-m", "mlyard", "job", "worker", str(path)]
            return command, {}, Path.cwd()
        module_dir = Path(spec.source_dir or ".").resolve()
        if spec.entry_point is not None:
            script = (Path(spec.source_dir or ".") / spec.entry_point).resolve()
            module_dir = script.parent
            python = spec.python or ("python" if spec.image else sys.executable)
            command = [python, str(script), *hyperparameter_args(spec.hyperparameters)]
        else:
            assert spec.command is not None
            command = list(spec.command)
        for cname, path in channels.items():
            stage_channel(path, self.layout.channel_dir(cname))
        env = training_environment(self.layout, channels, spec.hyperparameters, self.name,
                                   module_dir, self._threads())
        env.update(spec.environment)
        env["MLYARD_JOB_NAME"] = self.name
        return command, env, module_dir

    def _worker_specs(self, channels: dict[str, Path], command: list[str],
                      env: dict[str, str], cwd: Path) -> list[WorkerSpec]:
        port = free_port()
        specs = []
        for rank in range(self.world.world_size):
            rank_env = {**env, **self.env, "OMP_NUM_THREADS": str(self._threads())}
            if self.world.world_size > 1:
                rank_env.update(self.world.rank_env(rank, port))
            cmd = command
            if self.spec.image is not None:
                from mlyard.training.container import container_command, container_runtime

                mounts = [self.layout.root, cwd, *channels.values(),
                          *(p.resolve() for p in channels.values())]
                if self.checkpoint_dir is not None:
                    mounts.append(self.checkpoint_dir)
                cmd = container_command(container_runtime(), self.spec.image, command,
                                        rank_env, mounts, cwd,
                                        gpus=self.spec.resources.device == "cuda")
            specs.append(WorkerSpec(rank, cmd, rank_env, self.world.hosts[
                rank // self.world.processes_per_host]))
        return specs

    def _on_line(self, rank: int, line: str) -> None:
        if line.startswith(METRIC_PREFIX):
            if rank == 0:
                try:
                    point = json.loads(line[len(METRIC_PREFIX):])
                    if point["value"] is not None:  # non-finite values are not stored
                        self.log.metric(point["name"], float(point["value"]),
                                        point.get("step"))
                        self._reported()
                except (ValueError, KeyError, TypeError):
                    self.log.write(line)
            return
        if self.world.world_size == 1:
            self.log.write(line)
        else:
            host = self.world.hosts[rank // self.world.processes_per_host]
            self.log.write(f"[{host} rank {rank}] {line}", parse_metrics=rank == 0)
        if rank == 0 and any(rx.search(line) for rx in self._metric_rx):
            self._reported()

    def _reported(self) -> None:
        if self.reports is not None:
            self.reports.notify()

    def _attempts(self, channels: dict[str, Path]) -> float:
        """Run attempts until one completes; returns the seconds instances ran."""
        spec = self.spec
        command, env, cwd = self._command(channels)
        schedule = SpotSchedule(spec.spot, self.checkpoint_dir) if spec.use_spot else None
        started = time.monotonic()
        ran = 0.0
        attempt = 0
        if self.world.world_size > 1:
            self.log.write(
                f"distributed training: {self.world.world_size} processes "
                f"({self.world.instance_count} host(s) × {self.world.processes_per_host}), "
                f"strategy {self.world.strategy}")
        starter = None
        if self.ws.settings.executor == "ray" and self.spec.image is None:
            from mlyard.training.ray_workers import RayWorkerStarter

            starter = RayWorkerStarter(self.ws.settings.ray_address)
            self.log.write(f"workers run as Ray actors ({self.world.world_size})")
        while True:
            group = WorkerGroup(self._worker_specs(channels, command, env, cwd), cwd,
                                self._on_line, start=starter.start if starter else None)
            t0 = time.monotonic()
            try:
                outcome = group.run(self.stop, schedule.trigger(attempt) if schedule else None)
            finally:
                ran += time.monotonic() - t0
                self._sync_checkpoints()
                if starter is not None:
                    starter.close()
            if outcome == "completed":
                return ran
            if outcome == "stopped":
                raise MlyardError("stopped")
            assert schedule is not None
            self.interruptions += 1
            attempt += 1
            self.log.write(f"spot interruption {self.interruptions}: the instance was "
                           f"reclaimed after {time.monotonic() - t0:.1f} s of attempt "
                           f"{attempt}; waiting {spec.spot.restart_delay_seconds:g} s for "
                           "capacity, then resuming from the last checkpoint")
            if self.interruptions > spec.spot.max_interruptions:
                raise ValidationError(
                    f"spot capacity was reclaimed {self.interruptions} times, more than "
                    f"max_interruptions ({spec.spot.max_interruptions})")
            self._wait_for_capacity(started)

    def _wait_for_capacity(self, started: float) -> None:
        spec = self.spec
        assert spec.max_wait_seconds is not None
        deadline = time.monotonic() + spec.spot.restart_delay_seconds
        while time.monotonic() < deadline:
            if self.stop():
                raise MlyardError("stopped")
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        if time.monotonic() - started > spec.max_wait_seconds:
            self.stop.set(f"MaxWaitTimeExceeded: spot capacity did not come back within "
                          f"max_wait_seconds ({spec.max_wait_seconds} s)")
            raise MlyardError("stopped")


def worker_main(worker_file: Path) -> int:
    """Body of ``mlyard job worker FILE``: train a built-in algorithm as one rank."""
    import signal

    from mlyard.training.distributed import current_rank

    config = json.loads(Path(worker_file).read_text())
    stopping = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__("flag", True))
    rank = current_rank()

    def report(name: str, value: float, step: int | None) -> None:
        if rank == 0:
            value = float(value)
            print(METRIC_PREFIX + json.dumps(
                {"name": name, "value": value if math.isfinite(value) else None, "step": step}),
                flush=True)

    train_task(config, report_metric=report, should_stop=lambda: stopping["flag"])
    return 0


def train_task(task: dict[str, Any], **callbacks: Any) -> None:
    """Train the built-in algorithm a task (:meth:`TrainingRun._algorithm_task`) names, with
    ``log`` / ``report_metric`` / ``should_stop`` callbacks for its TrainingContext."""
    from mlyard.algorithms import TrainingContext, get_algorithm

    ctx = TrainingContext(
        channels={k: Path(v) for k, v in task["channels"].items()},
        model_dir=Path(task["model_dir"]), output_dir=Path(task["output_dir"]),
        num_threads=int(task["num_threads"]), device=task["device"],
        seed=int(task["seed"]), skip_bad_rows=bool(task.get("skip_bad_rows", False)),
        **callbacks)
    get_algorithm(task["algorithm"]).train(ctx, task["hyperparameters"])
