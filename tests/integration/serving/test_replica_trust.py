"""A replica process given a hostile model directory (a manifest naming ``site:addsitedir``
and a ``.pth`` payload) refuses it at load: it never starts, the payload never runs, and the
pool's error names the refusal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mlyard.serving.pool import ReplicaPool, ReplicaStartError
from tests.integration.serving.test_replica_pool import run_dir  # noqa: F401 (fixture)
from tests.unit.models.test_base import hostile_model


def test_replica_refuses_a_manifest_loader_and_runs_no_payload(run_dir: Path,  # noqa: F811
                                                               tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    model_dir = hostile_model(tmp_path / "evil", marker)

    async def main() -> None:
        pool = ReplicaPool(model_dir, run_dir, 1, start_timeout=30)
        with pytest.raises(ReplicaStartError) as exc:
            await pool.start()
        assert "'site:addsitedir' is not the loader of flavor 'blazingtext'" in exc.value.message
        assert pool.stats() == []

    asyncio.run(main())
    assert not marker.exists()
