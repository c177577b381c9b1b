"""Pipeline definitions: SageMaker's pipeline definition JSON parsed, checked and evaluated.

The definition JSON is the seam between the Python objects (:mod:`mlyard.pipelines`, which
serialize to it) and the execution engine (which runs it). :func:`parse_definition` checks a
definition *before anything runs*: step types and names, ``DependsOn``, cycles, every
expression (parameters, execution variables, property references with their step's
properties, outputs and property files), condition shapes, and each job step's
``Arguments`` against its job spec (expressions replaced by placeholders). Every problem is a
:class:`~mlyard.errors.ValidationError` naming the step and field.

At run time :func:`resolve` replaces the expressions of a value through a :class:`Scope`
(parameters, execution variables, finished steps' properties and property files) and
:func:`evaluate_conditions` evaluates a condition step's conditions.

Expressions (JSON)::

    {"Get": "Parameters.MinAccuracy"}
    {"Get": "Execution.PipelineExecutionId"}
    {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
    {"Std:Join": {"On": "/", "Values": [...]}}
    {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
                     "Path": "metrics.accuracy.value"}}
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mlyard.errors import ValidationError, problem_text

DEFINITION_VERSION = "2020-12-01"
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
STEP_TYPES = ("Processing", "Training", "Tuning", "Transform", "Model", "RegisterModel",
              "Condition", "Fail", "Function")
#: The job steps: their Arguments are the job kind's spec (``to_sagemaker()`` shape).
JOB_STEP_TYPES = ("Processing", "Training", "Tuning", "Transform")
EXECUTION_VARIABLES = ("PipelineExecutionId", "PipelineName", "PipelineExecutionArn",
                       "StartDateTime", "CurrentDateTime")
#: The top-level properties each step type exposes once it Succeeded.
STEP_PROPERTIES: dict[str, tuple[str, ...]] = {
    "Processing": ("ProcessingJobName", "ProcessingJobStatus", "ProcessingJobArn",
                   "ProcessingOutputConfig"),
    "Training": ("TrainingJobName", "TrainingJobStatus", "TrainingJobArn", "ModelArtifacts",
                 "FinalMetricDataList", "HyperParameters", "OutputDataConfig"),
    "Tuning": ("HyperParameterTuningJobName", "HyperParameterTuningJobStatus",
               "HyperParameterTuningJobArn", "BestTrainingJob"),
    "Transform": ("TransformJobName", "TransformJobStatus", "TransformJobArn",
                  "TransformOutput"),
    "Model": ("ModelName", "PrimaryContainer"),
    "RegisterModel": ("ModelPackageArn", "ModelPackageGroupName", "ModelPackageVersion",
                      "ModelApprovalStatus"),
    "Condition": ("Outcome",),
    "Function": ("ReturnValue", "ProcessingJobName"),
    "Fail": (),
}
COMPARISONS = ("Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan",
               "LessThanOrEqualTo")
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")
APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
FUNCTION_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_DURATION_RE = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_DURATION_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)
_SEGMENT_RE = re.compile(r"""\.([A-Za-z0-9_:-]+)|\[(?:'([^']*)'|"([^"]*)"|(\d+))\]""")
_JSON_PATH_RE = re.compile(r"""([^.\[\]]+)|\[(\d+)\]|\[['"]([^'"]*)['"]\]""")


# ---------------------------------------------------------------------------------------------
# The parsed definition
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParameterDef:
    """A pipeline parameter; ``default`` None means the parameter is required."""

    name: str
    type: str
    default: Any = None
    enum_values: tuple[str, ...] | None = None   # String parameters: the allowed values


@dataclass(frozen=True)
class PropertyFileDef:
    """A JSON file ``path`` inside a processing step's output ``output_name``."""

    name: str
    output_name: str
    path: str


@dataclass(frozen=True)
class RetryPolicyDef:
    """Retry a step that failed with one of ``exception_types``."""

    exception_types: tuple[str, ...]
    interval_seconds: float = 1.0
    backoff_rate: float = 2.0
    max_attempts: int = 1


@dataclass(frozen=True)
class CacheDef:
    """Step caching; ``expire_after_seconds`` None: cached results never expire."""

    enabled: bool
    expire_after_seconds: float | None


@dataclass(frozen=True)
class StepDef:
    """One step. For a Condition step ``arguments["IfSteps"]``/``["ElseSteps"]`` are the
    *names* of its branch steps (each also a StepDef of its own, with ``branch_of``)."""

    name: str
    type: str
    arguments: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    cache: CacheDef | None = None
    retry_policies: tuple[RetryPolicyDef, ...] = ()
    property_files: tuple[PropertyFileDef, ...] = ()
    branch_of: tuple[str, str] | None = None
    display_name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class PipelineDefinition:
    """A checked definition: every step (branch steps included) in definition order."""

    parameters: tuple[ParameterDef, ...]
    steps: dict[str, StepDef]
    raw: dict[str, Any]

    def upstream(self, step: str) -> set[str]:
        """The steps that must finish before ``step``: the steps its expressions reference,
        its ``DependsOn``, and for a branch step its condition step."""
        sd = self.steps[step]
        up = referenced_steps(sd.arguments) | set(sd.depends_on)
        if sd.branch_of is not None:
            up.add(sd.branch_of[0])
        up.discard(step)
        return up

    def parameter(self, name: str) -> ParameterDef:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ValidationError(f"unknown pipeline parameter {name!r}")

    def top_level(self) -> list[str]:
        """The names of the steps not nested in a condition branch."""
        return [n for n, s in self.steps.items() if s.branch_of is None]

    def to_dict(self) -> dict[str, Any]:
        """The definition JSON rebuilt from the parsed steps (branch steps nested back)."""
        out: dict[str, Any] = {"Version": self.raw.get("Version", DEFINITION_VERSION),
                               "Metadata": self.raw.get("Metadata", {}),
                               "Parameters": [_parameter_json(p) for p in self.parameters]}
        if "PipelineExperimentConfig" in self.raw:
            out["PipelineExperimentConfig"] = self.raw["PipelineExperimentConfig"]
        out["Steps"] = [self._step_json(n) for n in self.top_level()]
        return out

    def _step_json(self, name: str) -> dict[str, Any]:
        sd = self.steps[name]
        out: dict[str, Any] = {"Name": sd.name, "Type": sd.type}
        if sd.display_name is not None:
            out["DisplayName"] = sd.display_name
        if sd.description is not None:
            out["Description"] = sd.description
        args = copy.deepcopy(sd.arguments)
        if sd.type == "Condition":
            args["IfSteps"] = [self._step_json(n) for n in sd.arguments["IfSteps"]]
            args["ElseSteps"] = [self._step_json(n) for n in sd.arguments["ElseSteps"]]
        out["Arguments"] = args
        if sd.depends_on:
            out["DependsOn"] = list(sd.depends_on)
        if sd.cache is not None:
            cache: dict[str, Any] = {"Enabled": sd.cache.enabled}
            raw_expire = self._raw_step(name).get("CacheConfig", {}).get("ExpireAfter")
            if raw_expire is not None:
                cache["ExpireAfter"] = raw_expire
            out["CacheConfig"] = cache
        if sd.retry_policies:
            # As given (1 stays 1, not 1.0), so the text round-trips too.
            out["RetryPolicies"] = copy.deepcopy(self._raw_step(name)["RetryPolicies"])
        if sd.property_files:
            out["PropertyFiles"] = [{"PropertyFileName": f.name, "OutputName": f.output_name,
                                     "FilePath": f.path} for f in sd.property_files]
        return out

    def _raw_step(self, name: str) -> dict[str, Any]:
        def walk(steps: list[Any]) -> dict[str, Any] | None:
            for s in steps:
                if s.get("Name") == name:
                    return dict(s)
                if s.get("Type") == "Condition":
                    args = s.get("Arguments", {})
                    found = walk(args.get("IfSteps", []) + args.get("ElseSteps", []))
                    if found is not None:
                        return found
            return None

        return walk(self.raw.get("Steps", [])) or {}


def _parameter_json(p: ParameterDef) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": p.name, "Type": p.type}
    if p.default is not None:
        out["DefaultValue"] = p.default
    if p.enum_values is not None:
        out["EnumValues"] = list(p.enum_values)
    return out


# ---------------------------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------------------------

def is_expression(value: Any) -> bool:
    """Whether ``value`` is an expression: ``{"Get": ...}``, ``{"Std:Join": ...}`` or
    ``{"Std:JsonGet": ...}`` (a dict with that single key)."""
    return (isinstance(value, dict) and len(value) == 1
            and next(iter(value)) in ("Get", "Std:Join", "Std:JsonGet"))


def parse_property_path(text: str) -> list[str | int]:
    """``.A.B['k'][0]`` -> ``["A", "B", "k", 0]``; ValidationError if malformed."""
    out: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = _SEGMENT_RE.match(text, pos)
        if m is None:
            raise ValidationError(f"malformed property path {text!r} at {text[pos:]!r}")
        attr, sq, dq, idx = m.groups()
        if attr is not None:
            out.append(attr)
        elif idx is not None:
            out.append(int(idx))
        else:
            out.append(sq if sq is not None else dq)
        pos = m.end()
    return out


@dataclass(frozen=True)
class _Ref:
    """A parsed ``Get``: kind ``Parameters``/``Execution``/``Steps``."""

    kind: str
    name: str
    path: tuple[str | int, ...] = ()


def _parse_get(text: Any) -> _Ref:
    if not isinstance(text, str):
        raise ValidationError(f"Get takes a string, not {_type_name(text)}")
    for kind in ("Parameters", "Execution"):
        if text.startswith(kind + "."):
            name = text[len(kind) + 1:]
            if not name:
                raise ValidationError(f"Get {text!r}: missing name")
            return _Ref(kind, name)
    if text.startswith("Steps."):
        rest = text[len("Steps."):]
        m = re.match(r"[A-Za-z0-9_-]+", rest)
        if m is None:
            raise ValidationError(f"Get {text!r}: missing step name")
        return _Ref("Steps", m.group(0), tuple(parse_property_path(rest[m.end():])))
    raise ValidationError(f"Get {text!r}: must start with Parameters., Execution. or Steps.")


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(
        type(value), type(value).__name__)


def _join_parts(value: Any) -> tuple[Any, list[Any]]:
    body = value.get("Std:Join") if isinstance(value, dict) else None
    if not isinstance(body, dict) or set(body) - {"On", "Values"} or "Values" not in body:
        raise ValidationError('Std:Join takes {"On": <string>, "Values": [...]}')
    on = body.get("On", "")
    if not isinstance(on, str):
        raise ValidationError("Std:Join: On must be a string")
    if not isinstance(body["Values"], list):
        raise ValidationError("Std:Join: Values must be a list")
    return on, body["Values"]


def _json_get_parts(value: dict[str, Any]) -> tuple[_Ref, str]:
    body = value.get("Std:JsonGet")
    if not isinstance(body, dict) or set(body) != {"PropertyFile", "Path"}:
        raise ValidationError('Std:JsonGet takes {"PropertyFile": {"Get": "Steps.<step>.'
                              'PropertyFiles.<name>"}, "Path": "<json path>"}')
    pf, path = body["PropertyFile"], body["Path"]
    ref = _parse_get(pf.get("Get")) if isinstance(pf, dict) and set(pf) == {"Get"} else None
    if ref is None or ref.kind != "Steps" or len(ref.path) != 2 \
            or ref.path[0] != "PropertyFiles" or not isinstance(ref.path[1], str):
        raise ValidationError('Std:JsonGet: PropertyFile must be {"Get": "Steps.<step>.'
                              'PropertyFiles.<name>"}')
    if not isinstance(path, str) or not path:
        raise ValidationError("Std:JsonGet: Path must be a non-empty string")
    return ref, path


def _refs(value: Any) -> list[tuple[_Ref, str | None]]:
    """Every ``Get`` in ``value`` with, for JsonGet's property files, the JSON path."""
    out: list[tuple[_Ref, str | None]] = []

    def walk(v: Any) -> None:
        if is_expression(v):
            key = next(iter(v))
            if key == "Get":
                out.append((_parse_get(v["Get"]), None))
            elif key == "Std:Join":
                for item in _join_parts(v)[1]:
                    walk(item)
            else:
                ref, path = _json_get_parts(v)
                out.append((ref, path))
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return out


def referenced_steps(value: Any) -> set[str]:
    """The names of the steps the expressions in ``value`` reference (anywhere in it)."""
    try:
        return {ref.name for ref, _ in _refs(value) if ref.kind == "Steps"}
    except ValidationError:
        return set()


# ---------------------------------------------------------------------------------------------
# Parsing and checking
# ---------------------------------------------------------------------------------------------

def parse_duration(text: Any) -> float:
    """An ISO-8601 duration (``P30D``, ``PT1H``, ``P1DT12H``) in seconds."""
    m = _DURATION_RE.match(text) if isinstance(text, str) else None
    if m is None or text in ("P", "PT") or text.endswith("T"):
        raise ValidationError(f"invalid ISO-8601 duration {text!r} (e.g. P30D, PT1H)")
    return sum(float(g) * unit for g, unit in zip(m.groups(), _DURATION_UNITS, strict=True)
               if g is not None)


def _check_default(name: str, ptype: str, value: Any) -> Any:
    if value is None:
        return None
    ok = {"String": isinstance(value, str),
          "Integer": isinstance(value, int) and not isinstance(value, bool),
          "Float": _is_number(value),
          "Boolean": isinstance(value, bool)}[ptype]
    if not ok:
        raise ValidationError(f"parameter {name}: default {value!r} is not a {ptype}")
    if ptype == "Float":
        return float(value)
    return value


def _parse_parameters(items: Any) -> tuple[ParameterDef, ...]:
    if not isinstance(items, list):
        raise ValidationError("Parameters must be a list")
    out: list[ParameterDef] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(f"Parameters[{i}] must be an object")
        name = item.get("Name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ValidationError(f"Parameters[{i}].Name: invalid parameter name {name!r}")
        unknown = set(item) - {"Name", "Type", "DefaultValue", "EnumValues"}
        if unknown:
            raise ValidationError(f"parameter {name}: unknown field {sorted(unknown)[0]!r}")
        if name in seen:
            raise ValidationError(f"duplicate parameter name {name!r}")
        seen.add(name)
        ptype = item.get("Type", "String")
        if ptype not in PARAMETER_TYPES:
            raise ValidationError(f"parameter {name}: Type must be one of "
                                  f"{', '.join(PARAMETER_TYPES)}, got {ptype!r}")
        default = _check_default(name, ptype, item.get("DefaultValue"))
        enum = item.get("EnumValues")
        if enum is not None:
            if ptype != "String" or not isinstance(enum, list) or not enum \
                    or not all(isinstance(v, str) for v in enum):
                raise ValidationError(f"parameter {name}: EnumValues must be a non-empty list "
                                      "of strings (String parameters only)")
            if default is not None and default not in enum:
                raise ValidationError(f"parameter {name}: default {default!r} is not one of "
                                      f"EnumValues {enum}")
        out.append(ParameterDef(name, ptype, default, tuple(enum) if enum else None))
    return tuple(out)


def _retry(step: str, i: int, item: Any) -> RetryPolicyDef:
    where = f"step {step}: RetryPolicies[{i}]"
    if not isinstance(item, dict):
        raise ValidationError(f"{where} must be an object")
    unknown = set(item) - {"ExceptionType", "IntervalSeconds", "BackoffRate", "MaxAttempts",
                           "ExpireAfterMin"}
    if unknown:
        raise ValidationError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    types = item.get("ExceptionType")
    if not isinstance(types, list) or not types \
            or not all(isinstance(t, str) and t for t in types):
        raise ValidationError(f"{where}.ExceptionType must be a non-empty list of strings")
    interval = item.get("IntervalSeconds", 1)
    backoff = item.get("BackoffRate", 2.0)
    attempts = item.get("MaxAttempts", 1)
    if not _is_number(interval) or interval < 0:
        raise ValidationError(f"{where}.IntervalSeconds must be a number >= 0")
    if not _is_number(backoff) or backoff < 1:
        raise ValidationError(f"{where}.BackoffRate must be a number >= 1")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 20:
        raise ValidationError(f"{where}.MaxAttempts must be an integer from 1 to 20")
    return RetryPolicyDef(tuple(types), float(interval), float(backoff), attempts)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _property_file(step: str, i: int, item: Any) -> PropertyFileDef:
    where = f"step {step}: PropertyFiles[{i}]"
    if not isinstance(item, dict) or set(item) != {"PropertyFileName", "OutputName", "FilePath"}:
        raise ValidationError(f"{where} must be {{PropertyFileName, OutputName, FilePath}}")
    name, output, path = item["PropertyFileName"], item["OutputName"], item["FilePath"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError(f"{where}.PropertyFileName: invalid name {name!r}")
    if not isinstance(output, str) or not output:
        raise ValidationError(f"{where}.OutputName must be a non-empty string")
    if not isinstance(path, str) or not path or path.startswith("/") \
            or ".." in path.split("/"):
        raise ValidationError(f"{where}.FilePath must be a relative path inside the output, "
                              f"got {path!r}")
    return PropertyFileDef(name, output, path)


_STEP_KEYS = {"Name", "Type", "Arguments", "DependsOn", "CacheConfig", "RetryPolicies",
              "PropertyFiles", "DisplayName", "Description"}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class _Parser:
    def __init__(self) -> None:
        self.steps: dict[str, StepDef] = {}

    def steps_of(self, items: Any, where: str, branch: tuple[str, str] | None) -> list[str]:
        if not isinstance(items, list):
            raise ValidationError(f"{where} must be a list of steps")
        return [self.step(item, f"{where}[{i}]", branch) for i, item in enumerate(items)]

    def step(self, item: Any, where: str, branch: tuple[str, str] | None) -> str:
        if not isinstance(item, dict):
            raise ValidationError(f"{where} must be an object")
        name = item.get("Name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ValidationError(f"{where}.Name: invalid step name {name!r} (1-64 letters, "
                                  "digits, '-' and '_')")
        if name in self.steps:
            raise ValidationError(f"duplicate step name {name!r}")
        # Step jobs are named after the step in lower case with '-' for '_' (job-name rule).
        twin = next((n for n in self.steps if _slug(n) == _slug(name)), None)
        if twin is not None:
            raise ValidationError(f"step names {twin!r} and {name!r} differ only in case or "
                                  "'-'/'_' (their jobs' names would be the same)")
        unknown = set(item) - _STEP_KEYS
        if unknown:
            raise ValidationError(f"step {name}: unknown field {sorted(unknown)[0]!r}")
        stype = item.get("Type")
        if stype not in STEP_TYPES:
            raise ValidationError(f"step {name}: unknown step type {stype!r} (one of "
                                  f"{', '.join(STEP_TYPES)})")
        args = item.get("Arguments", {})
        if not isinstance(args, dict):
            raise ValidationError(f"step {name}: Arguments must be an object")
        args = copy.deepcopy(args)
        depends = item.get("DependsOn", [])
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise ValidationError(f"step {name}: DependsOn must be a list of step names")
        cache = None
        if item.get("CacheConfig") is not None:
            cc = item["CacheConfig"]
            if not isinstance(cc, dict) or set(cc) - {"Enabled", "ExpireAfter"} \
                    or not isinstance(cc.get("Enabled", False), bool):
                raise ValidationError(f"step {name}: CacheConfig must be "
                                      '{"Enabled": <bool>, "ExpireAfter": "<ISO duration>"}')
            expire = cc.get("ExpireAfter")
            try:
                seconds = parse_duration(expire) if expire is not None else None
            except ValidationError as exc:
                raise ValidationError(f"step {name}: CacheConfig.ExpireAfter: "
                                      f"{exc.message}") from None
            cache = CacheDef(bool(cc.get("Enabled", False)), seconds)
        retries = item.get("RetryPolicies", [])
        if not isinstance(retries, list):
            raise ValidationError(f"step {name}: RetryPolicies must be a list")
        files = item.get("PropertyFiles", [])
        if not isinstance(files, list):
            raise ValidationError(f"step {name}: PropertyFiles must be a list")
        if files and stype != "Processing":
            raise ValidationError(f"step {name}: PropertyFiles are for Processing steps")
        pfiles = tuple(_property_file(name, i, f) for i, f in enumerate(files))
        if len({f.name for f in pfiles}) != len(pfiles):
            raise ValidationError(f"step {name}: duplicate property file name")
        for key in ("DisplayName", "Description"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise ValidationError(f"step {name}: {key} must be a string")
        # Reserve the name (and the place: a condition before its branch steps) first.
        self.steps[name] = StepDef(name, stype, {})
        if stype == "Condition":
            unknown = set(args) - {"Conditions", "IfSteps", "ElseSteps"}
            if unknown:
                raise ValidationError(f"step {name}: unknown argument {sorted(unknown)[0]!r}")
            args["IfSteps"] = self.steps_of(args.get("IfSteps", []), f"step {name}: IfSteps",
                                            (name, "if"))
            args["ElseSteps"] = self.steps_of(args.get("ElseSteps", []),
                                              f"step {name}: ElseSteps", (name, "else"))
        self.steps[name] = StepDef(
            name=name, type=stype, arguments=args, depends_on=tuple(depends), cache=cache,
            retry_policies=tuple(_retry(name, i, r) for i, r in enumerate(retries)),
            property_files=pfiles, branch_of=branch, display_name=item.get("DisplayName"),
            description=item.get("Description"))
        return name


def parse_definition(data: dict[str, Any] | str) -> PipelineDefinition:
    """Parse and check a pipeline definition (a dict or its JSON text); ValidationError
    naming the step and field for anything that would fail at run time and can be told now."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ValidationError(f"pipeline definition is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("a pipeline definition must be a JSON object")
    try:
        raw = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"pipeline definition is not JSON data: {exc}") from None
    unknown = set(raw) - {"Version", "Metadata", "Parameters", "PipelineExperimentConfig",
                          "Steps"}
    if unknown:
        raise ValidationError(f"pipeline definition: unknown field {sorted(unknown)[0]!r}")
    if not isinstance(raw.get("Version", DEFINITION_VERSION), str):
        raise ValidationError("pipeline definition: Version must be a string")
    if not isinstance(raw.get("Metadata", {}), dict):
        raise ValidationError("pipeline definition: Metadata must be an object")
    raw.setdefault("Version", DEFINITION_VERSION)
    raw.setdefault("Metadata", {})
    parameters = _parse_parameters(raw.setdefault("Parameters", []))
    for item, p in zip(raw["Parameters"], parameters, strict=True):
        if p.default is not None:
            item["DefaultValue"] = p.default
    if "Steps" not in raw:
        raise ValidationError("pipeline definition: Steps is required")
    parser = _Parser()
    top = parser.steps_of(raw["Steps"], "Steps", None)
    if not top:
        raise ValidationError("a pipeline needs at least one step")
    defn = PipelineDefinition(parameters, parser.steps, raw)
    _check(defn)
    return defn


def _check(defn: PipelineDefinition) -> None:
    params = {p.name: p for p in defn.parameters}
    pec = defn.raw.get("PipelineExperimentConfig")
    if pec is not None:
        if not isinstance(pec, dict) or set(pec) - {"ExperimentName", "TrialName"}:
            raise ValidationError("PipelineExperimentConfig must be {ExperimentName, TrialName}")
        for key, v in pec.items():
            if not (isinstance(v, str) or is_expression(v)):
                raise ValidationError(f"PipelineExperimentConfig.{key} must be a string or "
                                      "an expression")
            try:
                refs = _refs(v)
            except ValidationError as exc:
                raise ValidationError(f"PipelineExperimentConfig.{key}: {exc.message}") from None
            for ref, _ in refs:
                if ref.kind == "Steps":
                    raise ValidationError(f"PipelineExperimentConfig.{key}: cannot reference "
                                          f"step {ref.name}")
                _check_ref(defn, params, None, ref, None, f"PipelineExperimentConfig.{key}")
    for sd in defn.steps.values():
        _check_arguments(defn, sd, params)
        for dep in sd.depends_on:
            if dep not in defn.steps:
                raise ValidationError(f"step {sd.name}: DependsOn names step {dep!r}, which "
                                      "is not in the pipeline")
            if dep == sd.name:
                raise ValidationError(f"step {sd.name}: DependsOn names itself")
            _check_branch_access(defn, sd, dep)
    _check_cycles(defn)


def _within(defn: PipelineDefinition, step: StepDef, branch: tuple[str, str]) -> bool:
    b = step.branch_of
    while b is not None:
        if b == branch:
            return True
        b = defn.steps[b[0]].branch_of
    return False


def _check_branch_access(defn: PipelineDefinition, sd: StepDef, target: str) -> None:
    tb = defn.steps[target].branch_of
    if tb is None:
        return
    if tb[0] == sd.name:
        raise ValidationError(f"step {sd.name}: cannot reference its own branch step {target}")
    if not _within(defn, sd, tb):
        raise ValidationError(
            f"step {sd.name}: references step {target}, which runs only on the "
            f"{tb[1]!r} branch of condition {tb[0]} (only steps of that branch may use it)")


def _check_ref(defn: PipelineDefinition, params: Mapping[str, ParameterDef],
               sd: StepDef | None, ref: _Ref, json_path: str | None, where: str) -> None:
    if ref.kind == "Parameters":
        if ref.name not in params:
            raise ValidationError(f"{where}: unknown parameter {ref.name!r} (declare it in "
                                  "the pipeline's parameters)")
        return
    if ref.kind == "Execution":
        if ref.name not in EXECUTION_VARIABLES:
            raise ValidationError(f"{where}: unknown execution variable {ref.name!r} (one of "
                                  f"{', '.join(EXECUTION_VARIABLES)})")
        return
    target = defn.steps.get(ref.name)
    if target is None:
        raise ValidationError(f"{where}: references step {ref.name!r}, which is not in the "
                              "pipeline (list it in the pipeline's steps)")
    if sd is not None:
        if ref.name == sd.name:
            raise ValidationError(f"{where}: references its own properties")
        _check_branch_access(defn, sd, ref.name)
    path = ref.path
    if json_path is not None:
        if not any(f.name == path[1] for f in target.property_files):
            raise ValidationError(f"{where}: step {target.name} declares no property file "
                                  f"{path[1]!r}")
        return
    if not path:
        raise ValidationError(f"{where}: a reference to step {target.name} needs a property")
    if path[0] == "PropertyFiles" and len(path) == 2:
        if not any(f.name == path[1] for f in target.property_files):
            raise ValidationError(f"{where}: step {target.name} declares no property file "
                                  f"{path[1]!r}")
        return
    roots = STEP_PROPERTIES[target.type]
    if path[0] not in roots:
        have = ", ".join(roots) or "none"
        raise ValidationError(f"{where}: {target.type} step {target.name} has no property "
                              f"{path[0]!r} (its properties: {have})")
    if target.type == "Processing" and path[0] == "ProcessingOutputConfig":
        if len(path) < 3 or path[1] != "Outputs" or not isinstance(path[2], str):
            raise ValidationError(f"{where}: use ProcessingOutputConfig.Outputs['<name>'] of "
                                  f"step {target.name}")
        outputs = _output_names(target)
        if path[2] not in outputs:
            raise ValidationError(f"{where}: step {target.name} has no output {path[2]!r} "
                                  f"(its outputs: {', '.join(outputs) or 'none'})")


def _output_names(sd: StepDef) -> list[str]:
    outs = sd.arguments.get("ProcessingOutputs", sd.arguments.get("outputs", []))
    names = []
    for o in outs if isinstance(outs, list) else []:
        if isinstance(o, dict):
            n = o.get("OutputName", o.get("name"))
            if isinstance(n, str):
                names.append(n)
    return names


def _check_arguments(defn: PipelineDefinition, sd: StepDef,
                     params: Mapping[str, ParameterDef]) -> None:
    where = f"step {sd.name}"
    args = sd.arguments
    try:
        refs = _refs(args)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message}") from None
    for ref, json_path in refs:
        _check_ref(defn, params, sd, ref, json_path, where)
    if sd.type in JOB_STEP_TYPES:
        _check_job_spec(sd, params)
        if sd.type == "Processing":
            outputs = _output_names(sd)
            for f in sd.property_files:
                if f.output_name not in outputs:
                    raise ValidationError(f"{where}: property file {f.name} names output "
                                          f"{f.output_name!r}, which the step does not "
                                          f"declare (its outputs: {', '.join(outputs) or 'none'})")
    elif sd.type == "Model":
        _check_model_args(sd)
    elif sd.type == "RegisterModel":
        _check_register_args(sd)
    elif sd.type == "Condition":
        conds = args.get("Conditions")
        if not isinstance(conds, list) or not conds:
            raise ValidationError(f"{where}: Conditions must be a non-empty list")
        for i, c in enumerate(conds):
            _check_condition(c, f"{where}: Conditions[{i}]")
    elif sd.type == "Fail":
        if set(args) - {"ErrorMessage"}:
            raise ValidationError(f"{where}: unknown argument "
                                  f"{sorted(set(args) - {'ErrorMessage'})[0]!r}")
        _want_text(args, "ErrorMessage", where, required=False)
    elif sd.type == "Function":
        unknown = set(args) - {"Function", "Args", "Kwargs", "Python"}
        if unknown:
            raise ValidationError(f"{where}: unknown argument {sorted(unknown)[0]!r}")
        fn = args.get("Function")
        if not isinstance(fn, str) or not FUNCTION_RE.match(fn):
            raise ValidationError(f"{where}: Function must be 'package.module:function', "
                                  f"got {fn!r}")
        if not isinstance(args.get("Args", []), list):
            raise ValidationError(f"{where}: Args must be a list")
        if not isinstance(args.get("Kwargs", {}), dict):
            raise ValidationError(f"{where}: Kwargs must be an object")
        if args.get("Python") is not None and not isinstance(args["Python"], str):
            raise ValidationError(f"{where}: Python must be a string or null")


def _want_text(args: Mapping[str, Any], key: str, where: str, *, required: bool) -> None:
    if key not in args or args[key] is None:
        if required:
            raise ValidationError(f"{where}: {key} is required")
        return
    v = args[key]
    if not (isinstance(v, str) or is_expression(v)):
        raise ValidationError(f"{where}: {key} must be a string or an expression, "
                              f"not {_type_name(v)}")


def _check_model_args(sd: StepDef) -> None:
    where, args = f"step {sd.name}", sd.arguments
    unknown = set(args) - {"ModelName", "PrimaryContainer", "SourceModelName",
                           "ExecutionRoleArn", "Tags"}
    if unknown:
        raise ValidationError(f"{where}: unknown argument {sorted(unknown)[0]!r}")
    _want_text(args, "ModelName", where, required=False)
    _want_text(args, "SourceModelName", where, required=False)
    pc = args.get("PrimaryContainer")
    if pc is not None:
        if not isinstance(pc, dict):
            raise ValidationError(f"{where}: PrimaryContainer must be an object")
        unknown = set(pc) - {"ModelDataUrl", "Image", "Environment", "Mode"}
        if unknown:
            raise ValidationError(f"{where}: PrimaryContainer: unknown field "
                                  f"{sorted(unknown)[0]!r}")
        _want_text(pc, "ModelDataUrl", f"{where}: PrimaryContainer", required=False)
    has_data = isinstance(pc, dict) and pc.get("ModelDataUrl") is not None
    if not has_data and args.get("SourceModelName") is None:
        raise ValidationError(f"{where}: needs PrimaryContainer.ModelDataUrl or "
                              "SourceModelName")


def _check_register_args(sd: StepDef) -> None:
    where, args = f"step {sd.name}", sd.arguments
    unknown = set(args) - {"ModelPackageGroupName", "ModelName", "ModelApprovalStatus",
                           "ModelPackageDescription", "InferenceSpecification", "ModelMetrics",
                           "CustomerMetadataProperties"}
    if unknown:
        raise ValidationError(f"{where}: unknown argument {sorted(unknown)[0]!r}")
    _want_text(args, "ModelPackageGroupName", where, required=True)
    group = args["ModelPackageGroupName"]
    if isinstance(group, str) and not NAME_RE.match(group):
        raise ValidationError(f"{where}: ModelPackageGroupName: invalid name {group!r}")
    _want_text(args, "ModelName", where, required=True)
    _want_text(args, "ModelPackageDescription", where, required=False)
    status = args.get("ModelApprovalStatus")
    if status is not None and not is_expression(status) and status not in APPROVAL_STATUSES:
        raise ValidationError(f"{where}: ModelApprovalStatus must be one of "
                              f"{', '.join(APPROVAL_STATUSES)}, got {status!r}")
    spec = args.get("InferenceSpecification")
    if spec is not None:
        if not isinstance(spec, dict):
            raise ValidationError(f"{where}: InferenceSpecification must be an object")
        unknown = set(spec) - {"Containers", "SupportedContentTypes",
                               "SupportedResponseMIMETypes",
                               "SupportedRealtimeInferenceInstanceTypes",
                               "SupportedTransformInstanceTypes"}
        if unknown:
            raise ValidationError(f"{where}: InferenceSpecification: unknown field "
                                  f"{sorted(unknown)[0]!r}")
        containers = spec.get("Containers", [])
        if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
            raise ValidationError(f"{where}: InferenceSpecification.Containers must be a list "
                                  "of objects")
        for i, c in enumerate(containers):
            _want_text(c, "ModelDataUrl", f"{where}: InferenceSpecification.Containers[{i}]",
                       required=False)
        for key in ("SupportedContentTypes", "SupportedResponseMIMETypes"):
            v = spec.get(key, [])
            if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
                raise ValidationError(f"{where}: InferenceSpecification.{key} must be a list "
                                      "of strings")
    metrics = args.get("ModelMetrics")
    if metrics is not None:
        if not isinstance(metrics, dict):
            raise ValidationError(f"{where}: ModelMetrics must be an object")
        for group_name, group_v in metrics.items():
            if not isinstance(group_v, dict):
                raise ValidationError(f"{where}: ModelMetrics.{group_name} must be an object")
            for kind, source in group_v.items():
                w = f"{where}: ModelMetrics.{group_name}.{kind}"
                if not isinstance(source, dict) or set(source) - {"ContentType", "S3Uri",
                                                                  "ContentDigest"}:
                    raise ValidationError(f"{w} must be {{ContentType, S3Uri}}")
                _want_text(source, "ContentType", w, required=True)
                _want_text(source, "S3Uri", w, required=True)


def _check_condition(c: Any, where: str) -> None:
    if not isinstance(c, dict):
        raise ValidationError(f"{where} must be an object")
    ctype = c.get("Type")
    if ctype not in CONDITION_TYPES:
        raise ValidationError(f"{where}: unknown condition type {ctype!r} (one of "
                              f"{', '.join(CONDITION_TYPES)})")
    keys = {"In": {"Type", "QueryValue", "Values"}, "Not": {"Type", "Expression"},
            "Or": {"Type", "Conditions"}}.get(ctype, {"Type", "LeftValue", "RightValue"})
    if set(c) != keys:
        raise ValidationError(f"{where}: a {ctype} condition takes "
                              f"{', '.join(sorted(keys - {'Type'}))}")
    if ctype == "In":
        if not isinstance(c["Values"], list) or not c["Values"]:
            raise ValidationError(f"{where}: Values must be a non-empty list")
        for v in (c["QueryValue"], *c["Values"]):
            _check_operand(v, where)
    elif ctype == "Not":
        _check_condition(c["Expression"], f"{where}.Expression")
    elif ctype == "Or":
        if not isinstance(c["Conditions"], list) or not c["Conditions"]:
            raise ValidationError(f"{where}: Conditions must be a non-empty list")
        for i, sub in enumerate(c["Conditions"]):
            _check_condition(sub, f"{where}.Conditions[{i}]")
    else:
        _check_operand(c["LeftValue"], where)
        _check_operand(c["RightValue"], where)


def _check_operand(v: Any, where: str) -> None:
    if not (is_expression(v) or v is None or isinstance(v, str | int | float | bool)):
        raise ValidationError(f"{where}: an operand must be a literal or an expression, "
                              f"not {_type_name(v)}")


def job_spec_class(step_type: str) -> Any:
    """The job spec class a job step's Arguments validate as."""
    if step_type == "Processing":
        from mlyard.processing.spec import ProcessingJobSpec

        return ProcessingJobSpec
    if step_type == "Training":
        from mlyard.training.spec import TrainingJobSpec

        return TrainingJobSpec
    if step_type == "Tuning":
        from mlyard.tuning.spec import TuningJobSpec

        return TuningJobSpec
    if step_type == "Transform":
        from mlyard.transform.spec import TransformJobSpec

        return TransformJobSpec
    raise ValidationError(f"{step_type} steps run no job")


_SAMPLES = {"String": "1", "Integer": 1, "Float": 1.0, "Boolean": True}


def _placeholders(value: Any, params: Mapping[str, ParameterDef]) -> Any:
    """``value`` with each expression replaced by a value of a fitting type: a parameter's
    default (or a sample of its type); ``"1"`` otherwise (a valid string, and read as a
    number or boolean by a numeric field)."""
    if is_expression(value):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Parameters."):
            p = params.get(get[len("Parameters."):])
            if p is not None:
                return p.default if p.default is not None else _SAMPLES[p.type]
        return "1"
    if isinstance(value, dict):
        return {k: _placeholders(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, params) for v in value]
    return value


def _check_job_spec(sd: StepDef, params: Mapping[str, ParameterDef]) -> None:
    cls = job_spec_class(sd.type)
    try:
        cls.model_validate(_placeholders(sd.arguments, params))
    except ValidationError as exc:
        raise ValidationError(f"step {sd.name}: {exc.message}") from None
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"step {sd.name}: {problem_text(exc)}") from None


def _check_cycles(defn: PipelineDefinition) -> None:
    graph = {n: sorted(defn.upstream(n) & defn.steps.keys()) for n in defn.steps}
    state: dict[str, int] = {}
    for root in defn.steps:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            if i < len(graph[node]):
                stack[-1] = (node, i + 1)
                child = graph[node][i]
                if state.get(child) == 1:
                    cycle = [*path[path.index(child):], child]
                    # Read in run order: each step runs before the next.
                    raise ValidationError("cycle in pipeline steps: " +
                                          " -> ".join(reversed(cycle)))
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
                stack.pop()


# ---------------------------------------------------------------------------------------------
# Parameters, resolution and conditions
# ---------------------------------------------------------------------------------------------

_TRUE = ("true", "1", "yes", "y", "on")
_FALSE = ("false", "0", "no", "n", "off")


def coerce_parameter(p: ParameterDef, value: Any) -> Any:
    """``value`` as parameter ``p``'s type (strings from a command line are parsed)."""
    bad = ValidationError(f"parameter {p.name}: {value!r} is not a {p.type}")
    if p.type == "String":
        if not isinstance(value, str):
            raise bad
        if p.enum_values is not None and value not in p.enum_values:
            raise ValidationError(f"parameter {p.name}: {value!r} is not one of "
                                  f"{', '.join(p.enum_values)}")
        return value
    if p.type == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if isinstance(value, bool):
        raise bad
    if p.type == "Integer":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad from None
        raise bad
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise bad from None
    if not math.isfinite(number):
        raise ValidationError(f"parameter {p.name}: {value!r} is not a finite number")
    return number


def bind_parameters(defn: PipelineDefinition, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value: defaults overridden by ``given``, each checked (and CLI
    strings coerced) to its declared type; ValidationError naming the parameter."""
    declared = {p.name: p for p in defn.parameters}
    for name in given:
        if name not in declared:
            raise ValidationError(f"unknown pipeline parameter {name!r} (declared: "
                                  f"{', '.join(declared) or 'none'})")
    out: dict[str, Any] = {}
    for p in defn.parameters:
        if p.name in given and given[p.name] is not None:
            out[p.name] = coerce_parameter(p, given[p.name])
        elif p.default is not None:
            out[p.name] = p.default
        else:
            raise ValidationError(f"parameter {p.name} is required (it has no default)")
    return out


class Scope(Protocol):
    """What :func:`resolve` reads expressions from during an execution."""

    def parameter(self, name: str) -> Any: ...

    def execution_variable(self, name: str) -> Any: ...

    def step_properties(self, step: str) -> dict[str, Any]: ...

    def property_file(self, step: str, name: str) -> Any: ...


def _walk(value: Any, path: tuple[str | int, ...] | list[str | int]) -> tuple[bool, Any]:
    """Follow ``path`` in ``value``: (found, value). A string key on a list finds the item
    whose ``Name``/``MetricName``/``OutputName`` is that key."""
    for seg in path:
        in_dict = isinstance(value, dict) and isinstance(seg, str) and seg in value
        in_list = (isinstance(value, list) and isinstance(seg, int)
                   and -len(value) <= seg < len(value))
        if in_dict or in_list:
            value = value[seg]
        elif isinstance(value, list) and isinstance(seg, str):
            hits = [v for v in value if isinstance(v, dict) and seg in (
                v.get("Name"), v.get("MetricName"), v.get("OutputName"))]
            if not hits:
                return False, None
            value = hits[0]
        else:
            return False, None
    return True, value


def json_path_segments(path: str) -> list[str | int]:
    """``metrics.accuracy.value`` / ``a.b[0].c`` (a leading ``$.`` allowed) as segments."""
    text = path[2:] if path.startswith("$.") else path
    out: list[str | int] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "." and out:
            pos += 1
        m = _JSON_PATH_RE.match(text, pos)
        if m is None:
            raise ValidationError(f"malformed JsonGet path {path!r}")
        key, idx, quoted = m.groups()
        out.append(int(idx) if idx is not None else key if key is not None else quoted)
        pos = m.end()
    if not out:
        raise ValidationError(f"malformed JsonGet path {path!r}")
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def resolve(value: Any, scope: Scope) -> Any:
    """A deep copy of ``value`` with every expression replaced by its value in ``scope``;
    ValidationError naming the path (and step) when a property or JsonGet path is missing."""
    if is_expression(value):
        key = next(iter(value))
        if key == "Get":
            ref = _parse_get(value["Get"])
            if ref.kind == "Parameters":
                return scope.parameter(ref.name)
            if ref.kind == "Execution":
                return scope.execution_variable(ref.name)
            if len(ref.path) == 2 and ref.path[0] == "PropertyFiles":
                return copy.deepcopy(scope.property_file(ref.name, str(ref.path[1])))
            found, v = _walk(scope.step_properties(ref.name), ref.path)
            if not found:
                where = value["Get"][len("Steps.") + len(ref.name):].lstrip(".")
                raise ValidationError(f"step {ref.name} has no property {where!r}")
            return copy.deepcopy(v)
        if key == "Std:Join":
            on, values = _join_parts(value)
            return on.join(_text(resolve(v, scope)) for v in values)
        ref, path = _json_get_parts(value)
        data = scope.property_file(ref.name, str(ref.path[1]))
        found, v = _walk(data, json_path_segments(path))
        if not found:
            raise ValidationError(f"JsonGet: path {path!r} not found in property file "
                                  f"{ref.path[1]} of step {ref.name}")
        return copy.deepcopy(v)
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    return value


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _equal(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None and (
            not isinstance(a, str) or not isinstance(b, str)):
        return na == nb
    return bool(a == b)


def _compare(ctype: str, a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        x: Any = na
        y: Any = nb
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b
    else:
        raise ValidationError(f"condition {ctype}: cannot compare {a!r} with {b!r}")
    return {"GreaterThan": x > y, "GreaterThanOrEqualTo": x >= y, "LessThan": x < y,
            "LessThanOrEqualTo": x <= y}[ctype]


def evaluate_condition(cond: Mapping[str, Any], scope: Scope) -> bool:
    """One condition (its operands resolved in ``scope``)."""
    ctype = cond.get("Type")
    if ctype == "Not":
        return not evaluate_condition(cond["Expression"], scope)
    if ctype == "Or":
        return any(evaluate_condition(c, scope) for c in cond["Conditions"])
    if ctype == "In":
        q = resolve(cond["QueryValue"], scope)
        return any(_equal(q, resolve(v, scope)) for v in cond["Values"])
    left, right = resolve(cond["LeftValue"], scope), resolve(cond["RightValue"], scope)
    if ctype == "Equals":
        return _equal(left, right)
    if ctype in COMPARISONS:
        return _compare(str(ctype), left, right)
    raise ValidationError(f"unknown condition type {ctype!r}")


def evaluate_conditions(conditions: list[dict[str, Any]], scope: Scope) -> bool:
    """Whether every condition holds (AND, as SageMaker)."""
    return all(evaluate_condition(c, scope) for c in conditions)
