"""``RuleRunner``: evaluates Debugger rules while a training job runs.

The runner lives in the job's main process. A daemon thread polls the hook files (written by
the training process or processes, any rank) every ``poll_seconds``, feeds a
:class:`TensorTrace`, and evaluates the rules that have not fired yet. Statuses are reported
through ``on_status(rule, status, message, step)``:

* every rule is ``InProgress`` at :meth:`RuleRunner.start`;
* a rule that fires becomes ``IssuesFound`` (sticky; reported once), and if it has the
  ``StopTraining`` action ``on_stop(reason)`` is called (once per runner, for the first such
  rule, and not during :meth:`RuleRunner.finish`, when training is over anyway);
* a rule whose evaluation raises becomes ``Error`` (with the exception) and is not evaluated
  again;
* at :meth:`RuleRunner.finish` the rules still in progress become ``NoIssuesFound`` (job
  completed) or ``Stopped`` (job did not complete).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from mlyard.training.debugger.config import RuleConfig
from mlyard.training.debugger.rules import Rule
from mlyard.training.debugger.trace import TensorTrace, TraceReader
from mlyard.training.rule_store import RuleEvaluationStatus

logger = logging.getLogger(__name__)

StatusCallback = Callable[[str, RuleEvaluationStatus, str, int | None], None]

IN_PROGRESS_MESSAGE = "Evaluating"
NO_ISSUES_MESSAGE = "No issues found"
STOPPED_MESSAGE = "Training ended before the job completed; no issues found so far"


class RuleRunner:
    """Evaluates ``rules`` on the hook files of ``out_dir`` (see the module docstring)."""

    def __init__(self, out_dir: Path, rules: Sequence[RuleConfig], on_status: StatusCallback,
                 on_stop: Callable[[str], None] | None = None,
                 poll_seconds: float = 1.0) -> None:
        names = [rule.name for rule in rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rules: each rule may appear once, repeated: {duplicates}")
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds must be > 0, got {poll_seconds}")
        self.out_dir = Path(out_dir)
        self.poll_seconds = float(poll_seconds)
        self._configs = list(rules)
        self._rules: dict[str, Rule] = {rule.name: rule.build() for rule in rules}
        self._on_status = on_status
        self._on_stop = on_stop
        self._trace = TensorTrace()
        self._reader = TraceReader(self.out_dir)
        self._status: dict[str, RuleEvaluationStatus] = {
            name: RuleEvaluationStatus.IN_PROGRESS for name in names}
        self._lock = threading.RLock()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._stop_sent = False
        self._final: dict[str, RuleEvaluationStatus] | None = None

    @property
    def trace(self) -> TensorTrace:
        """The records read so far."""
        return self._trace

    @property
    def statuses(self) -> dict[str, RuleEvaluationStatus]:
        """The current status of each rule."""
        with self._lock:
            return dict(self._status)

    def start(self) -> None:
        """Report every rule ``InProgress`` and start the polling thread."""
        with self._lock:
            if self._started or self._final is not None:
                raise RuntimeError("RuleRunner already started")
            self._started = True
            for name in self._rules:
                self._on_status(name, RuleEvaluationStatus.IN_PROGRESS, IN_PROGRESS_MESSAGE,
                                None)
            if not self._rules:
                return  # nothing to evaluate: no thread
            self._thread = threading.Thread(target=self._loop, name="mlyard-debugger-rules",
                                            daemon=True)
            self._thread.start()

    def poll(self) -> None:
        """One evaluation pass: read newly written records and evaluate the rules that are
        still in progress."""
        with self._lock:
            if self._final is not None:
                return
            self._poll(allow_stop=True)

    def finish(self, completed: bool = True) -> dict[str, RuleEvaluationStatus]:
        """Stop the thread, evaluate once more on everything written, and settle the rules
        still in progress (``NoIssuesFound`` if ``completed``, else ``Stopped``). Returns the
        final status of each rule; later calls return the same without reporting again."""
        self._stop_event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            if self._final is not None:
                return dict(self._final)
            self._trace.final = True
            self._poll(allow_stop=False)
            status = RuleEvaluationStatus.NO_ISSUES_FOUND if completed \
                else RuleEvaluationStatus.STOPPED
            message = NO_ISSUES_MESSAGE if completed else STOPPED_MESSAGE
            for name, current in self._status.items():
                if current is RuleEvaluationStatus.IN_PROGRESS:
                    self._status[name] = status
                    self._on_status(name, status, message, None)
            self._final = dict(self._status)
            return dict(self._final)

    # -- internals ------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop_event.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:
                logger.exception("debugger: rule evaluation pass failed")

    def _poll(self, allow_stop: bool) -> None:
        self._reader.read_into(self._trace)
        for config in self._configs:
            name = config.name
            if self._status[name] is not RuleEvaluationStatus.IN_PROGRESS:
                continue
            try:
                finding = self._rules[name].evaluate(self._trace)
            except Exception as exc:
                logger.warning("debugger: rule %s failed: %s", name, exc, exc_info=True)
                self._status[name] = RuleEvaluationStatus.ERROR
                self._on_status(name, RuleEvaluationStatus.ERROR,
                                f"{type(exc).__name__}: {exc}", None)
                continue
            if finding is None:
                continue
            self._status[name] = RuleEvaluationStatus.ISSUES_FOUND
            self._on_status(name, RuleEvaluationStatus.ISSUES_FOUND, finding.message,
                            finding.step)
            if allow_stop and config.stop_training and not self._stop_sent \
                    and self._on_stop is not None:
                self._stop_sent = True
                self._on_stop(f"Debugger rule {name} found issues at step {finding.step}: "
                              f"{finding.message}")


def evaluate_rules(out_dir: Path, rules: Sequence[RuleConfig],
                   ) -> dict[str, tuple[RuleEvaluationStatus, str, int | None]]:
    """Evaluate ``rules`` offline on everything the hooks wrote in ``out_dir``: each rule's
    final ``(status, message, step)`` (``NoIssuesFound`` when it did not fire)."""
    results: dict[str, tuple[RuleEvaluationStatus, str, int | None]] = {}

    def record(name: str, status: RuleEvaluationStatus, message: str, step: int | None) -> None:
        results[name] = (status, message, step)

    RuleRunner(out_dir, rules, on_status=record).finish(completed=True)
    return results
