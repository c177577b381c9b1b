"""A throwaway PostgreSQL cluster for the store conformance suites (a pytest plugin).

Load it with ``pytest_plugins = ["mlyard.testing.postgres"]``. Fixtures:

- ``postgres_url`` (session): the SQLAlchemy URL (``postgresql+psycopg://``) of an empty
  database on a cluster started for the session: ``initdb`` into a temporary folder,
  ``pg_ctl start`` on a free port of 127.0.0.1, ``pg_ctl stop -m fast`` and removal at the
  end. ``MLYARD_TEST_POSTGRES_URL`` names an existing scratch database instead. Tests that
  use it are skipped only where no PostgreSQL binaries are installed.
- ``sql_store_url`` (per test, parametrized ``sqlite`` / ``postgresql``): the URL of an
  empty database: a SQLite file, or a fresh PostgreSQL schema (dropped afterwards).

PostgreSQL refuses to run as root: as root, ``initdb`` and the server run as the
``postgres`` system user (``runuser``, else ``su``) in a folder it owns.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

#: An existing scratch database to use instead of starting a cluster.
URL_VARIABLE = "MLYARD_TEST_POSTGRES_URL"
_SUPERUSER = "mlyard"
_DATABASE = "mlyard_test"
_SERVER_USER = "postgres"


def find_postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: from ``PATH``, ``pg_config --bindir``
    or the newest ``/usr/lib/postgresql/<version>/bin``; None if PostgreSQL is absent."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    candidates += [Path("/usr/local/pgsql/bin")]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster in a temporary folder, owned by ``user`` (None: this user)."""

    bindir: Path
    root: Path
    user: str | None
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _command(self, *args: str) -> list[str]:
        if self.user is None:
            return list(args)
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", self.user, "--", *args]
        return ["su", self.user, "-s", "/bin/sh", "-c", shlex.join(args)]

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._command(*args), cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def init(self) -> None:
        """``initdb``: trust authentication, superuser ``mlyard``, UTF-8, C collation."""
        done = self._run(str(self.bindir / "initdb"), "-D", str(self.data_dir),
                         "-U", _SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale",
                         "--no-sync")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")

    def start(self, attempts: int = 3) -> None:
        """``pg_ctl start`` on a free port (another on a port taken meanwhile)."""
        log = ""
        for _ in range(attempts):
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            done = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l",
                             str(self.root / "server.log"), "-w", "-t", "60", "-o", options,
                             "start")
            if done.returncode == 0:
                return
            server_log = self.root / "server.log"
            log = done.stdout + done.stderr + (server_log.read_text(errors="replace")
                                               if server_log.exists() else "")
        raise RuntimeError(f"pg_ctl start failed: {log}")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "stop", "-m", "fast",
                  "-w", timeout=60)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"


def _create_database(server_url: str, database: str) -> None:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of an empty PostgreSQL database for this test session (see the module doc)."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    bindir = find_postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    user: str | None = None
    root = Path(tempfile.mkdtemp(prefix="mlyard-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(_SERVER_USER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(f"running as root, and there is no {_SERVER_USER!r} user to run "
                        "PostgreSQL as")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        user = _SERVER_USER
    cluster = PostgresCluster(bindir, root, user)
    try:
        cluster.init()
        cluster.start()
        try:
            _create_database(cluster.url("postgres"), _DATABASE)
            yield cluster.url(_DATABASE)
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty metadata database: SQLite, then PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()
