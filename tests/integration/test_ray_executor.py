"""The Ray executor runs the same job command as a Ray task on a local Ray instance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.sdk.session import set_default_workspace
from mlyard.testing.executors import ExecutorConformance

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class TestRayExecutor(ExecutorConformance):
    @pytest.fixture
    def ws(self, settings: Settings, local_ray: None) -> Iterator[Workspace]:
        workspace = Workspace(settings.with_(executor="ray"))
        set_default_workspace(workspace)
        assert workspace.executor.name == "ray"
        yield workspace
        set_default_workspace(None)
        workspace.close()
