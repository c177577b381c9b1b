"""Read-only views of a workspace's jobs and models, for the server's read routes.

The routes of :mod:`mlyard.server.routes.jobs` and :mod:`mlyard.server.routes.models` use
these instead of the metadata store, so the HTTP layer names what it reads and nothing more.
Every method raises :class:`~mlyard.errors.NotFoundError` for an unknown name. None of them
changes a job, with one exception inherited from ``mlyard jobs describe`` and ``list``:
:meth:`JobReader.describe` and :meth:`JobReader.list_jobs` mark a job whose process died
without reporting as Failed (they would say so to any other caller too).

The methods block on the database (SQLite waits for its write lock): the routes call them
from Starlette's thread pool, not on the event loop that serves invocations.
"""

from __future__ import annotations

from typing import Any

from mlyard.core.records import JobRecord, JobStatus, LogLine, MetricPoint, ModelRecord
from mlyard.core.workspace import Workspace


class JobReader:
    """Jobs of one workspace: lists, descriptions, logs and metric series."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def list_jobs(self, job_type: str | None = None, status: JobStatus | None = None,
             limit: int = 100) -> list[JobRecord]:
        """Jobs, newest first, optionally of one type and/or status; like ``describe``, a
        job whose process died without reporting is marked Failed first
        (:func:`mlyard.core.jobs.list_jobs`)."""
        from mlyard.core.jobs import list_jobs

        return list_jobs(self._ws, job_type=job_type, status=status, limit=limit)

    def describe(self, name: str) -> dict[str, Any]:
        """The SageMaker-style description of :func:`mlyard.core.jobs.describe_job`."""
        from mlyard.core.jobs import describe_job

        return describe_job(self._ws, name)

    def logs(self, name: str, after: int = 0, limit: int = 1000) -> list[LogLine]:
        """Up to ``limit`` log lines of a job whose sequence number is above ``after``."""
        self._ws.store.get_job(name)
        return self._ws.store.get_logs(name, after_seq=after, limit=limit)

    def metrics(self, name: str, metric: str | None = None) -> list[MetricPoint]:
        """A job's metric points in the order they were reported (optionally one metric)."""
        self._ws.store.get_job(name)
        return self._ws.store.get_metrics(name, metric)


class ModelReader:
    """Registered models of one workspace."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def list_models(self, limit: int = 100) -> list[ModelRecord]:
        """Models, newest first."""
        return self._ws.store.list_models(limit=limit)

    def get(self, name: str) -> ModelRecord:
        """One model's registration."""
        return self._ws.store.get_model(name)
