"""The server's read-only job views: a listed job whose process died shows Failed (as
``describe`` already did), so ``GET /api/jobs`` and ``mlyard jobs list`` agree."""

from __future__ import annotations

import pytest

import mlyard.core.jobs as core_jobs
from mlyard.core.records import JobStatus
from mlyard.core.workspace import Workspace
from mlyard.server.readers import JobReader
from tests.unit.cli.test_commands_jobs import _job


def test_list_jobs_reconciles_dead_jobs(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_jobs, "ORPHAN_GRACE_SECONDS", 0.0)
    _job(ws, "dead", JobStatus.IN_PROGRESS, dead=True)
    _job(ws, "waiting", JobStatus.PENDING)
    reader = JobReader(ws)
    assert [r.name for r in reader.list_jobs(status=JobStatus.IN_PROGRESS)] == []
    statuses = {r.name: r.status for r in reader.list_jobs()}
    assert statuses == {"dead": JobStatus.FAILED, "waiting": JobStatus.PENDING}
