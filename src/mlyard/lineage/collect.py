"""Deriving the lineage graph from the other stores.

Each ``collect_*`` function is pure: it takes records (jobs, models, endpoints, registry
versions, pipeline executions and their steps) and returns a :class:`Graph` of the
entities and associations they imply. :func:`sync` reads every store, merges the graphs
and upserts them (idempotent, so it runs before every query).

What each record implies (association sources are upstream, except ``DerivedFrom``):

- training job: each channel's data (DataSet) ContributedTo the job; the job Produced its
  model directory (Model); processing job: inputs ContributedTo, outputs Produced;
  transform job: its model and input ContributedTo, its output Produced; tuning job: each
  trial's training job AssociatedWith it, the best one also ContributedTo it;
- registered model: DerivedFrom its model directory (and Produced by its job when the
  directory is not the job's own output);
- endpoint: each variant's model ContributedTo a ModelDeployment action, which is
  AssociatedWith the endpoint context (registry versions of that model ContributedTo the
  deployment too);
- registry version (ModelPackage): DerivedFrom its model, AssociatedWith its group
  context; its pipeline execution and its metrics report ContributedTo it;
- pipeline execution: a context AssociatedWith its pipeline; every step's job (and model
  step's model) AssociatedWith the execution.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from mlyard.core.records import JobRecord, ModelRecord
from mlyard.lineage.store import (
    AssociationType,
    LineageAssociation,
    LineageEntity,
    LineageStore,
    LineageType,
)
from mlyard.pipelines.client import executions_with_steps
from mlyard.registry.store import RegistryStore
from mlyard.serving.store import EndpointConfigRecord, EndpointRecord, EndpointStore
from mlyard.tuning.store import TrialRecord, TrialStore

if TYPE_CHECKING:
    from mlyard.core.workspace import Workspace

A, C, TC, ACT = (LineageType.ARTIFACT, LineageType.CONTEXT, LineageType.TRIAL_COMPONENT,
                 LineageType.ACTION)
CONTRIBUTED, ASSOCIATED, DERIVED, PRODUCED = (
    AssociationType.CONTRIBUTED_TO, AssociationType.ASSOCIATED_WITH,
    AssociationType.DERIVED_FROM, AssociationType.PRODUCED)

#: Entity type of each job kind's trial component (other kinds: ``<Kind>Job``).
JOB_TYPES = {"training": "TrainingJob", "processing": "ProcessingJob",
             "transform": "TransformJob", "tuning": "TuningJob",
             "pipeline": "PipelineDriverJob"}
#: Processing output names taken for reports rather than data sets.
REPORT_OUTPUTS = frozenset({"evaluation", "metrics", "report", "reports"})
#: Most records of each kind read by :func:`sync`.
SYNC_LIMIT = 100_000


class PackageLike(Protocol):
    """What lineage reads of a registry version (``mlyard.registry.store.ModelPackageRecord``)."""

    @property
    def group(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def model_name(self) -> str: ...
    @property
    def created_at(self) -> float: ...
    @property
    def arn(self) -> str: ...
    @property
    def approval_status(self) -> Any: ...
    @property
    def description(self) -> str | None: ...
    @property
    def model_metrics(self) -> dict[str, Any]: ...
    @property
    def source(self) -> dict[str, Any]: ...


class GroupLike(Protocol):
    """What lineage reads of a model package group."""

    @property
    def name(self) -> str: ...
    @property
    def created_at(self) -> float: ...
    @property
    def description(self) -> str | None: ...


class ExecutionLike(Protocol):
    """What lineage reads of a pipeline execution
    (``mlyard.pipelines.store.PipelineExecutionRecord``)."""

    @property
    def execution_id(self) -> str: ...
    @property
    def pipeline(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> float: ...


class StepLike(Protocol):
    """What lineage reads of a pipeline execution's step."""

    @property
    def step_name(self) -> str: ...
    @property
    def step_type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def job_name(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, Any]: ...


# -- ids ---------------------------------------------------------------------------------
def normalize_uri(location: str) -> str:
    """One spelling per location: an absolute local path becomes a ``file://`` URI,
    trailing slashes go (``file:///d/`` and ``/d`` are the same artifact)."""
    text = location.strip()
    if "://" not in text and text.startswith("/"):
        text = PurePosixPath(text).as_uri()
    if text.endswith("/") and not text.endswith("://") and not text.endswith(":///"):
        text = text.rstrip("/") or text
    return text


def job_id(name: str) -> str:
    """The id of a job's trial component."""
    return f"job:{name}"


def artifact_id(uri: str) -> str:
    """The id of the artifact at ``uri``."""
    return f"artifact:{normalize_uri(uri)}"


def model_id(name: str) -> str:
    """The id of a registered model."""
    return f"model:{name}"


def endpoint_id(name: str) -> str:
    """The id of an endpoint's context."""
    return f"endpoint:{name}"


def package_id(arn: str) -> str:
    """The id of a registry version (``group/version``)."""
    return f"package:{arn}"


def group_id(name: str) -> str:
    """The id of a model package group's context."""
    return f"group:{name}"


def execution_id(execution: str) -> str:
    """The id of a pipeline execution's context."""
    return f"execution:{execution}"


def pipeline_id(name: str) -> str:
    """The id of a pipeline's context."""
    return f"pipeline:{name}"


def deployment_id(endpoint: str, variant: str) -> str:
    """The id of the ModelDeployment action of an endpoint's variant."""
    return f"deployment:{endpoint}/{variant}"


# -- the graph ---------------------------------------------------------------------------
@dataclass
class Graph:
    """Entities and associations being collected. An entity added as a placeholder (only
    referenced, e.g. the model a transform job names) is replaced by the full one."""

    entities: dict[str, LineageEntity] = field(default_factory=dict)
    associations: dict[tuple[str, str, str], LineageAssociation] = field(
        default_factory=dict)
    _full: set[str] = field(default_factory=set)

    def add(self, entity: LineageEntity, *, placeholder: bool = False) -> str:
        """Add ``entity`` (a full one replaces a placeholder; otherwise the first stays);
        its id."""
        if entity.id not in self.entities or (not placeholder and entity.id not in self._full):
            self.entities[entity.id] = entity
        if not placeholder:
            self._full.add(entity.id)
        return entity.id

    def link(self, source: str, destination: str, kind: AssociationType) -> None:
        """Associate two added entities."""
        if source != destination:
            self.associations[(source, destination, kind.value)] = LineageAssociation(
                source, destination, kind)

    def merge(self, other: Graph) -> Graph:
        """Add ``other``'s entities and associations to this graph; this graph."""
        for entity_id, entity in other.entities.items():
            self.add(entity, placeholder=entity_id not in other._full)
        self.associations.update(other.associations)
        return self

    def artifact(self, uri: str, entity_type: str, created_at: float,
                 **properties: Any) -> str:
        """Add the artifact at ``uri`` (the first type given stays); its id."""
        entity = LineageEntity(artifact_id(uri), A, entity_type, normalize_uri(uri),
                               created_at, {k: v for k, v in properties.items()
                                            if v is not None})
        return self.add(entity, placeholder=entity.id in self.entities)

    def job_ref(self, name: str, created_at: float) -> str:
        """A placeholder for a job known only by name."""
        return self.add(LineageEntity(job_id(name), TC, "Job", name, created_at),
                        placeholder=True)

    def model_ref(self, name: str, created_at: float) -> str:
        """A placeholder for a model known only by name."""
        return self.add(LineageEntity(model_id(name), A, "Model", name, created_at),
                        placeholder=True)


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _job_entity(job: JobRecord) -> LineageEntity:
    kind = job.job_type
    props: dict[str, Any] = {"Status": job.status.value, "JobType": kind}
    if job.failure_reason:
        props["FailureReason"] = job.failure_reason
    if kind == "training" and job.spec.get("hyperparameters"):
        props["HyperParameters"] = job.spec["hyperparameters"]
    if kind == "training" and job.spec.get("algorithm"):
        props["Algorithm"] = job.spec["algorithm"]
    if kind == "tuning" and job.outputs.get("best_training_job"):
        props["BestTrainingJob"] = job.outputs["best_training_job"]
    entity_type = JOB_TYPES.get(kind, kind.title().replace("_", "") + "Job")
    return LineageEntity(job_id(job.name), TC, entity_type, job.name, job.created_at, props)


def collect_jobs(jobs: Iterable[JobRecord],
                 trials: Mapping[str, Sequence[TrialRecord]] | None = None) -> Graph:
    """The lineage of jobs (``trials``: each tuning job's trials by tuning job name)."""
    graph = Graph()
    trials = trials or {}
    for job in jobs:
        me = graph.add(_job_entity(job))
        spec, at = job.spec, job.created_at
        if job.job_type == "training":
            for channel in _list(spec.get("channels")):
                if channel.get("uri"):
                    data = graph.artifact(str(channel["uri"]), "DataSet", at,
                                          ChannelName=channel.get("name"))
                    graph.link(data, me, CONTRIBUTED)
            if job.outputs.get("model"):
                graph.link(me, graph.artifact(job.outputs["model"], "Model", at,
                                              TrainingJob=job.name), PRODUCED)
        elif job.job_type == "processing":
            for item in _list(spec.get("inputs")):
                if item.get("source"):
                    data = graph.artifact(str(item["source"]), "DataSet", at,
                                          InputName=item.get("name"))
                    graph.link(data, me, CONTRIBUTED)
            for name, uri in job.outputs.items():
                kind = "Report" if name.lower() in REPORT_OUTPUTS else "DataSet"
                graph.link(me, graph.artifact(uri, kind, at, OutputName=name), PRODUCED)
        elif job.job_type == "transform":
            if spec.get("model_name"):
                graph.link(graph.model_ref(str(spec["model_name"]), at), me, CONTRIBUTED)
            if spec.get("input"):
                graph.link(graph.artifact(str(spec["input"]), "DataSet", at), me,
                           CONTRIBUTED)
            if job.outputs.get("output"):
                graph.link(me, graph.artifact(job.outputs["output"], "DataSet", at),
                           PRODUCED)
        elif job.job_type == "tuning":
            best = job.outputs.get("best_training_job")
            for trial in trials.get(job.name, ()):
                trial_job = graph.job_ref(trial.training_job, at)
                graph.link(trial_job, me, ASSOCIATED)
            if best:
                graph.link(graph.job_ref(best, at), me, CONTRIBUTED)
    return graph


def collect_models(models: Iterable[ModelRecord],
                   jobs: Mapping[str, JobRecord] | None = None) -> Graph:
    """The lineage of registered models (``jobs``: jobs by name, to tell whether a
    model's directory is its job's own output)."""
    graph, jobs = Graph(), jobs or {}
    for model in models:
        me = graph.add(LineageEntity(
            model_id(model.name), A, "Model", model.name, model.created_at,
            {"Uri": model.uri, "Flavor": model.flavor, "TrainingJob": model.job_name}))
        directory = graph.artifact(model.uri, "Model", model.created_at)
        graph.link(me, directory, DERIVED)
        job = jobs.get(model.job_name) if model.job_name else None
        if job is not None and normalize_uri(job.outputs.get("model", "")) != normalize_uri(
                model.uri):
            graph.link(graph.job_ref(job.name, job.created_at), me, PRODUCED)
    return graph


def collect_endpoints(endpoints: Iterable[EndpointRecord],
                      configs: Mapping[str, EndpointConfigRecord],
                      packages: Iterable[PackageLike] = ()) -> Graph:
    """The lineage of endpoints (``configs`` by name; ``packages``: registry versions,
    linked to the deployments of their model)."""
    graph = Graph()
    by_model: dict[str, list[PackageLike]] = {}
    for package in packages:
        by_model.setdefault(package.model_name, []).append(package)
    for endpoint in endpoints:
        me = graph.add(LineageEntity(
            endpoint_id(endpoint.name), C, "Endpoint", endpoint.name, endpoint.created_at,
            {"Status": endpoint.status.value, "EndpointConfigName": endpoint.config_name}))
        config = configs.get(endpoint.config_name)
        if config is None:
            continue
        variants = _list(config.spec.get("ProductionVariants"))
        shadow = config.spec.get("ShadowProductionVariant")
        if isinstance(shadow, dict):
            variants.append({**shadow, "Shadow": True})
        for variant in variants:
            name, model = variant.get("VariantName"), variant.get("ModelName")
            if not name or not model:
                continue
            action = graph.add(LineageEntity(
                deployment_id(endpoint.name, str(name)), ACT, "ModelDeployment",
                f"{endpoint.name}/{name}", config.created_at,
                {"VariantName": name, "ModelName": model,
                 "Shadow": bool(variant.get("Shadow"))}))
            graph.link(graph.model_ref(str(model), config.created_at), action, CONTRIBUTED)
            graph.link(action, me, ASSOCIATED)
            for package in by_model.get(str(model), ()):
                graph.link(graph.add(_package_entity(package), placeholder=True), action,
                           CONTRIBUTED)
    return graph


def _package_entity(package: PackageLike) -> LineageEntity:
    status = getattr(package.approval_status, "value", package.approval_status)
    return LineageEntity(package_id(package.arn), A, "ModelPackage", package.arn,
                         package.created_at,
                         {"ModelPackageGroupName": package.group,
                          "ModelPackageVersion": package.version,
                          "ModelApprovalStatus": str(status),
                          "ModelName": package.model_name,
                          **({"Description": package.description}
                             if package.description else {})})


def _metrics_uris(model_metrics: Mapping[str, Any]) -> list[str]:
    """The ``S3Uri`` of each report in a SageMaker ModelMetrics dict."""
    found = []
    for section in model_metrics.values():
        if isinstance(section, dict):
            for report in section.values():
                if isinstance(report, dict) and isinstance(report.get("S3Uri"), str):
                    found.append(report["S3Uri"])
    return found


def collect_packages(packages: Iterable[PackageLike],
                     groups: Iterable[GroupLike] = ()) -> Graph:
    """The lineage of registry versions and their groups."""
    graph = Graph()
    for group in groups:
        graph.add(LineageEntity(group_id(group.name), C, "ModelPackageGroup", group.name,
                                group.created_at,
                                {"Description": group.description} if group.description
                                else {}))
    for package in packages:
        me = graph.add(_package_entity(package))
        at = package.created_at
        graph.link(me, graph.model_ref(package.model_name, at), DERIVED)
        graph.link(me, graph.add(LineageEntity(group_id(package.group), C,
                                               "ModelPackageGroup", package.group, at),
                                 placeholder=True), ASSOCIATED)
        source = package.source.get("PipelineExecutionId")
        if source:
            graph.link(graph.add(LineageEntity(execution_id(str(source)), C,
                                               "PipelineExecution", str(source), at),
                                 placeholder=True), me, CONTRIBUTED)
        for uri in _metrics_uris(package.model_metrics):
            graph.link(graph.artifact(uri, "Report", at), me, CONTRIBUTED)
    return graph


def collect_executions(executions: Iterable[ExecutionLike],
                       steps: Mapping[str, Sequence[StepLike]]) -> Graph:
    """The lineage of pipeline executions (``steps`` by execution id)."""
    graph = Graph()
    for execution in executions:
        at = execution.created_at
        pipeline = graph.add(LineageEntity(pipeline_id(execution.pipeline), C, "Pipeline",
                                           execution.pipeline, at), placeholder=True)
        me = graph.add(LineageEntity(
            execution_id(execution.execution_id), C, "PipelineExecution",
            execution.execution_id, at,
            {"PipelineName": execution.pipeline, "Status": execution.status,
             "Parameters": execution.parameters}))
        graph.link(me, pipeline, ASSOCIATED)
        for step in steps.get(execution.execution_id, ()):
            if step.job_name:
                graph.link(graph.job_ref(step.job_name, at), me, ASSOCIATED)
            model = step.metadata.get("Model")
            if isinstance(model, dict) and model.get("Name"):
                graph.link(graph.model_ref(str(model["Name"]), at), me, ASSOCIATED)
    return graph


# -- reading the stores ------------------------------------------------------------------
def registry_records(ws: Workspace) -> tuple[list[GroupLike], list[PackageLike]]:
    """Every model package group and registry version of ``ws``."""
    registry = RegistryStore.of(ws.store)
    groups = registry.list_groups()
    return list(groups), [v for g in groups for v in registry.list_versions(g.name)]


def pipeline_records(ws: Workspace
                     ) -> tuple[list[ExecutionLike], dict[str, list[StepLike]]]:
    """Every pipeline execution of ``ws`` and its steps by execution id."""
    executions, steps = executions_with_steps(ws, limit=SYNC_LIMIT)
    return list(executions), {k: list(v) for k, v in steps.items()}


def collect(ws: Workspace) -> Graph:
    """The whole derived graph of ``ws``'s stores."""
    jobs = ws.store.list_jobs(limit=SYNC_LIMIT)
    by_name = {j.name: j for j in jobs}
    trial_store = TrialStore.of(ws.store)
    trials = {j.name: trial_store.list_trials(j.name) for j in jobs
              if j.job_type == "tuning"}
    groups, packages = registry_records(ws)
    endpoint_store = EndpointStore.of(ws.store)
    configs = {c.name: c for c in endpoint_store.list_endpoint_configs()}
    executions, steps = pipeline_records(ws)
    graph = Graph()
    graph.merge(collect_models(ws.store.list_models(limit=SYNC_LIMIT), by_name))
    graph.merge(collect_jobs(jobs, trials))
    graph.merge(collect_packages(packages, groups))
    graph.merge(collect_endpoints(endpoint_store.list_endpoints(), configs, packages))
    graph.merge(collect_executions(executions, steps))
    return graph


def save(store: LineageStore, graph: Graph) -> None:
    """Upsert ``graph`` into ``store`` (entities first)."""
    store.upsert_entities(list(graph.entities.values()))
    store.upsert_associations(list(graph.associations.values()))


def sync(ws: Workspace) -> Graph:
    """Bring the lineage store up to date with the other stores; the derived graph."""
    graph = collect(ws)
    save(LineageStore.of(ws.store), graph)
    return graph
