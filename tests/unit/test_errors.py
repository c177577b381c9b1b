"""``problem_text``: one line for a user, never pydantic's multi-line dump."""

from __future__ import annotations

from typing import Any, Literal

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlyard.errors import DataError, problem_text


class _Inner(pydantic.BaseModel):
    count: int = pydantic.Field(ge=1)
    mode: Literal["a", "b"] = "a"


class _Outer(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    inner: _Inner
    items: list[_Inner] = []


def _error(data: dict[str, Any]) -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as info:
        _Outer.model_validate(data)
    return info.value


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"inner": {"count": 0}}, "inner.count: must be >= 1, got 0"),
        ({"inner": {"count": 1, "mode": "c"}}, "inner.mode: must be 'a' or 'b', got 'c'"),
        ({"inner": {"count": 1}, "extra": 1}, "extra: is not a known field"),
        ({}, "inner: is required"),
        (
            {"inner": {"count": 1}, "items": [{"count": "x"}]},
            "items[0].count: must be a valid integer, unable to parse string as an integer, "
            "got 'x'",
        ),
    ],
)
def test_pydantic_errors_are_one_line_naming_the_field(data: dict[str, Any], expected: str) -> None:
    assert problem_text(_error(data)) == expected


def test_several_problems_are_joined_on_one_line() -> None:
    text = problem_text(_error({"inner": {"count": 0, "mode": "z"}}))
    assert text == "inner.count: must be >= 1, got 0; inner.mode: must be 'a' or 'b', got 'z'"


def test_other_errors_keep_their_message_on_one_line() -> None:
    assert problem_text(DataError("a.csv, line 3: bad")) == "a.csv, line 3: bad"
    assert problem_text(ValueError("two\nlines")) == "two lines"


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10) | st.floats(allow_nan=False),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=4), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_any_invalid_input_gives_one_line(data: dict[str, Any]) -> None:
    try:
        _Outer.model_validate(data)
    except pydantic.ValidationError as exc:
        text = problem_text(exc)
        assert text and "\n" not in text and "errors.pydantic.dev" not in text
