"""Flow files: errors with the file, line and step; a fuzzed document never fails with
anything but mlyard's ValidationError."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.analysis.flow import STEP_TYPES, load_flow, parse_flow, run_flow
from mlyard.analysis.flow.recipes import OPERATORS
from mlyard.errors import NotFoundError, ValidationError

GOOD = """\
version: 1
inputs: [raw]
steps:
  - rename: {a: x}
  - drop_missing: [x]
  - filter: {column: x, op: '>', value: 1}
  - output: kept
"""


def error(text: str, headers: dict[str, list[str]] | None = None) -> str:
    with pytest.raises(ValidationError) as info:
        parse_flow(text, "prep.flow.yaml").check(headers)
    return str(info.value)


def test_a_good_flow_parses() -> None:
    doc = parse_flow(GOOD, "prep.flow.yaml")
    assert doc.inputs == ("raw",) and doc.outputs == ("kept",)
    assert [s.kind for s in doc.steps] == ["rename", "drop_missing", "filter", "output"]
    assert [s.where.line for s in doc.steps] == [4, 5, 6, 7]
    doc.check({"raw": ["a", "b"]})


def test_malformed_yaml_names_the_line() -> None:
    text = GOOD.replace("  - drop_missing: [x]", "  - drop_missing: [x")
    assert error(text).startswith("prep.flow.yaml line 6: not valid YAML")
    assert error("version: 1\ninputs: [raw]\nsteps:\n  - drop: a\n   bad: 1\n").startswith(
        "prep.flow.yaml line 5: not valid YAML")


def test_malformed_json_names_the_line() -> None:
    assert error('{"version": 1,\n "inputs": ["raw"],\n "steps": [\n  {"drop": ["a"]},,\n]}'
                 ).startswith("prep.flow.yaml line 4: not valid JSON")


def test_json_flows_have_lines_too() -> None:
    text = ('{\n\t"version": 1,\n\t"inputs": ["raw"],\n\t"steps": [\n\t\t{"drop": ["a"]},\n'
            '\t\t{"explode": ["a"]}\n\t]\n}\n')
    assert error(text).startswith("prep.flow.yaml line 6: step 2 (explode): unknown step type")


def test_unknown_step_lists_the_known_ones() -> None:
    message = error(GOOD.replace("drop_missing", "dropna"))
    assert message.startswith("prep.flow.yaml line 5: step 2 (dropna): unknown step type")
    assert all(kind in message for kind in STEP_TYPES)


def test_missing_and_extra_parameters() -> None:
    assert error(GOOD.replace("{column: x, op: '>', value: 1}", "{op: '>', value: 1}")) \
        .startswith("prep.flow.yaml line 6: step 3 (filter): ")
    message = error(GOOD.replace("  - output: kept", "  - drop_rare: {column: x}"))
    assert message == ("prep.flow.yaml line 7: step 4 (drop_rare): missing parameter "
                       "'at_most'")
    text = GOOD.replace("  - output: kept",
                        "  - scale:\n      columns: [x]\n      methd: minmax")
    assert error(text).startswith("prep.flow.yaml line 9: step 4 (scale): unknown parameter "
                                  "'methd'; known: columns, method")
    assert "parameter 'n'" in error(GOOD.replace("  - output: kept",
                                                 "  - ngrams: {column: x, n: two}"))


def test_missing_column_names_step_and_line() -> None:
    message = error(GOOD, {"raw": ["b", "c"]})
    assert message.startswith("prep.flow.yaml line 4: step 1 (rename): column(s) ['a']")
    text = GOOD.replace("  - output: kept", "  - select:\n      columns: [x, y]")
    assert error(text, {"raw": ["a"]}).startswith(
        "prep.flow.yaml line 8: step 4 (select): column(s) ['y'] named in 'columns' do not "
        "exist; the frame has ['x']")
    # renamed away: the old name no longer exists
    text = GOOD.replace("  - output: kept", "  - drop: [a]")
    assert "step 4 (drop): column(s) ['a']" in error(text, {"raw": ["a"]})


def test_checks_wait_for_run_time_after_custom_code() -> None:
    text = "version: 1\ninputs: [raw]\nsteps:\n  - sql: SELECT a AS z FROM df\n  - drop: [z]\n"
    doc = parse_flow(text, "f.yaml")
    doc.check({"raw": ["a"]})  # z cannot be known before the query runs
    assert list(run_flow(doc, {"raw": pd.DataFrame({"a": [1]})})["output"].columns) == []
    bad = text.replace("drop: [z]", "drop: [q]")
    with pytest.raises(ValidationError, match=r"f.yaml line 5: step 2 \(drop\): column\(s\) "
                                              r"\['q'\]"):
        run_flow(parse_flow(bad, "f.yaml"), {"raw": pd.DataFrame({"a": [1]})})


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the flow file is empty"),
    ("- a\n- b\n", "line 1: a flow is a mapping"),
    ("version: 2\ninputs: [a]\nsteps: [drop: x]\n", "line 1: version 2 is not supported"),
    ("version: 1\ninputs: []\nsteps: [drop: x]\n", "line 2: inputs is a list of names"),
    ("version: 1\ninputs: [a]\nsteps: []\n", "line 3: steps is a list of one or more"),
    ("version: 1\ninputs: [a]\nsteps: [drop: x]\nextra: 1\n", "line 4: unknown key 'extra'"),
    ("version: 1\ninputs: [a, b]\nsteps:\n  - drop: x\n", "line 4: step 1 (drop): the flow has "
                                                          "several inputs"),
    ("version: 1\ninputs: [a]\nsteps:\n  - input: b\n", "line 4: step 1 (input): no input or "
                                                        "earlier output is called 'b'"),
    ("version: 1\ninputs: [a]\nsteps:\n  - split: {fractions: {x: 0.5, y: 0.5}}\n"
     "  - drop: [c]\n", "line 5: step 2 (drop): there is no frame to work on"),
    ("version: 1\ninputs: [a]\nsteps:\n  - output: a\n", "the name 'a' is already taken"),
    ("version: 1\ninputs: [a]\nsteps:\n  - split: {fractions: {x: 0.5, y: 0.6}}\n",
     "line 4: step 1 (split): fractions must be positive and sum to 1"),
    ("version: 1\ninputs: [a]\nsteps:\n  - {drop: [x], select: [y]}\n",
     "line 4: step 1: a step is a mapping with one key"),
    ("version: 1\nversion: 1\n", "line 2: not valid YAML: duplicate key 'version'"),
    ("version: 1\ninputs: [a]\nsteps:\n  - tokenize: {column: t, pattern: '('}\n",
     "line 4: step 1 (tokenize): pattern is not a regular expression"),
])
def test_document_errors(text: str, expected: str) -> None:
    assert expected in error(text)


def test_load_flow(tmp_path: Path) -> None:
    path = tmp_path / "p.flow.yaml"
    path.write_text(GOOD.replace("dropna", "x").replace("drop_missing", "nope"))
    with pytest.raises(ValidationError, match=rf"^{path} line 5: step 2 \(nope\)"):
        load_flow(path)
    with pytest.raises(NotFoundError):
        load_flow(tmp_path / "absent.yaml")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ValidationError, match="not UTF-8"):
        load_flow(path)


# -- fuzzing ---------------------------------------------------------------------------------
COLUMNS = ["a", "b", "t", "missing"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True),
                    st.text(max_size=4), st.sampled_from(COLUMNS))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(
        ["columns", "column", "op", "value", "n", "to", "strategy", "method", "fractions",
         "values", "window", "at_most", "all", "any", "code", "query", "name", *COLUMNS]),
        st.text(max_size=3)), inner, max_size=4)), max_leaves=8)
steps = st.one_of(
    st.dictionaries(st.sampled_from([*STEP_TYPES, "bogus"]), values, min_size=1, max_size=1),
    values)


def _pool(field: str) -> st.SearchStrategy:
    columns = st.sampled_from([*COLUMNS, "new"])
    column_lists = st.lists(columns, min_size=1, max_size=3)
    pools: dict[str, st.SearchStrategy] = {
        "columns": st.one_of(column_lists, st.dictionaries(columns, st.sampled_from(
            [*COLUMNS, "int", "float", "str", "bool", "category", "datetime"]),
            min_size=1, max_size=2)),
        "column": columns, "to": columns, "stratify": column_lists,
        "op": st.sampled_from(OPERATORS),
        "value": st.one_of(scalars, st.lists(scalars, max_size=3)),
        "n": st.integers(-1, 6), "window": st.integers(-1, 6), "at_most": st.integers(-1, 3),
        "seed": st.integers(0, 3),
        "strategy": st.sampled_from(["mean", "median", "mode", "constant"]),
        "method": st.sampled_from(["standard", "minmax"]),
        "unmapped": st.sampled_from(["keep", "null", "error"]),
        "fractions": st.one_of(st.just({"tr": 0.5, "te": 0.5}), st.dictionaries(
            st.sampled_from(["raw", "x", "y", "z"]), st.floats(0, 1), max_size=3)),
        "values": st.dictionaries(st.one_of(st.integers(-2, 2), st.sampled_from(["x", "y"])),
                                  scalars, min_size=1, max_size=3),
        "code": st.sampled_from(["df['n'] = 1", "df = df.head(1)", "return 3", "df = df[",
                                 "raise KeyError('x')", "df = df.rename(columns={'a': 'b'})"]),
        "query": st.sampled_from(["SELECT * FROM df", "SELECT a AS q FROM df",
                                  "SELECT nope FROM df", "garbage", "SELECT 1 AS a, 1 AS a"]),
        "name": st.sampled_from(["raw", "o1", "o2", "tr"]),
        "pattern": st.sampled_from([r"\w+", "(", r"\S+"]),
        "all_sizes": st.booleans(), "replace_with": st.text(max_size=2),
        "prefix_sep": st.text(max_size=2), "sep": st.text(max_size=2),
    }
    condition = st.fixed_dictionaries({"column": columns, "op": pools["op"],
                                       "value": pools["value"]})
    pools["all"] = pools["any"] = st.lists(condition, min_size=1, max_size=2)
    return pools.get(field, scalars)


def _params(kind: str) -> st.SearchStrategy:
    fields = STEP_TYPES[kind].Params.model_fields
    return st.fixed_dictionaries(
        {name: _pool(name) for name, info in fields.items() if info.is_required()},
        optional={name: _pool(name) for name, info in fields.items() if not info.is_required()})


plausible_steps = st.sampled_from(sorted(STEP_TYPES)).flatmap(
    lambda kind: st.fixed_dictionaries({kind: st.one_of(
        _params(kind), _params(kind), _params(kind), _pool(STEP_TYPES[kind].shorthand or "-"))}))
plausible_documents = st.fixed_dictionaries(
    {"version": st.just(1), "inputs": st.just(["raw"]),
     "steps": st.lists(plausible_steps, min_size=1, max_size=4)})
documents = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, "1", None]),
     "inputs": st.sampled_from([["raw"], ["raw"], "raw", [], [1]]),
     "steps": st.lists(steps, min_size=0, max_size=5)})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3).flatmap(lambda i: documents if i == 0 else plausible_documents),
       st.booleans())
def test_fuzzed_flows_fail_only_with_validation_errors(doc: dict, as_json: bool) -> None:
    import json

    import yaml

    text = json.dumps(doc, default=str) if as_json else yaml.safe_dump(doc)
    data = pd.DataFrame({"a": [1, 2, 2, None], "b": ["x", "y", None, "x"],
                         "t": ["a b c", "d", "", None]})
    try:
        flow = parse_flow(text, "fuzz.yaml")
        flow.check({"raw": list(data.columns)})
        run_flow(flow, {"raw": data})
    except ValidationError as exc:
        assert str(exc).startswith("fuzz.yaml")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_fuzzed_text_fails_only_with_validation_errors(text: str) -> None:
    with contextlib.suppress(ValidationError):
        parse_flow(text, "fuzz.yaml")
