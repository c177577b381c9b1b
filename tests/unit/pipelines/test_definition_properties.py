"""Property tests of definition parsing: a cycle is reported exactly when the step graph
(DependsOn plus property references) has one, and the cycle it names is real; random and
mutated JSON never makes parse_definition raise anything but ValidationError."""

from __future__ import annotations

import graphlib
import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.errors import ValidationError
from mlyard.pipelines.definition import parse_definition
from tests.unit.pipelines.test_definition import base

# (from, to, by a property reference instead of DependsOn): step ``to`` waits for ``from``
edges_strategy = st.integers(min_value=1, max_value=7).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans())
             .filter(lambda e: e[0] != e[1]), max_size=12)))


@settings(max_examples=200, deadline=None)
@given(edges_strategy)
def test_cycle_reported_iff_the_step_graph_has_one(graph: tuple[int, list[Any]]) -> None:
    n, edges = graph
    deps: dict[str, set[str]] = {f"S{i}": set() for i in range(n)}
    steps = []
    for i in range(n):
        name = f"S{i}"
        depends = sorted({f"S{a}" for a, b, by_ref in edges if b == i and not by_ref})
        refs = [{"Get": f"S{a}"} for a, b, by_ref in edges if b == i and by_ref]
        deps[name] = {f"S{a}" for a, b, _ in edges if b == i}
        step: dict[str, Any] = {"Name": name, "Type": "Function", "Arguments": {
            "Function": "json:dumps",
            "Args": [{"Get": f"Steps.{r['Get']}.ReturnValue"} for r in refs]}}
        if depends:
            step["DependsOn"] = depends
        steps.append(step)
    try:
        list(graphlib.TopologicalSorter(deps).static_order())
        has_cycle = False
    except graphlib.CycleError:
        has_cycle = True
    definition = {"Version": "2020-12-01", "Steps": steps}
    if not has_cycle:
        defn = parse_definition(definition)
        assert {s: defn.upstream(s) for s in defn.steps} == deps
        return
    try:
        parse_definition(definition)
    except ValidationError as exc:
        prefix = "cycle in pipeline steps: "
        assert exc.message.startswith(prefix)
        chain = exc.message[len(prefix):].split(" -> ")
        assert len(chain) >= 3 and chain[0] == chain[-1]
        for before, after in itertools.pairwise(chain):
            assert before in deps[after], (before, after, deps)
    else:
        raise AssertionError("a cycle was not reported")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["Get", "Steps.Train.X", "Parameters.Epochs",
                                             "Training", "Condition", "Std:Join"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["Name", "Type", "Arguments", "Steps", "Get", "Values",
                                       "Conditions", "IfSteps", "On", "DependsOn", "x"])
                      | st.text(max_size=6), children, max_size=4),
    max_leaves=20)


def _only_validation_errors(data: Any) -> None:
    try:
        defn = parse_definition(data)
    except ValidationError:
        return
    # What parses must also serialize and re-parse to the same thing.
    again = parse_definition(json.loads(json.dumps(defn.to_dict())))
    assert again.to_dict() == defn.to_dict()
    for step in defn.steps:
        defn.upstream(step)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_random_json_raises_only_validation_errors(data: Any) -> None:
    _only_validation_errors(data)
    if isinstance(data, dict | list):
        _only_validation_errors({"Steps": data if isinstance(data, list) else [data]})


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = _paths(base())[1:]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_PATHS), json_values, st.booleans())
def test_mutated_definitions_raise_only_validation_errors(
        path: tuple[Any, ...], value: Any, delete: bool) -> None:
    data = base()
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    _only_validation_errors(data)
