"""Text statistics of a free-text column: length in words and characters (summary and
histogram), vocabulary size and the most frequent tokens.

Words are whitespace-separated pieces (what a reader counts); tokens are scikit-learn's
:class:`~sklearn.feature_extraction.text.CountVectorizer` tokens (lower-cased runs of two
or more word characters). The top tokens are listed twice: all tokens, and without English
stop words (which dominate the first list).

A text column is tokenized once (:func:`token_counts`: words and word pairs) and the
count matrix is shared by the statistics here, the text column's leakage model and the
quick model's TF-IDF: tokenizing is most of the cost of text profiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

HIST_BINS = 20


@dataclass
class TokenCounts:
    """Counts of tokens and token pairs per row of a text column (missing rows: none);
    ``unigram`` marks the single-token columns of ``matrix``."""

    matrix: Any
    names: np.ndarray
    unigram: np.ndarray


def token_counts(series: pd.Series) -> TokenCounts | None:
    """Word and word-pair counts of every row of ``series`` (None: no token at all)."""
    from sklearn.feature_extraction.text import CountVectorizer

    docs = series.fillna("").astype(str).to_numpy(dtype=object)
    vectorizer = CountVectorizer(ngram_range=(1, 2), dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(docs).tocsr()
    except ValueError:  # no document holds a token
        return None
    names = vectorizer.get_feature_names_out()
    unigram = np.char.find(names.astype(str), " ") < 0
    return TokenCounts(matrix, names, unigram)


def _summary(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    q = np.percentile(values, [5, 25, 50, 75, 95])
    return {"min": float(values.min()), "max": float(values.max()),
            "mean": float(values.mean()), "std": float(values.std()),
            "p05": float(q[0]), "p25": float(q[1]), "median": float(q[2]),
            "p75": float(q[3]), "p95": float(q[4])}


def histogram(values: np.ndarray, bins: int = HIST_BINS) -> dict[str, list[float]]:
    """``{"edges": [...], "counts": [...]}`` of finite ``values`` (empty lists if none);
    integer data with fewer distinct values than ``bins`` gets one bin per value."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"edges": [], "counts": []}
    low, high = float(values.min()), float(values.max())
    if low == high:
        return {"edges": [low - 0.5, high + 0.5], "counts": [int(values.size)]}
    if np.all(values == np.floor(values)) and high - low + 1 <= bins:
        edges = np.arange(low - 0.5, high + 1.0, 1.0)
    else:
        edges = np.histogram_bin_edges(values, bins=bins)
    counts, edges = np.histogram(values, bins=edges)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def text_stats(series: pd.Series, top_k: int, counts: TokenCounts | None) -> dict[str, Any]:
    """Length, vocabulary and top-token statistics of a text column's non-missing values
    (``counts``: its :func:`token_counts`)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    texts = series.dropna().astype(str)
    words = texts.str.count(r"\S+").to_numpy(dtype=np.float64)
    chars = texts.str.len().to_numpy(dtype=np.float64)
    out: dict[str, Any] = {
        "words": _summary(words), "characters": _summary(chars),
        "word_histogram": histogram(words), "empty": int((words == 0).sum()),
        "vocabulary_size": 0, "top_tokens": [], "top_tokens_no_stop_words": [],
    }
    if counts is None:
        return out
    names = counts.names[counts.unigram]
    totals = np.asarray(counts.matrix[:, counts.unigram].sum(axis=0)).ravel().astype(np.int64)
    order = np.argsort(-totals, kind="stable")
    out["vocabulary_size"] = len(names)
    out["tokens"] = int(totals.sum())
    out["top_tokens"] = [{"token": str(names[i]), "count": int(totals[i])}
                         for i in order[:top_k]]
    content = [i for i in order if names[i] not in ENGLISH_STOP_WORDS][:top_k]
    out["top_tokens_no_stop_words"] = [{"token": str(names[i]), "count": int(totals[i])}
                                       for i in content]
    return out


def fold_matrices(counts: TokenCounts, mask: np.ndarray, train: np.ndarray,
                  test: np.ndarray, max_features: int, tfidf: bool) -> tuple[Any, Any] | None:
    """A cross-validation fold's token features from the shared counts: the rows in
    ``mask``, split by ``train``/``test``; tokens in at least two training rows (the
    ``max_features`` most frequent), TF-IDF weighted (sublinear, fitted on the training
    rows) if ``tfidf``. None when no token qualifies."""
    from sklearn.feature_extraction.text import TfidfTransformer

    rows = counts.matrix[mask]
    a, b = rows[train], rows[test]
    doc_freq = np.asarray((a > 0).sum(axis=0)).ravel()
    keep = np.flatnonzero(doc_freq >= 2)
    if keep.size == 0:
        return None
    if keep.size > max_features:
        keep = np.sort(keep[np.argsort(-doc_freq[keep], kind="stable")[:max_features]])
    a, b = a[:, keep], b[:, keep]
    if tfidf:
        weights = TfidfTransformer(sublinear_tf=True).fit(a)
        a, b = weights.transform(a), weights.transform(b)
    return a, b
