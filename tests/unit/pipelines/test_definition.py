"""Pipeline definition JSON: parsing and every check made before anything runs, parameter
binding, expression resolution and condition evaluation (a fake Scope; no jobs)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from mlyard.errors import ValidationError
from mlyard.pipelines.definition import (
    bind_parameters,
    evaluate_conditions,
    parse_definition,
    parse_duration,
    referenced_steps,
    resolve,
)

OUT = "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
JSONGET = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
                           "Path": "metrics.accuracy.value"}}


def base() -> dict[str, Any]:
    """A valid definition: prepare -> train -> evaluate -> condition (register | fail)."""
    return copy.deepcopy({
        "Version": "2020-12-01", "Metadata": {},
        "Parameters": [{"Name": "MinAccuracy", "Type": "Float", "DefaultValue": 0.8},
                       {"Name": "Epochs", "Type": "Integer", "DefaultValue": 5},
                       {"Name": "Data", "Type": "String"},
                       {"Name": "Fast", "Type": "Boolean", "DefaultValue": False}],
        "Steps": [
            {"Name": "Prepare", "Type": "Processing",
             "Arguments": {"EntryPoint": "prep.py",
                           "ProcessingInputs": [{"InputName": "raw",
                                                 "Source": {"Get": "Parameters.Data"}}],
                           "ProcessingOutputs": [{"OutputName": "train"},
                                                 {"OutputName": "test"}]},
             "CacheConfig": {"Enabled": True, "ExpireAfter": "P30D"}},
            {"Name": "Train", "Type": "Training",
             "Arguments": {"AlgorithmName": "blazingtext",
                           "HyperParameters": {"epochs": {"Get": "Parameters.Epochs"}},
                           "InputDataConfig": [{"ChannelName": "train",
                                                "Uri": {"Get": OUT}}]},
             "RetryPolicies": [{"ExceptionType": ["Step.SERVICE_FAULT"], "IntervalSeconds": 1,
                                "BackoffRate": 2.0, "MaxAttempts": 3}]},
            {"Name": "Evaluate", "Type": "Processing",
             "Arguments": {"EntryPoint": "evaluate.py",
                           "ProcessingInputs": [
                               {"InputName": "model",
                                "Source": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],
                           "ProcessingOutputs": [{"OutputName": "metrics"}]},
             "PropertyFiles": [{"PropertyFileName": "Evaluation", "OutputName": "metrics",
                                "FilePath": "evaluation.json"}]},
            {"Name": "AccuracyOK", "Type": "Condition",
             "Arguments": {
                 "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": JSONGET,
                                 "RightValue": {"Get": "Parameters.MinAccuracy"}}],
                 "IfSteps": [
                     {"Name": "CreateModel", "Type": "Model",
                      "Arguments": {"SourceModelName": {"Get": "Steps.Train.TrainingJobName"}}},
                     {"Name": "Register", "Type": "RegisterModel",
                      "Arguments": {"ModelPackageGroupName": "reviews",
                                    "ModelName": {"Get": "Steps.CreateModel.ModelName"},
                                    "ModelApprovalStatus": "PendingManualApproval"}}],
                 "ElseSteps": [{"Name": "TooLow", "Type": "Fail",
                                "Arguments": {"ErrorMessage": {"Std:Join": {
                                    "On": " ", "Values": ["below",
                                                          {"Get": "Parameters.MinAccuracy"}]}}}}]}},
            {"Name": "Summarize", "Type": "Function",
             "Arguments": {"Function": "json:dumps", "Args": [{"Get": "Steps.AccuracyOK.Outcome"}],
                           "Kwargs": {}, "Python": None}},
        ]})


def test_parses_every_step_with_its_upstream_steps() -> None:
    defn = parse_definition(base())
    assert list(defn.steps) == ["Prepare", "Train", "Evaluate", "AccuracyOK", "CreateModel",
                                "Register", "TooLow", "Summarize"]
    assert defn.upstream("Train") == {"Prepare"}
    assert defn.upstream("AccuracyOK") == {"Evaluate"}
    assert defn.upstream("CreateModel") == {"AccuracyOK", "Train"}
    assert defn.upstream("Register") == {"AccuracyOK", "CreateModel"}
    assert defn.steps["Register"].branch_of == ("AccuracyOK", "if")
    assert defn.steps["TooLow"].branch_of == ("AccuracyOK", "else")
    assert defn.steps["AccuracyOK"].arguments["IfSteps"] == ["CreateModel", "Register"]
    assert defn.steps["Prepare"].cache is not None
    assert defn.steps["Prepare"].cache.expire_after_seconds == 30 * 86400
    assert defn.steps["Train"].retry_policies[0].max_attempts == 3
    assert defn.steps["Evaluate"].property_files[0].output_name == "metrics"
    assert [p.default for p in defn.parameters] == [0.8, 5, None, False]


def test_round_trips_through_text_and_to_dict() -> None:
    text = json.dumps(base())
    defn = parse_definition(text)
    assert defn.to_dict() == json.loads(text)
    assert parse_definition(defn.to_dict()).to_dict() == defn.to_dict()


def test_integer_default_of_a_float_parameter_is_normalized() -> None:
    d = base()
    d["Parameters"][0]["DefaultValue"] = 1
    defn = parse_definition(d)
    assert defn.parameters[0].default == 1.0 and isinstance(defn.parameters[0].default, float)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting ``value`` at a path like ``Steps.1.Arguments.AlgorithmName``."""
    def apply(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = d
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return apply


def _cond(d: dict[str, Any]) -> dict[str, Any]:
    return d["Steps"][3]["Arguments"]


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown type", _set("Steps.1.Type", "Traning"), "step Train: unknown step type 'Traning'"),
    ("duplicate", _set("Steps.2.Name", "Train"), "duplicate step name 'Train'"),
    ("duplicate in branch", lambda d: _cond(d)["ElseSteps"][0].update(Name="Prepare"),
     "duplicate step name 'Prepare'"),
    ("bad name", _set("Steps.0.Name", "has space"), "invalid step name 'has space'"),
    ("names alike", lambda d: _cond(d)["ElseSteps"][0].update(Name="TRAIN"),
     "step names 'Train' and 'TRAIN' differ only in case or '-'/'_'"),
    ("missing DependsOn", _set("Steps.1.DependsOn", ["Nope"]),
     "step Train: DependsOn names step 'Nope'"),
    ("self DependsOn", _set("Steps.1.DependsOn", ["Train"]), "step Train: DependsOn names itself"),
    ("cycle", _set("Steps.0.DependsOn", ["Evaluate"]),
     "cycle in pipeline steps: Prepare -> Train -> Evaluate -> Prepare"),
    ("missing step", _set("Steps.1.Arguments.InputDataConfig.0.Uri",
                          {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output"}),
     "step Train: references step 'Prep', which is not in the pipeline"),
    ("missing output", _set("Steps.1.Arguments.InputDataConfig.0.Uri",
                            {"Get": OUT.replace("'train'", "'trian'")}),
     "step Train: step Prepare has no output 'trian' (its outputs: train, test)"),
    ("missing property file", lambda d: _cond(d)["Conditions"][0].update(LeftValue={
        "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Eval"},
                        "Path": "a"}}),
     "step AccuracyOK: step Evaluate declares no property file 'Eval'"),
    ("property file of a step without any", lambda d: _cond(d)["Conditions"][0].update(
        LeftValue={"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Train.PropertyFiles.E"},
                                   "Path": "a"}}),
     "step AccuracyOK: step Train declares no property file 'E'"),
    ("property file on another output", _set("Steps.2.PropertyFiles.0.OutputName", "other"),
     "step Evaluate: property file Evaluation names output 'other', which the step does not "
     "declare"),
    ("property root", _set("Steps.2.Arguments.ProcessingInputs.0.Source",
                           {"Get": "Steps.Train.ModelArtifact.S3ModelArtifacts"}),
     "step Evaluate: Training step Train has no property 'ModelArtifact'"),
    ("property of a fail step", lambda d: _cond(d)["ElseSteps"].append(
        {"Name": "Note", "Type": "Function", "Arguments": {
            "Function": "json:dumps", "Args": [{"Get": "Steps.TooLow.X"}]}}),
     "step Note: Fail step TooLow has no property 'X' (its properties: none)"),
    ("no property", _set("Steps.4.Arguments.Args.0", {"Get": "Steps.Train"}),
     "step Summarize: a reference to step Train needs a property"),
    ("unknown parameter", _set("Steps.1.Arguments.HyperParameters.epochs",
                               {"Get": "Parameters.Epoch"}),
     "step Train: unknown parameter 'Epoch'"),
    ("unknown execution variable", _set("Steps.1.Arguments.HyperParameters.epochs",
                                        {"Get": "Execution.Id"}),
     "step Train: unknown execution variable 'Id'"),
    ("bad Get", _set("Steps.1.Arguments.HyperParameters.epochs", {"Get": "Params.X"}),
     "step Train: Get 'Params.X': must start with Parameters., Execution. or Steps."),
    ("malformed path", _set("Steps.1.Arguments.HyperParameters.epochs",
                            {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs[train]"}),
     "step Train: malformed property path"),
    ("bad join", _set("Steps.1.Arguments.HyperParameters.epochs", {"Std:Join": ["a"]}),
     "step Train: Std:Join takes"),
    ("bad condition type", lambda d: _cond(d)["Conditions"][0].update(Type="Bigger"),
     "step AccuracyOK: Conditions[0]: unknown condition type 'Bigger'"),
    ("condition keys", lambda d: _cond(d)["Conditions"][0].pop("RightValue"),
     "step AccuracyOK: Conditions[0]: a GreaterThanOrEqualTo condition takes LeftValue, "
     "RightValue"),
    ("empty conditions", lambda d: _cond(d).update(Conditions=[]),
     "step AccuracyOK: Conditions must be a non-empty list"),
    ("bad Not", lambda d: _cond(d).update(Conditions=[{"Type": "Not", "Expression": 3}]),
     "step AccuracyOK: Conditions[0].Expression must be an object"),
    ("bad Or", lambda d: _cond(d).update(Conditions=[{"Type": "Or", "Conditions": [
        {"Type": "Equals", "LeftValue": 1}]}]),
     "step AccuracyOK: Conditions[0].Conditions[0]: a Equals condition takes"),
    ("bad In", lambda d: _cond(d).update(Conditions=[{"Type": "In", "QueryValue": 1,
                                                      "Values": []}]),
     "step AccuracyOK: Conditions[0]: Values must be a non-empty list"),
    ("object operand", lambda d: _cond(d)["Conditions"][0].update(LeftValue={"a": 1}),
     "step AccuracyOK: Conditions[0]: an operand must be a literal or an expression"),
    ("branch step from outside", _set("Steps.4.Arguments.Args.0",
                                      {"Get": "Steps.Register.ModelPackageArn"}),
     "step Summarize: references step Register, which runs only on the 'if' branch of "
     "condition AccuracyOK"),
    ("branch step from the other branch", lambda d: _cond(d)["ElseSteps"][0].update(
        DependsOn=["Register"]),
     "step TooLow: references step Register, which runs only on the 'if' branch"),
    ("condition on its own branch", lambda d: _cond(d)["Conditions"][0].update(
        LeftValue={"Get": "Steps.Register.ModelPackageVersion"}),
     "step AccuracyOK: cannot reference its own branch step Register"),
    ("training spec", _set("Steps.1.Arguments.ResourceConfig", {"InstanceCount": 0}),
     "step Train: resources.instance_count: must be >= 1, got 0"),
    ("training spec unknown field", _set("Steps.1.Arguments.RoleArn", "arn"),
     "step Train: RoleArn: is not a known field"),
    ("training spec model check", _set("Steps.1.Arguments.EntryPoint", "train.py"),
     "step Train: a training job needs exactly one of algorithm, entry_point or command"),
    ("processing spec", lambda d: d["Steps"][0]["Arguments"].pop("EntryPoint"),
     "step Prepare: a processing job needs exactly one of entry_point or command"),
    ("placeholder of a parameter's type", _set("Steps.1.Arguments.ResourceConfig",
                                               {"InstanceCount": {"Get": "Parameters.Data"}}),
     None),
    ("tuning spec", _set("Steps.1.Type", "Tuning"), "step Train: "),
    ("transform spec", lambda d: d["Steps"].append(
        {"Name": "Predict", "Type": "Transform", "Arguments": {"ModelName": "m"}}),
     "step Predict: input: is required"),
    ("model args", lambda d: _cond(d)["IfSteps"][0].update(Arguments={"ModelName": "x"}),
     "step CreateModel: needs PrimaryContainer.ModelDataUrl or SourceModelName"),
    ("model arg type", lambda d: _cond(d)["IfSteps"][0]["Arguments"].update(ModelName=3),
     "step CreateModel: ModelName must be a string or an expression, not an integer"),
    ("register group", lambda d: _cond(d)["IfSteps"][1]["Arguments"].pop(
        "ModelPackageGroupName"), "step Register: ModelPackageGroupName is required"),
    ("register status", lambda d: _cond(d)["IfSteps"][1]["Arguments"].update(
        ModelApprovalStatus="Maybe"), "step Register: ModelApprovalStatus must be one of"),
    ("register metrics", lambda d: _cond(d)["IfSteps"][1]["Arguments"].update(
        ModelMetrics={"ModelQuality": {"Statistics": {"S3Uri": "x"}}}),
     "step Register: ModelMetrics.ModelQuality.Statistics: ContentType is required"),
    ("fail args", lambda d: _cond(d)["ElseSteps"][0].update(Arguments={"Message": "x"}),
     "step TooLow: unknown argument 'Message'"),
    ("function ref", _set("Steps.4.Arguments.Function", "not a function"),
     "step Summarize: Function must be 'package.module:function'"),
    ("function args", _set("Steps.4.Arguments.Args", {"a": 1}),
     "step Summarize: Args must be a list"),
    ("parameter type", _set("Parameters.0.Type", "Double"),
     "parameter MinAccuracy: Type must be one of String, Integer, Float, Boolean"),
    ("parameter default", _set("Parameters.1.DefaultValue", "5"),
     "parameter Epochs: default '5' is not a Integer"),
    ("boolean default", _set("Parameters.3.DefaultValue", 0),
     "parameter Fast: default 0 is not a Boolean"),
    ("duplicate parameter", lambda d: d["Parameters"].append({"Name": "Epochs", "Type": "Integer"}),
     "duplicate parameter name 'Epochs'"),
    ("cache duration", _set("Steps.0.CacheConfig.ExpireAfter", "30 days"),
     "step Prepare: CacheConfig.ExpireAfter: invalid ISO-8601 duration '30 days'"),
    ("retry attempts", _set("Steps.1.RetryPolicies.0.MaxAttempts", 0),
     "step Train: RetryPolicies[0].MaxAttempts must be an integer from 1 to 20"),
    ("unknown step field", _set("Steps.1.Retry", []), "step Train: unknown field 'Retry'"),
    ("property files on training", _set("Steps.1.PropertyFiles", [
        {"PropertyFileName": "E", "OutputName": "o", "FilePath": "e.json"}]),
     "step Train: PropertyFiles are for Processing steps"),
    ("escaping property file", _set("Steps.2.PropertyFiles.0.FilePath", "../x.json"),
     "step Evaluate: PropertyFiles[0].FilePath must be a relative path inside the output"),
    ("no steps", _set("Steps", []), "a pipeline needs at least one step"),
    ("steps not a list", _set("Steps", {}), "Steps must be a list of steps"),
    ("unknown top-level field", _set("Stepz", []), "unknown field 'Stepz'"),
    ("experiment config", _set("PipelineExperimentConfig", {
        "ExperimentName": {"Get": "Steps.Train.TrainingJobName"}}),
     "PipelineExperimentConfig.ExperimentName: cannot reference step Train"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in BAD],
                         ids=[label for label, _, _ in BAD])
def test_bad_definitions_are_refused_naming_the_step_or_field(
        mutate: Callable[[dict[str, Any]], None], message: str | None) -> None:
    d = base()
    mutate(d)
    if message is None:
        # The fitting placeholder (a String parameter's sample "1") is read as an integer.
        parse_definition(d)
        return
    with pytest.raises(ValidationError) as info:
        parse_definition(d)
    assert message in str(info.value)


def test_a_real_job_spec_error_behind_a_parameter_default_is_refused() -> None:
    d = base()
    d["Parameters"][1]["DefaultValue"] = 0
    d["Steps"][1]["Arguments"]["ResourceConfig"] = {"InstanceCount": {"Get": "Parameters.Epochs"}}
    with pytest.raises(ValidationError,
                       match=re.escape("step Train: resources.instance_count: must be")):
        parse_definition(d)


def test_branch_steps_may_use_each_other_and_nested_branches() -> None:
    d = base()
    register = _cond(d)["IfSteps"][1]
    _cond(d)["IfSteps"][1] = {"Name": "Inner", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.CreateModel.ModelName"},
                        "RightValue": "x"}],
        "IfSteps": [register], "ElseSteps": []}}
    defn = parse_definition(d)
    assert defn.steps["Register"].branch_of == ("Inner", "if")
    assert defn.upstream("Inner") == {"AccuracyOK", "CreateModel"}
    assert list(defn.steps).index("Inner") < list(defn.steps).index("Register")
    assert defn.to_dict() == parse_definition(json.loads(json.dumps(d))).to_dict()


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse_definition("{")
    with pytest.raises(ValidationError, match="must be a JSON object"):
        parse_definition("[]")


def test_referenced_steps_finds_references_anywhere() -> None:
    assert referenced_steps({"a": [{"Get": OUT}, {"Std:Join": {"On": "", "Values": [
        {"Get": "Steps.B.X"}, "y"]}}], "b": JSONGET, "c": {"Get": "Parameters.P"}}) == {
        "Prepare", "B", "Evaluate"}


@pytest.mark.parametrize(("text", "seconds"), [
    ("P30D", 30 * 86400), ("PT1H", 3600), ("P1DT12H", 1.5 * 86400), ("PT0.5S", 0.5),
    ("P2W", 14 * 86400), ("PT1M", 60), ("P1M", 30 * 86400)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "30D", "P1DT", "", "P-1D"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValidationError, match="invalid ISO-8601 duration"):
        parse_duration(text)


# ---------------------------------------------------------------------------------------------
# bind_parameters
# ---------------------------------------------------------------------------------------------

def test_bind_uses_defaults_and_coerces_command_line_strings() -> None:
    defn = parse_definition(base())
    assert bind_parameters(defn, {"Data": "x.csv"}) == {
        "MinAccuracy": 0.8, "Epochs": 5, "Data": "x.csv", "Fast": False}
    got = bind_parameters(defn, {"Data": "x", "MinAccuracy": "0.82", "Epochs": "7",
                                 "Fast": "true"})
    assert got == {"MinAccuracy": 0.82, "Epochs": 7, "Data": "x", "Fast": True}
    assert bind_parameters(defn, {"Data": "x", "MinAccuracy": 1, "Fast": "No"})["Fast"] is False


@pytest.mark.parametrize(("given", "message"), [
    ({"Data": "x", "MinAccuracy": "abc"}, "parameter MinAccuracy: 'abc' is not a Float"),
    ({"Data": "x", "Epochs": "2.5"}, "parameter Epochs: '2.5' is not a Integer"),
    ({"Data": "x", "Epochs": 2.5}, "parameter Epochs: 2.5 is not a Integer"),
    ({"Data": "x", "Epochs": True}, "parameter Epochs: True is not a Integer"),
    ({"Data": "x", "Fast": "maybe"}, "parameter Fast: 'maybe' is not a Boolean"),
    ({"Data": 3}, "parameter Data: 3 is not a String"),
    ({"Data": "x", "MinAccuracy": "inf"}, "parameter MinAccuracy: 'inf' is not a finite number"),
    ({"Data": "x", "MinAccuracy": [1]}, "parameter MinAccuracy: [1] is not a Float"),
    ({}, "parameter Data is required"),
    ({"Data": "x", "Nope": 1}, "unknown pipeline parameter 'Nope'"),
])
def test_bind_refuses_naming_the_parameter(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        bind_parameters(parse_definition(base()), given)
    assert message in str(info.value)


def test_enum_values_limit_a_string_parameter() -> None:
    d = base()
    d["Parameters"][2].update(EnumValues=["a.csv", "b.csv"])
    defn = parse_definition(d)
    assert bind_parameters(defn, {"Data": "b.csv"})["Data"] == "b.csv"
    with pytest.raises(ValidationError, match=re.escape("parameter Data: 'c.csv' is not one of")):
        bind_parameters(defn, {"Data": "c.csv"})
    assert defn.to_dict() == d


# ---------------------------------------------------------------------------------------------
# resolve and evaluate_conditions
# ---------------------------------------------------------------------------------------------

class FakeScope:
    def __init__(self) -> None:
        self.params = {"MinAccuracy": 0.8, "Name": "reviews"}
        self.props: dict[str, dict[str, Any]] = {
            "Prepare": {"ProcessingJobName": "prep-1", "ProcessingOutputConfig": {"Outputs": {
                "train": {"OutputName": "train", "S3Output": {"S3Uri": "file:///a/train"}}}}},
            "Train": {"TrainingJobName": "train-1",
                      "FinalMetricDataList": {"validation:accuracy": {
                          "MetricName": "validation:accuracy", "Value": 0.91}},
                      "Metrics": [{"MetricName": "loss", "Value": 0.2}]},
            "AccuracyOK": {"Outcome": "True"}}
        self.files = {("Evaluate", "Evaluation"): {
            "metrics": {"accuracy": {"value": 0.9}, "per_class": [{"f1": 0.7}, {"f1": 0.8}]}}}

    def parameter(self, name: str) -> Any:
        return self.params[name]

    def execution_variable(self, name: str) -> Any:
        return {"PipelineExecutionId": "reviews-20261207-abcd"}[name]

    def step_properties(self, step: str) -> dict[str, Any]:
        return self.props[step]

    def property_file(self, step: str, name: str) -> Any:
        return self.files[(step, name)]


def _jsonget(path: str) -> dict[str, Any]:
    return {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
                            "Path": path}}


def test_resolve_every_expression_kind_inside_nested_values() -> None:
    value = {"a": [{"Get": OUT}, {"Get": "Parameters.MinAccuracy"}],
             "b": {"Std:Join": {"On": "/", "Values": [
                 {"Get": "Execution.PipelineExecutionId"}, "x", 3, True]}},
             "c": {"Get": "Steps.Train.FinalMetricDataList['validation:accuracy'].Value"},
             "d": {"Get": "Steps.Train.Metrics[0].Value"},
             "e": {"Get": "Steps.Train.Metrics['loss'].Value"},
             "f": _jsonget("metrics.per_class[1].f1"), "g": _jsonget("$.metrics.accuracy"),
             "h": "plain", "i": None}
    original = copy.deepcopy(value)
    assert resolve(value, FakeScope()) == {
        "a": ["file:///a/train", 0.8], "b": "reviews-20261207-abcd/x/3/true", "c": 0.91,
        "d": 0.2, "e": 0.2, "f": 0.8, "g": {"value": 0.9}, "h": "plain", "i": None}
    assert value == original


def test_resolve_returns_copies() -> None:
    scope = FakeScope()
    got = resolve({"Get": "Steps.Prepare.ProcessingOutputConfig"}, scope)
    got["Outputs"].clear()
    assert scope.props["Prepare"]["ProcessingOutputConfig"]["Outputs"]


def test_resolve_missing_paths_name_the_path_and_step() -> None:
    with pytest.raises(ValidationError, match=r"JsonGet: path 'metrics\.recall\.value' not "
                                              "found in property file Evaluation of step "
                                              "Evaluate"):
        resolve(_jsonget("metrics.recall.value"), FakeScope())
    with pytest.raises(ValidationError, match="not found"):
        resolve(_jsonget("metrics.per_class[5].f1"), FakeScope())
    with pytest.raises(ValidationError, match=re.escape(
            "step Prepare has no property \"ProcessingOutputConfig.Outputs['test'].S3Output")):
        resolve({"Get": OUT.replace("train", "test")}, FakeScope())


def _c(ctype: str, left: Any, right: Any) -> dict[str, Any]:
    return {"Type": ctype, "LeftValue": left, "RightValue": right}


@pytest.mark.parametrize(("cond", "expected"), [
    (_c("GreaterThanOrEqualTo", _jsonget("metrics.accuracy.value"),
        {"Get": "Parameters.MinAccuracy"}), True),
    (_c("GreaterThan", 0.8, {"Get": "Parameters.MinAccuracy"}), False),
    (_c("LessThan", 0.7, {"Get": "Parameters.MinAccuracy"}), True),
    (_c("LessThanOrEqualTo", "0.8", 0.8), True),
    (_c("Equals", 1, 1.0), True),
    (_c("Equals", "1", 1), True),
    (_c("Equals", "1", "1.0"), False),
    (_c("Equals", {"Get": "Steps.AccuracyOK.Outcome"}, "True"), True),
    (_c("GreaterThan", 10, 9), True),
    (_c("GreaterThan", "b", "a"), True),
    ({"Type": "In", "QueryValue": {"Get": "Parameters.Name"}, "Values": ["x", "reviews"]}, True),
    ({"Type": "In", "QueryValue": 2, "Values": [1.0, 2.0]}, True),
    ({"Type": "Not", "Expression": _c("Equals", 1, 2)}, True),
    ({"Type": "Or", "Conditions": [_c("Equals", 1, 2), _c("Equals", 2, 2)]}, True),
    ({"Type": "Or", "Conditions": [_c("Equals", 1, 2), _c("Equals", 2, 3)]}, False),
])
def test_conditions(cond: dict[str, Any], expected: bool) -> None:
    assert evaluate_conditions([cond], FakeScope()) is expected


def test_all_conditions_must_hold() -> None:
    assert not evaluate_conditions([_c("Equals", 1, 1), _c("Equals", 1, 2)], FakeScope())
    assert evaluate_conditions([_c("Equals", 1, 1), _c("LessThan", 1, 2)], FakeScope())


def test_comparing_a_number_with_text_is_an_error() -> None:
    with pytest.raises(ValidationError, match="condition GreaterThan: cannot compare 'abc'"):
        evaluate_conditions([_c("GreaterThan", "abc", 0.5)], FakeScope())
