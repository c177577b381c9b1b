"""The pipeline SDK objects: the issue's example pipeline serializes to a definition that
checks, round-trips and resolves into valid job specs; property references, parameters,
Join/JsonGet and f-strings land as expressions; bad objects are refused naming the step."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest

import mlyard
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.pipelines import (
    CacheConfig,
    ConditionEquals,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionNot,
    ConditionOr,
    ConditionStep,
    ExecutionVariables,
    FailStep,
    FunctionStep,
    Join,
    JsonGet,
    MetricsSource,
    ModelMetrics,
    ModelStep,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Pipeline,
    ProcessingStep,
    PropertyFile,
    RegisterModel,
    RetryPolicy,
    StepExceptionTypeEnum,
    TrainingStep,
    TransformStep,
    TuningStep,
)
from mlyard.pipelines.definition import parse_definition, resolve
from mlyard.processing.spec import ProcessingJobSpec
from mlyard.training.spec import TrainingJobSpec

OUT = "Steps.Prepare.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri"


def example(ws: Workspace) -> dict[str, Any]:
    """The issue's example pipeline (and its pieces)."""
    threshold = ParameterFloat("MinAccuracy", default_value=0.80)
    epochs = ParameterInteger("Epochs", default_value=5)
    raw = ParameterString("RawData", default_value="data/reviews.csv")
    prep = ProcessingStep(
        "Prepare", processor=mlyard.Processor(entry_point="prepare.py", source_dir="code"),
        inputs={"raw": raw}, outputs=["train", "validation", "test"],
        job_arguments=["--split", 0.9, f"--run={ExecutionVariables.PIPELINE_EXECUTION_ID}"],
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"))
    outputs = prep.properties.ProcessingOutputConfig.Outputs
    train = TrainingStep(
        "Train", estimator=mlyard.Estimator("blazingtext", hyperparameters={"epochs": epochs}),
        inputs={"train": outputs["train"].S3Output.S3Uri,
                "validation": outputs["validation"].S3Output.S3Uri},
        retry_policies=[RetryPolicy([StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=3)])
    evaluation = PropertyFile("Evaluation", output_name="metrics", path="evaluation.json")
    ev = ProcessingStep(
        "Evaluate", processor=mlyard.Processor(entry_point="evaluate.py", source_dir="code"),
        inputs=[mlyard.ProcessingInput(name="model",
                                       source=train.properties.ModelArtifacts.S3ModelArtifacts),
                mlyard.ProcessingInput(name="test", source=outputs["test"].S3Output.S3Uri)],
        outputs=["metrics"], property_files=[evaluation])
    metrics_uri = Join(on="/", values=[
        ev.properties.ProcessingOutputConfig.Outputs["metrics"].S3Output.S3Uri,
        "evaluation.json"])
    create = ModelStep("CreateModel", model=train)
    register = RegisterModel(
        "Register", model=create, model_package_group_name="reviews",
        approval_status="PendingManualApproval",
        model_metrics=ModelMetrics(model_statistics=MetricsSource("application/json",
                                                                  metrics_uri)),
        description="BlazingText reviews", content_types=["application/json"],
        response_types=["application/json"])
    fail = FailStep("TooLow", error_message=Join(on=" ", values=["accuracy below", threshold]))
    cond = ConditionStep(
        "AccuracyOK",
        conditions=[ConditionGreaterThanOrEqualTo(JsonGet(ev, evaluation,
                                                          "metrics.accuracy.value"),
                                                  threshold)],
        if_steps=[create, register], else_steps=[fail])
    pipe = Pipeline("reviews", parameters=[threshold, epochs, raw],
                    steps=[prep, train, ev, cond])
    return {"pipe": pipe, "prep": prep, "train": train, "ev": ev, "cond": cond,
            "threshold": threshold, "epochs": epochs, "evaluation": evaluation}


def _steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for s in definition["Steps"]:
        out[s["Name"]] = s
        if s["Type"] == "Condition":
            for nested in s["Arguments"]["IfSteps"] + s["Arguments"]["ElseSteps"]:
                out[nested["Name"]] = nested
    return out


def test_example_pipeline_serializes_with_expressions_in_place(ws: Workspace) -> None:
    d = json.loads(example(ws)["pipe"].definition())
    assert d["Version"] == "2020-12-01"
    assert d["Parameters"] == [
        {"Name": "MinAccuracy", "Type": "Float", "DefaultValue": 0.8},
        {"Name": "Epochs", "Type": "Integer", "DefaultValue": 5},
        {"Name": "RawData", "Type": "String", "DefaultValue": "data/reviews.csv"}]
    assert d["PipelineExperimentConfig"] == {
        "ExperimentName": {"Get": "Execution.PipelineName"},
        "TrialName": {"Get": "Execution.PipelineExecutionId"}}
    assert [s["Name"] for s in d["Steps"]] == ["Prepare", "Train", "Evaluate", "AccuracyOK"]
    steps = _steps(d)
    prep = steps["Prepare"]["Arguments"]
    assert prep["ProcessingInputs"] == [{"InputName": "raw",
                                         "Source": {"Get": "Parameters.RawData"}}]
    assert prep["ContainerArguments"] == ["--split", "0.9", {"Std:Join": {"On": "", "Values": [
        "--run=", {"Get": "Execution.PipelineExecutionId"}]}}]
    assert steps["Prepare"]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
    train = steps["Train"]["Arguments"]
    assert train["HyperParameters"] == {"epochs": {"Get": "Parameters.Epochs"}}
    assert train["InputDataConfig"][0]["Uri"] == {"Get": OUT.format("train")}
    assert train["InputDataConfig"][1]["Uri"] == {"Get": OUT.format("validation")}
    assert steps["Train"]["RetryPolicies"] == [{"ExceptionType": ["Step.SERVICE_FAULT"],
                                                "IntervalSeconds": 1, "BackoffRate": 2.0,
                                                "MaxAttempts": 3}]
    assert steps["Evaluate"]["Arguments"]["ProcessingInputs"][0]["Source"] == {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert steps["Evaluate"]["PropertyFiles"] == [{"PropertyFileName": "Evaluation",
                                                   "OutputName": "metrics",
                                                   "FilePath": "evaluation.json"}]
    assert steps["AccuracyOK"]["Arguments"]["Conditions"] == [{
        "Type": "GreaterThanOrEqualTo",
        "LeftValue": {"Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
            "Path": "metrics.accuracy.value"}},
        "RightValue": {"Get": "Parameters.MinAccuracy"}}]
    assert steps["CreateModel"]["Arguments"] == {
        "PrimaryContainer": {"ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts."
                                                     "S3ModelArtifacts"}},
        "SourceModelName": {"Get": "Steps.Train.TrainingJobName"}}
    reg = steps["Register"]["Arguments"]
    assert reg["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert reg["ModelPackageGroupName"] == "reviews"
    assert reg["ModelApprovalStatus"] == "PendingManualApproval"
    assert reg["ModelPackageDescription"] == "BlazingText reviews"
    assert reg["InferenceSpecification"] == {
        "Containers": [{"ModelDataUrl": {"Get": "Steps.CreateModel.PrimaryContainer."
                                                "ModelDataUrl"}}],
        "SupportedContentTypes": ["application/json"],
        "SupportedResponseMIMETypes": ["application/json"]}
    assert reg["ModelMetrics"] == {"ModelQuality": {"Statistics": {
        "ContentType": "application/json",
        "S3Uri": {"Std:Join": {"On": "/", "Values": [
            {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"},
            "evaluation.json"]}}}}}
    assert steps["TooLow"]["Arguments"] == {"ErrorMessage": {"Std:Join": {
        "On": " ", "Values": ["accuracy below", {"Get": "Parameters.MinAccuracy"}]}}}


def test_definition_round_trips(ws: Workspace) -> None:
    text = example(ws)["pipe"].definition()
    d = json.loads(text)
    defn = parse_definition(d)
    assert defn.to_dict() == d
    assert json.dumps(defn.to_dict()) == text
    again = Pipeline.from_definition("reviews", text)
    assert again.definition() == text
    assert Pipeline.from_definition("reviews", d).to_request() == d
    assert defn.upstream("Register") == {"AccuracyOK", "CreateModel", "Evaluate"}
    assert defn.upstream("Evaluate") == {"Train", "Prepare"}


class Scope:
    def parameter(self, name: str) -> Any:
        return {"MinAccuracy": 0.8, "Epochs": 7, "RawData": "raw.csv"}[name]

    def execution_variable(self, name: str) -> Any:
        return "reviews-1"

    def step_properties(self, step: str) -> dict[str, Any]:
        outs = {n: {"OutputName": n, "S3Output": {"S3Uri": f"file:///out/{n}"}}
                for n in ("train", "validation", "test")}
        return {"ProcessingOutputConfig": {"Outputs": outs},
                "ModelArtifacts": {"S3ModelArtifacts": "file:///models/train-1"}}

    def property_file(self, step: str, name: str) -> Any:
        return {"metrics": {"accuracy": {"value": 0.9}}}


def test_resolved_arguments_are_valid_job_specs(ws: Workspace) -> None:
    steps = _steps(json.loads(example(ws)["pipe"].definition()))
    train = TrainingJobSpec.model_validate(resolve(steps["Train"]["Arguments"], Scope()))
    assert train.hyperparameters == {"epochs": 7}
    assert [c.uri for c in train.channels] == ["file:///out/train", "file:///out/validation"]
    prep = ProcessingJobSpec.model_validate(resolve(steps["Prepare"]["Arguments"], Scope()))
    assert prep.arguments == ["--split", "0.9", "--run=reviews-1"]
    assert prep.inputs[0].source == "raw.csv"
    ev = ProcessingJobSpec.model_validate(resolve(steps["Evaluate"]["Arguments"], Scope()))
    assert ev.inputs[0].source == "file:///models/train-1"


def test_property_references_record_attributes_and_items(ws: Workspace) -> None:
    train = example(ws)["train"]
    assert train.properties.FinalMetricDataList["validation:accuracy"].Value.expr == {
        "Get": "Steps.Train.FinalMetricDataList['validation:accuracy'].Value"}
    assert train.properties.HyperParameters["epochs"].expr == {
        "Get": "Steps.Train.HyperParameters['epochs']"}
    assert train.properties.Metrics[0].Value.expr == {"Get": "Steps.Train.Metrics[0].Value"}
    # Only SageMaker's PascalCase names record: other code's probes find nothing.
    assert getattr(train.properties.TrainingJobName, "name", None) is None
    with pytest.raises(AttributeError):
        _ = train.properties.__deepcopy__
    with pytest.raises(ValidationError, match="a property index"):
        _ = train.properties.Metrics[1.5]
    assert ExecutionVariables.START_DATETIME.expr == {"Get": "Execution.StartDateTime"}
    assert "TrainingJobName" in repr(train.properties.TrainingJobName)


def test_expressions_inside_strings_become_joins(ws: Workspace) -> None:
    epochs = ParameterInteger("Epochs", default_value=5)
    est = mlyard.Estimator("blazingtext", hyperparameters={"note": f"e{epochs}x", "n": epochs})
    step = TrainingStep("Train", estimator=est, inputs="data/" + ParameterString("D"))
    args = step.arguments
    assert args["HyperParameters"] == {
        "note": {"Std:Join": {"On": "", "Values": ["e", {"Get": "Parameters.Epochs"}, "x"]}},
        "n": {"Get": "Parameters.Epochs"}}
    assert args["InputDataConfig"][0]["ChannelName"] == "train"
    assert args["InputDataConfig"][0]["Uri"] == {"Std:Join": {"On": "", "Values": [
        "data/", {"Get": "Parameters.D"}]}}


def test_steps_not_listed_and_undeclared_parameters_are_named(ws: Workspace) -> None:
    parts = example(ws)
    with pytest.raises(ValidationError, match="step Train: references step 'Prepare', which "
                                              "is not in the pipeline"):
        Pipeline("p", parameters=[parts["threshold"], parts["epochs"]],
                 steps=[parts["train"]]).definition()
    with pytest.raises(ValidationError, match="step Train: unknown parameter 'Epochs'"):
        Pipeline("p", parameters=[ParameterString("RawData")],
                 steps=[parts["prep"], parts["train"]]).definition()


def test_cycle_through_depends_on_is_named(ws: Workspace) -> None:
    a = FailStep("A", error_message="a")
    b = FailStep("B", error_message="b", depends_on=[a])
    a.add_depends_on([b])
    with pytest.raises(ValidationError,
                       match=r"cycle in pipeline steps: (A -> B -> A|B -> A -> B)"):
        Pipeline("p", steps=[a, b]).definition()


def test_output_not_declared_is_named(ws: Workspace) -> None:
    parts = example(ws)
    bad = TrainingStep("Train2", estimator=mlyard.Estimator("blazingtext"),
                       inputs={"train": parts["prep"].properties.ProcessingOutputConfig
                               .Outputs["trian"].S3Output.S3Uri})
    with pytest.raises(ValidationError, match="step Train2: step Prepare has no output 'trian'"):
        Pipeline("p", parameters=[parts["epochs"], ParameterString("RawData")],
                 steps=[parts["prep"], bad]).definition()


def test_bad_jobs_are_refused_when_the_step_is_made(ws: Workspace) -> None:
    with pytest.raises(ValidationError, match="step Prep: invalid processing job: a processing "
                                              "job needs exactly one of entry_point or command"):
        ProcessingStep("Prep", processor=mlyard.Processor())
    with pytest.raises(ValidationError,
                       match=r"step Train: estimator must be an mlyard\.Estimator"):
        TrainingStep("Train", estimator="blazingtext")
    with pytest.raises(ValidationError, match="invalid step name 'a b'"):
        FailStep("a b")
    with pytest.raises(ValidationError, match="invalid job name 'my_pipe'"):
        Pipeline("my_pipe", steps=[FailStep("A")])
    with pytest.raises(ValidationError, match="step Train: inputs must be"):
        TrainingStep("Train", estimator=mlyard.Estimator("blazingtext"), inputs=3)


def module_level(x: int) -> int:
    return x


def test_function_steps(ws: Workspace) -> None:
    step = FunctionStep("Summarize", func=json.dumps, args=[ParameterBoolean("Flag")],
                        kwargs={"indent": 2})
    assert step.arguments == {"Function": "json:dumps", "Args": [{"Get": "Parameters.Flag"}],
                              "Kwargs": {"indent": 2}, "Python": None}
    assert FunctionStep("F", func=module_level).function == \
        "tests.unit.pipelines.test_objects:module_level"
    assert FunctionStep("F", func="pkg.mod:fn").function == "pkg.mod:fn"

    def inner() -> None: ...

    with pytest.raises(ValidationError, match="step F: function '<lambda>' is a lambda"):
        FunctionStep("F", func=lambda: 1)
    with pytest.raises(ValidationError, match="step F: function 'inner' is a lambda or nested"):
        FunctionStep("F", func=inner)
    with pytest.raises(ValidationError, match=r"step F: func must be 'package\.module:function'"):
        FunctionStep("F", func="no function")
    with pytest.raises(ValidationError, match="step F: args and kwargs must be JSON values"):
        FunctionStep("F", func=json.dumps, args=[object()])


def test_main_module_functions_are_refused(ws: Workspace, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    def fn() -> None: ...

    fn.__module__ = "__main__"
    fn.__qualname__ = "fn"
    with pytest.raises(ValidationError, match="defined in the script being run"):
        FunctionStep("F", func=fn)


def test_model_tuning_and_transform_steps(ws: Workspace) -> None:
    est = mlyard.Estimator("blazingtext")
    tuner = mlyard.HyperparameterTuner(
        est, "validation:accuracy",
        {"learning_rate": mlyard.ContinuousParameter(min_value=0.01, max_value=1.0)},
        max_jobs=2)
    tune = TuningStep("Tune", tuner=tuner, inputs={"train": "train.csv"})
    assert tune.arguments["TrainingJobDefinition"]["InputDataConfig"][0]["Uri"] == "train.csv"
    best = tune.get_top_model_name()
    assert best.expr == {"Get": "Steps.Tune.BestTrainingJob.TrainingJobName"}
    model = ModelStep("Best", model=tune, model_name="best-reviews")
    assert model.arguments == {"ModelName": "best-reviews", "SourceModelName": best.expr}
    predict = TransformStep("Predict", model_name=model.properties.ModelName, data="test.csv",
                            output=Join(on="/", values=["preds",
                                                        ExecutionVariables.PIPELINE_EXECUTION_ID]))
    assert predict.arguments["ModelName"] == {"Get": "Steps.Best.ModelName"}
    assert predict.arguments["TransformInput"] == "test.csv"
    assert predict.arguments["TransformOutput"] == {"Std:Join": {"On": "/", "Values": [
        "preds", {"Get": "Execution.PipelineExecutionId"}]}}
    registered = RegisterModel("Register", model="reviews-model",
                               model_package_group_name="reviews", approval_status="Approved")
    assert registered.arguments["ModelName"] == "reviews-model"
    pipe = Pipeline("tuned", steps=[tune, model, predict, registered])
    assert parse_definition(pipe.definition()).upstream("Predict") == {"Best"}
    with pytest.raises(ValidationError, match="top_k=0"):
        tune.get_top_model_name(1)
    with pytest.raises(ValidationError, match="approval_status must be one of"):
        RegisterModel("R", model="m", model_package_group_name="g", approval_status="Yes")
    with pytest.raises(ValidationError, match="step Predict: give transformer= and inputs="):
        TransformStep("Predict", data="x")


def test_conditions_and_configs_serialize() -> None:
    p = ParameterString("Mode", default_value="a", enum_values=["a", "b"])
    assert ConditionIn(p, ["a", "b"]).to_request() == {
        "Type": "In", "QueryValue": {"Get": "Parameters.Mode"}, "Values": ["a", "b"]}
    assert ConditionNot(ConditionEquals(1, 2)).to_request() == {
        "Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 2}}
    assert ConditionOr([ConditionEquals(p, "a")]).to_request()["Conditions"][0]["Type"] == \
        "Equals"
    assert p.to_request() == {"Name": "Mode", "Type": "String", "DefaultValue": "a",
                              "EnumValues": ["a", "b"]}
    assert CacheConfig(True).config == {"Enabled": True}
    with pytest.raises(ValidationError, match="invalid ISO-8601 duration"):
        CacheConfig(True, expire_after="30d")
    with pytest.raises(ValidationError, match="give max_attempts"):
        RetryPolicy(["Step.THROTTLING"])
    with pytest.raises(ValidationError, match="parameter N: default 'x' is not a Integer"):
        ParameterInteger("N", default_value="x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not a condition"):
        ConditionEquals(ConditionEquals(1, 1), 1).to_request()
    with pytest.raises(ValidationError, match="JsonGet needs json_path"):
        JsonGet("Evaluate", "Evaluation")
    with pytest.raises(ValidationError, match="conditions must be a non-empty list"):
        ConditionStep("C", conditions=[])


def test_pipeline_calls_the_engine_client(ws: Workspace, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("mlyard.pipelines.client")

    def record(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, *args, kwargs))
            return name
        return call

    for name in ("upsert_pipeline", "start_pipeline", "describe_pipeline", "list_executions",
                 "delete_pipeline"):
        setattr(fake, name, record(name))
    monkeypatch.setitem(sys.modules, "mlyard.pipelines.client", fake)
    monkeypatch.setattr(mlyard.pipelines, "client", fake, raising=False)
    pipe = example(ws)["pipe"]
    assert pipe.upsert(description="course") == "upsert_pipeline"
    assert calls[-1] == ("upsert_pipeline", ws, "reviews", json.loads(pipe.definition()),
                         {"description": "course"})
    assert pipe.start(parameters={"MinAccuracy": 0.82}, execution_display_name="first",
                      parallelism=2) == "start_pipeline"
    assert calls[-1] == ("start_pipeline", ws, "reviews", {"MinAccuracy": 0.82},
                         {"display_name": "first", "parallelism": 2})
    pipe.describe()
    pipe.list_executions()
    pipe.delete()
    assert [c[0] for c in calls[-3:]] == ["describe_pipeline", "list_executions",
                                          "delete_pipeline"]


def test_transformer_form_and_step_details_round_trip(ws: Workspace) -> None:
    from mlyard.transform.engine import TransformOptions

    transformer = types.SimpleNamespace(model=types.SimpleNamespace(name="reviews-model"),
                                        output_path="preds/",
                                        options=TransformOptions(batch_size=32))
    predict = TransformStep("Predict", transformer=transformer, inputs="test.csv",
                            display_name="Batch predictions", description="test set",
                            cache_config=CacheConfig(True, "PT12H"),
                            retry_policies=[RetryPolicy(["Step.THROTTLING"], interval_seconds=2,
                                                        backoff_rate=1.5, max_attempts=2)])
    args = predict.arguments
    assert (args["ModelName"], args["TransformInput"], args["TransformOutput"]) == (
        "reviews-model", "test.csv", "preds/")
    assert args["Options"]["BatchSize"] == 32
    done = FailStep("Done", depends_on=[predict])
    text = Pipeline("batch", steps=[predict, done]).definition()
    defn = parse_definition(text)
    assert defn.steps["Predict"].display_name == "Batch predictions"
    assert defn.steps["Predict"].cache is not None
    assert defn.steps["Predict"].cache.expire_after_seconds == 12 * 3600
    assert defn.steps["Predict"].retry_policies[0].max_attempts == 2
    assert defn.upstream("Done") == {"Predict"}
    assert json.dumps(defn.to_dict()) == text
