"""Small scikit-learn models behind mlyard's LoadedModel interface, for the explain tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlyard.models.base import LoadedModel, ModelManifest

PLANTED = "zorblax"
NOISE = ["the", "dress", "fits", "nice", "color", "fabric", "size", "soft", "long", "short",
         "blue", "red", "top", "shirt", "wear", "day", "really", "very", "is", "a"]


class SklearnModel(LoadedModel):
    """A fitted scikit-learn classifier; records each predict_proba call's size."""

    def __init__(self, clf: Any, labels: list[str], input_type: str = "csv") -> None:
        self.manifest = ModelManifest(flavor="test-sklearn", task="classification",
                                      labels=labels, input_type=input_type)
        self.clf = clf
        self.calls: list[int] = []

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        self.calls.append(len(instances))
        if self.manifest.input_type == "text":
            return np.asarray(self.clf.predict_proba(list(instances)))
        return np.asarray(self.clf.predict_proba(np.asarray(instances, dtype=float)))


class NoProbaModel(LoadedModel):
    """A model that only has the base class's refusal."""

    def __init__(self) -> None:
        self.manifest = ModelManifest(flavor="test-noproba", labels=["a", "b"])


class NotImplementedModel(NoProbaModel):
    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        raise NotImplementedError


class FlatModel(NoProbaModel):
    """Returns one score per record instead of probabilities."""

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        return np.zeros(len(instances))


def tabular_data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """4 numeric features; the label depends strongly on x0, weakly on x1."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logits = 4.0 * X[:, 0] + 0.5 * X[:, 1]
    y = (logits + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return X, y


def tabular_model() -> SklearnModel:
    from sklearn.linear_model import LogisticRegression

    X, y = tabular_data()
    return SklearnModel(LogisticRegression().fit(X, y), ["0", "1"])


def corpus(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Texts of noise words; the class is "pos" exactly when the planted word occurs."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = list(rng.choice(NOISE, size=int(rng.integers(5, 10))))
        planted = i % 2 == 0
        if planted:
            words.insert(int(rng.integers(len(words) + 1)), PLANTED)
        texts.append(" ".join(words).capitalize() + ".")
        labels.append("pos" if planted else "neg")
    return texts, labels


def text_model() -> SklearnModel:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = corpus(200, seed=1)
    clf = make_pipeline(CountVectorizer(), LogisticRegression(C=10.0)).fit(texts, labels)
    return SklearnModel(clf, [str(c) for c in clf.classes_], input_type="text")
