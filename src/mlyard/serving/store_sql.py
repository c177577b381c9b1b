"""SQL implementation of the endpoints' store domain: tables ``endpoint_configs``,
``endpoints`` and ``scaling_activities``."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import ConflictError, NotFoundError
from mlyard.serving.store import (
    EndpointConfigRecord,
    EndpointRecord,
    EndpointStatus,
    EndpointStore,
    ScalingActivity,
)

metadata = sa.MetaData()

endpoint_configs = sa.Table(
    "endpoint_configs", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
endpoints = sa.Table(
    "endpoints", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("config_name", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("failure_reason", sa.Text),
    sa.Column("state", sa.Text, nullable=False, default="{}"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
scaling_activities = sa.Table(
    "scaling_activities", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint", sa.String(64), nullable=False, index=True),
    sa.Column("variant", sa.String(64), nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("from_replicas", sa.Integer, nullable=False),
    sa.Column("to_replicas", sa.Integer, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
)


def _create_tables(conn: Connection) -> None:
    for table in (endpoint_configs, endpoints, scaling_activities):
        table.create(conn, checkfirst=True)


def _config(row: Any) -> EndpointConfigRecord:
    return EndpointConfigRecord(row.name, json.loads(row.spec), row.created_at)


def _endpoint(row: Any) -> EndpointRecord:
    return EndpointRecord(name=row.name, config_name=row.config_name,
                          status=EndpointStatus(row.status), created_at=row.created_at,
                          updated_at=row.updated_at, failure_reason=row.failure_reason,
                          state=json.loads(row.state or "{}"))


class SqlEndpointStore(SqlDomain, EndpointStore):
    """:class:`EndpointStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)
    legacy_version = 2

    # -- endpoint configs ------------------------------------------------------------------
    def create_endpoint_config(self, name: str, spec: dict[str, Any]) -> EndpointConfigRecord:
        try:
            with self.db.transaction() as conn:
                conn.execute(endpoint_configs.insert().values(
                    name=name, spec=json.dumps(spec), created_at=time.time()))
        except IntegrityError:
            raise ConflictError(f"an endpoint config named {name!r} already exists") from None
        return self.get_endpoint_config(name)

    def get_endpoint_config(self, name: str) -> EndpointConfigRecord:
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(endpoint_configs).where(endpoint_configs.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no endpoint config named {name!r}")
        return _config(row)

    def list_endpoint_configs(self) -> list[EndpointConfigRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                sa.select(endpoint_configs).order_by(endpoint_configs.c.created_at.desc()))
            return [_config(r) for r in rows]

    def delete_endpoint_config(self, name: str) -> None:
        with self.db.transaction() as conn:
            result = conn.execute(endpoint_configs.delete().where(endpoint_configs.c.name == name))
            if result.rowcount == 0:
                raise NotFoundError(f"no endpoint config named {name!r}")

    # -- endpoints ---------------------------------------------------------------------------
    def create_endpoint(self, name: str, config_name: str,
                        state: dict[str, Any]) -> EndpointRecord:
        now = time.time()
        try:
            with self.db.transaction() as conn:
                conn.execute(endpoints.insert().values(
                    name=name, config_name=config_name, status=EndpointStatus.CREATING.value,
                    state=json.dumps(state), created_at=now, updated_at=now))
        except IntegrityError:
            raise ConflictError(f"an endpoint named {name!r} already exists") from None
        return self.get_endpoint(name)

    def get_endpoint(self, name: str) -> EndpointRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(endpoints).where(endpoints.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no endpoint named {name!r}")
        return _endpoint(row)

    def list_endpoints(self) -> list[EndpointRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute(sa.select(endpoints).order_by(endpoints.c.created_at.desc()))
            return [_endpoint(r) for r in rows]

    def update_endpoint(self, name: str, *, status: EndpointStatus | None = None,
                        config_name: str | None = None, state: dict[str, Any] | None = None,
                        failure_reason: str | None = None,
                        clear_failure: bool = False) -> EndpointRecord:
        values: dict[str, Any] = {"updated_at": time.time()}
        if status is not None:
            values["status"] = status.value
        if config_name is not None:
            values["config_name"] = config_name
        if state is not None:
            values["state"] = json.dumps(state)
        if failure_reason is not None:
            values["failure_reason"] = failure_reason[:4000]
        elif clear_failure:
            values["failure_reason"] = None
        with self.db.transaction() as conn:
            result = conn.execute(endpoints.update().where(endpoints.c.name == name)
                                  .values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"no endpoint named {name!r}")
        return self.get_endpoint(name)

    def delete_endpoint(self, name: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(endpoints.delete().where(endpoints.c.name == name)).rowcount == 0:
                raise NotFoundError(f"no endpoint named {name!r}")
            conn.execute(scaling_activities.delete()
                         .where(scaling_activities.c.endpoint == name))

    # -- scaling history ---------------------------------------------------------------------
    def add_scaling_activity(self, activity: ScalingActivity) -> None:
        with self.db.transaction() as conn:
            conn.execute(scaling_activities.insert().values(
                endpoint=activity.endpoint, variant=activity.variant, ts=activity.timestamp,
                from_replicas=activity.from_replicas, to_replicas=activity.to_replicas,
                cause=activity.cause, status=activity.status))

    def list_scaling_activities(self, endpoint: str) -> list[ScalingActivity]:
        query = (sa.select(scaling_activities).where(scaling_activities.c.endpoint == endpoint)
                 .order_by(scaling_activities.c.id))
        with self.db.transaction() as conn:
            return [ScalingActivity(r.endpoint, r.variant, r.ts, r.from_replicas,
                                    r.to_replicas, r.cause, r.status)
                    for r in conn.execute(query)]
