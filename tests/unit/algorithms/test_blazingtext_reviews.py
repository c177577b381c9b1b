"""BlazingText on the real Women's E-Commerce Clothing Reviews data (slow; skipped without it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlyard.algorithms.base import TrainingContext
from mlyard.algorithms.blazingtext import BlazingText, load_model

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / \
    "womens_clothing_ecommerce_reviews.csv"


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_file(), reason="the shared reviews CSV is absent")
def test_reviews_sentiment_matches_fasttext_quality(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(DATA).rename(columns={"Review Text": "text", "Rating": "rating",
                                           "Class Name": "category"})
    df = df[["text", "rating", "category"]].dropna()
    df["label"] = np.select([df["rating"] <= 2, df["rating"] == 3], [-1, 0], 1)
    counts = df["category"].value_counts()
    df = df[df["category"].isin(counts[counts > 10].index)]
    assert len(df) == 22_626
    train, test = train_test_split(df, test_size=0.1, stratify=df["label"], random_state=42)
    train[["label", "text"]].to_csv(tmp_path / "train.csv", index=False)
    ctx = TrainingContext(channels={"train": tmp_path / "train.csv"},
                          model_dir=tmp_path / "model", output_dir=tmp_path / "out")
    algo = BlazingText()
    algo.train(ctx, algo.resolve_hyperparameters(
        {"epochs": 10, "word_ngrams": 2, "learning_rate": 0.5, "min_count": 1,
         "threads": 2, "backend": "cpu"}))
    model = load_model(ctx.model_dir)
    proba = model.predict_proba(list(test["text"]))
    predicted = np.array(model.labels)[proba.argmax(axis=1)]
    truth = test["label"].astype(str).to_numpy()
    assert np.mean(predicted == truth) >= 0.81
    assert f1_score(truth, predicted, average="macro") >= 0.60
