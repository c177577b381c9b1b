"""The SQL metadata store: every registered store domain over one SQLAlchemy database.

``SqlAlchemyStore(url)`` opens the database (:class:`SqlDatabase`), loads the domains
the registry names (:func:`available_domains`), brings each domain's tables to its
version and builds one implementation per domain, all sharing the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mlyard.core.records import JobRecord, JobStatus, LogLine, MetricPoint, ModelRecord
from mlyard.core.stores.base import MetadataStore
from mlyard.core.stores.database import SqlDatabase
from mlyard.core.stores.domain import StoreDomain
from mlyard.core.stores.jobs import JobStore
from mlyard.core.stores.models import ModelStore
from mlyard.core.stores.registry import available_domains, load_domain
from mlyard.errors import WorkspaceError


class SqlAlchemyStore(MetadataStore):
    """:class:`MetadataStore` over SQLAlchemy Core: SQLite (WAL) or any SQLAlchemy URL.

    ``domains`` (name -> ``"module:Class"``) defaults to every registered domain; it must
    include a :class:`JobStore` and a :class:`ModelStore`.
    """

    def __init__(self, url: str, busy_timeout_ms: int = 60_000,
                 domains: Mapping[str, str] | None = None) -> None:
        targets = available_domains() if domains is None else dict(domains)
        classes = {name: load_domain(name, target) for name, target in targets.items()}
        for core in (JobStore, ModelStore):
            if sum(issubclass(cls, core) for cls in classes.values()) != 1:
                raise WorkspaceError(f"the metadata store needs exactly one {core.__name__} "
                                     f"domain; registered: {', '.join(classes) or 'none'}")
        self.db = SqlDatabase(url, busy_timeout_ms)
        try:
            self.db.migrate(classes)
        except BaseException:
            self.db.close()
            raise
        self.url = url
        self.engine = self.db.engine
        self._domains: dict[str, StoreDomain] = {
            name: cls(self.db) for name, cls in classes.items()}
        self._jobs = JobStore.of(self)
        self._models = ModelStore.of(self)

    # -- composition ---------------------------------------------------------------------
    def domains(self) -> Mapping[str, StoreDomain]:
        return self._domains

    def schema_versions(self) -> dict[str, int]:
        recorded = self.db.schema_versions()
        return {name: recorded[name] for name in self._domains}

    def close(self) -> None:
        for domain in self._domains.values():
            domain.close()
        self.db.close()

    # -- jobs, logs and metrics (core) -----------------------------------------------------
    def create_job(self, name: str, job_type: str, spec: dict[str, Any],
                   output_uri: str | None = None) -> JobRecord:
        return self._jobs.create_job(name, job_type, spec, output_uri)

    def get_job(self, name: str) -> JobRecord:
        return self._jobs.get_job(name)

    def list_jobs(self, job_type: str | None = None, status: JobStatus | None = None,
                  limit: int = 100) -> list[JobRecord]:
        return self._jobs.list_jobs(job_type, status, limit)

    def transition_job(self, name: str, to: JobStatus, *, expected: Iterable[JobStatus],
                       failure_reason: str | None = None,
                       outputs: dict[str, str] | None = None) -> bool:
        return self._jobs.transition_job(name, to, expected=expected,
                                         failure_reason=failure_reason, outputs=outputs)

    def set_job_process(self, name: str, *, executor: str, pid: int | None,
                        host: str | None) -> None:
        self._jobs.set_job_process(name, executor=executor, pid=pid, host=host)

    def request_stop(self, name: str, reason: str | None = None) -> JobRecord:
        return self._jobs.request_stop(name, reason)

    def reopen_job(self, name: str, expected: Iterable[JobStatus]) -> bool:
        return self._jobs.reopen_job(name, expected)

    def append_logs(self, name: str, lines: Sequence[tuple[float, str]]) -> None:
        self._jobs.append_logs(name, lines)

    def get_logs(self, name: str, after_seq: int = 0, limit: int = 10_000) -> list[LogLine]:
        return self._jobs.get_logs(name, after_seq, limit)

    def put_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        self._jobs.put_metrics(name, points)

    def get_metrics(self, name: str, metric: str | None = None) -> list[MetricPoint]:
        return self._jobs.get_metrics(name, metric)

    # -- models (core) ---------------------------------------------------------------------
    def create_model(self, name: str, uri: str, flavor: str, job_name: str | None = None,
                     metadata: dict[str, Any] | None = None) -> ModelRecord:
        return self._models.create_model(name, uri, flavor, job_name, metadata)

    def get_model(self, name: str) -> ModelRecord:
        return self._models.get_model(name)

    def list_models(self, limit: int = 100) -> list[ModelRecord]:
        return self._models.list_models(limit)

    def delete_model(self, name: str) -> None:
        self._models.delete_model(name)
