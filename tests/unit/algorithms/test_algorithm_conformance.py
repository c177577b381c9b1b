"""Every built-in algorithm passes the algorithm conformance suite."""

from __future__ import annotations

from typing import Any

import pytest

from mlyard.algorithms import Algorithm, available_algorithms, get_algorithm
from mlyard.errors import ValidationError
from mlyard.testing.algorithms import AlgorithmConformance


class TestBlazingTextCpu(AlgorithmConformance):
    @pytest.fixture
    def algorithm(self) -> Algorithm:
        return get_algorithm("blazingtext")

    @pytest.fixture
    def fast_hyperparameters(self) -> dict[str, Any]:
        return {"epochs": 10, "min_count": 1, "vector_dim": 16, "buckets": 10000,
                "learning_rate": 0.5, "backend": "cpu"}


class TestBlazingTextTorch(TestBlazingTextCpu):
    @pytest.fixture
    def fast_hyperparameters(self) -> dict[str, Any]:
        return {"epochs": 10, "min_count": 1, "vector_dim": 16, "buckets": 10000,
                "learning_rate": 0.5, "backend": "torch"}


def test_registry() -> None:
    assert {"blazingtext", "bert"} <= set(available_algorithms())
    assert get_algorithm("BlazingText").name == "blazingtext"
    with pytest.raises(ValidationError, match="unknown algorithm 'nope'; available"):
        get_algorithm("nope")
