"""SQL implementation of the model registry's store domain: tables ``registry_groups``,
``registry_versions`` and ``registry_approvals``.

A group row keeps the last version number it handed out; creating a version increments it
with one ``UPDATE`` (which locks the group row on PostgreSQL; SQLite transactions begin
``IMMEDIATE``) and writes the version and its first approval event in the same
transaction, so concurrent registrations get distinct numbers and nothing is half-written.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import ConflictError, NotFoundError
from mlyard.registry.store import (
    ApprovalEvent,
    ApprovalStatus,
    ModelPackageGroupRecord,
    ModelPackageRecord,
    RegistryStore,
    package_arn,
)

metadata = sa.MetaData()

groups = sa.Table(
    "registry_groups", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("deploy_on_approval", sa.Text),
    sa.Column("tags", sa.Text, nullable=False, default="{}"),
    sa.Column("last_version", sa.Integer, nullable=False, default=0),
)

versions = sa.Table(
    "registry_versions", metadata,
    sa.Column("group_name", sa.String(64), sa.ForeignKey("registry_groups.name"),
              primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("model_name", sa.String(256), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("approval_status", sa.String(32), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("inference_specification", sa.Text, nullable=False, default="{}"),
    sa.Column("model_metrics", sa.Text, nullable=False, default="{}"),
    sa.Column("source", sa.Text, nullable=False, default="{}"),
    sa.Column("created_by", sa.String(256)),
)

approvals = sa.Table(
    "registry_approvals", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("group_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("by", sa.String(256), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("note", sa.Text),
    sa.ForeignKeyConstraint(["group_name", "version"],
                            ["registry_versions.group_name", "registry_versions.version"]),
    sa.Index("ix_registry_approvals_version", "group_name", "version"),
)


def _create_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _group(row: Any) -> ModelPackageGroupRecord:
    return ModelPackageGroupRecord(
        name=row.name, created_at=row.created_at, description=row.description,
        deploy_on_approval=(json.loads(row.deploy_on_approval)
                            if row.deploy_on_approval else None),
        tags=json.loads(row.tags or "{}"))


def _version(row: Any, history: tuple[ApprovalEvent, ...]) -> ModelPackageRecord:
    return ModelPackageRecord(
        group=row.group_name, version=row.version, model_name=row.model_name,
        created_at=row.created_at, approval_status=ApprovalStatus(row.approval_status),
        arn=package_arn(row.group_name, row.version), description=row.description,
        inference_specification=json.loads(row.inference_specification or "{}"),
        model_metrics=json.loads(row.model_metrics or "{}"),
        source=json.loads(row.source or "{}"), created_by=row.created_by, history=history)


def _require_group(conn: Connection, name: str) -> Any:
    row = conn.execute(sa.select(groups).where(groups.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"no model package group named {name!r}")
    return row


def _missing_version(conn: Connection, group: str, version: int) -> NotFoundError:
    _require_group(conn, group)
    numbers = [r.version for r in conn.execute(
        sa.select(versions.c.version).where(versions.c.group_name == group)
        .order_by(versions.c.version))]
    have = (f"its versions are {', '.join(str(n) for n in numbers)}" if numbers
            else "it has no versions")
    return NotFoundError(f"no model package {package_arn(group, version)} "
                         f"(group {group!r}: {have})")


class SqlRegistryStore(SqlDomain, RegistryStore):
    """:class:`RegistryStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)

    # -- groups ------------------------------------------------------------------------
    def create_group(self, name: str, *, description: str | None = None,
                     deploy_on_approval: dict[str, Any] | None = None,
                     tags: dict[str, str] | None = None) -> ModelPackageGroupRecord:
        values = {"name": name, "created_at": time.time(), "description": description,
                  "deploy_on_approval": (_dumps(deploy_on_approval)
                                         if deploy_on_approval is not None else None),
                  "tags": _dumps(tags or {}), "last_version": 0}
        try:
            with self.db.transaction() as conn:
                conn.execute(groups.insert().values(**values))
        except IntegrityError:
            raise ConflictError(f"model package group {name!r} already exists") from None
        return self.get_group(name)

    def get_group(self, name: str) -> ModelPackageGroupRecord:
        with self.db.transaction() as conn:
            return _group(_require_group(conn, name))

    def list_groups(self) -> list[ModelPackageGroupRecord]:
        with self.db.transaction() as conn:
            return [_group(r) for r in conn.execute(sa.select(groups).order_by(groups.c.name))]

    def set_deploy_on_approval(self, name: str,
                               config: dict[str, Any] | None) -> ModelPackageGroupRecord:
        with self.db.transaction() as conn:
            done = conn.execute(groups.update().where(groups.c.name == name).values(
                deploy_on_approval=_dumps(config) if config is not None else None))
            if done.rowcount == 0:
                raise NotFoundError(f"no model package group named {name!r}")
        return self.get_group(name)

    def delete_group(self, name: str) -> None:
        with self.db.transaction() as conn:
            _require_group(conn, name)
            count = conn.execute(sa.select(sa.func.count()).select_from(versions)
                                 .where(versions.c.group_name == name)).scalar()
            if count:
                raise ConflictError(f"model package group {name!r} has {count} version(s); "
                                    "only an empty group can be deleted")
            conn.execute(groups.delete().where(groups.c.name == name))

    # -- versions ----------------------------------------------------------------------
    def create_version(self, group: str, *, model_name: str,
                       approval_status: ApprovalStatus, created_by: str,
                       description: str | None = None,
                       inference_specification: dict[str, Any] | None = None,
                       model_metrics: dict[str, Any] | None = None,
                       source: dict[str, Any] | None = None,
                       note: str | None = None) -> ModelPackageRecord:
        status = ApprovalStatus(approval_status)
        now = time.time()
        with self.db.transaction() as conn:
            bumped = conn.execute(groups.update().where(groups.c.name == group)
                                  .values(last_version=groups.c.last_version + 1))
            if bumped.rowcount == 0:
                raise NotFoundError(f"no model package group named {group!r}")
            number = int(conn.execute(sa.select(groups.c.last_version)
                                      .where(groups.c.name == group)).scalar_one())
            conn.execute(versions.insert().values(
                group_name=group, version=number, model_name=model_name, created_at=now,
                approval_status=status.value, description=description,
                inference_specification=_dumps(inference_specification or {}),
                model_metrics=_dumps(model_metrics or {}), source=_dumps(source or {}),
                created_by=created_by))
            conn.execute(approvals.insert().values(group_name=group, version=number,
                                                   status=status.value, by=created_by,
                                                   at=now, note=note))
        return self.get_version(group, number)

    def _history(self, conn: Connection, group: str,
                 numbers: list[int]) -> dict[int, list[ApprovalEvent]]:
        out: dict[int, list[ApprovalEvent]] = {n: [] for n in numbers}
        if not numbers:
            return out
        rows = conn.execute(sa.select(approvals).where(
            approvals.c.group_name == group, approvals.c.version.in_(numbers))
            .order_by(approvals.c.id))
        for r in rows:
            out[r.version].append(ApprovalEvent(ApprovalStatus(r.status), r.by, r.at, r.note))
        return out

    def get_version(self, group: str, version: int) -> ModelPackageRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(versions).where(
                versions.c.group_name == group, versions.c.version == version)).first()
            if row is None:
                raise _missing_version(conn, group, version)
            history = self._history(conn, group, [version])[version]
        return _version(row, tuple(history))

    def list_versions(self, group: str,
                      status: ApprovalStatus | None = None) -> list[ModelPackageRecord]:
        query = sa.select(versions).where(versions.c.group_name == group).order_by(
            versions.c.version)
        if status is not None:
            query = query.where(versions.c.approval_status == ApprovalStatus(status).value)
        with self.db.transaction() as conn:
            _require_group(conn, group)
            rows = list(conn.execute(query))
            history = self._history(conn, group, [r.version for r in rows])
        return [_version(r, tuple(history[r.version])) for r in rows]

    def set_approval(self, group: str, version: int, status: ApprovalStatus, *, by: str,
                     note: str | None = None) -> ModelPackageRecord:
        status = ApprovalStatus(status)
        with self.db.transaction() as conn:
            done = conn.execute(versions.update().where(
                versions.c.group_name == group, versions.c.version == version)
                .values(approval_status=status.value))
            if done.rowcount == 0:
                raise _missing_version(conn, group, version)
            conn.execute(approvals.insert().values(group_name=group, version=version,
                                                   status=status.value, by=by,
                                                   at=time.time(), note=note))
        return self.get_version(group, version)
