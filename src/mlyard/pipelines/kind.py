"""The ``pipeline`` job kind: the driver of one pipeline execution. Its run is the driver
loop (:class:`~mlyard.pipelines.driver.PipelineDriver`) in the job's own process; the
execution's steps are ordinary jobs (processing, training, ...) or run inline (condition,
model, register, fail). Everything durable is in the pipelines' store, so the job can be
started again (resume, retry) and goes on from the stored steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlyard.core.context import JobContext
from mlyard.core.kinds import JobKind
from mlyard.core.records import JobRecord
from mlyard.core.workspace import Workspace
from mlyard.pipelines.spec import PipelineExecutionJobSpec


class PipelineKind(JobKind[PipelineExecutionJobSpec]):
    """A pipeline execution's driver (see :class:`PipelineExecutionJobSpec`)."""

    name = "pipeline"
    spec_type = PipelineExecutionJobSpec

    def validate(self, ws: Workspace, spec: PipelineExecutionJobSpec) -> None:
        from mlyard.pipelines.store import PipelineStore

        PipelineStore.of(ws.store).get_execution(spec.execution_id)

    def preload(self, spec: PipelineExecutionJobSpec) -> Sequence[str]:
        return ["mlyard.pipelines.driver"]

    def run(self, ctx: JobContext[PipelineExecutionJobSpec]) -> dict[str, str]:
        from mlyard.pipelines.driver import PipelineDriver

        driver = PipelineDriver(ctx.ws, ctx.name, ctx.spec, ctx.log, ctx.stop)
        driver.run()
        return {}

    def describe(self, ws: Workspace, record: JobRecord,
                 final_metrics: dict[str, float]) -> dict[str, Any]:
        from mlyard.errors import NotFoundError
        from mlyard.pipelines.store import PipelineStore

        eid = record.spec.get("execution_id")
        try:
            ex = PipelineStore.of(ws.store).get_execution(str(eid))
        except NotFoundError:
            return {}
        return {"PipelineExecutionId": ex.execution_id, "PipelineName": ex.pipeline,
                "PipelineExecutionStatus": ex.status}
