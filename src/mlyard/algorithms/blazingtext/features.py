"""The feature space of a model: vocabulary, labels and hashed n-gram rows.

Texts are turned once into flat integer arrays (:class:`Encoded`): for each example, the
input-matrix rows of its in-vocabulary words (the :data:`~text.EOS` token included) followed
by the rows of its hashed word n-grams. Rows ``0..n_words-1`` are words; n-gram buckets get
rows ``n_words + k`` where ``k`` is the bucket's position in :attr:`FeatureSpace.bucket_ids`.

Only buckets that occur in the training data get a row ("compacted" buckets): the model
trains exactly as fastText with ``buckets`` hash rows (same collisions), but never allocates,
initializes or saves the 2,000,000 x ``vector_dim`` rows that no training n-gram touches. At
predict time an n-gram whose bucket has no row is ignored (fastText would add that bucket's
untrained random initial vector).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlyard.algorithms.blazingtext.text import EOS, fnv1a, ngram_buckets, tokenize

DENSE_BUCKET_MAP_MAX = 1 << 24  # up to this many buckets, fit maps buckets to rows with an array
HASH_CACHE_MAX = 1_000_000  # token hashes remembered per model


@dataclass
class Encoded:
    """Examples as flat arrays: ``ids[offsets[i]:offsets[i+1]]`` are example i's rows."""

    ids: np.ndarray  # int32, input-matrix rows
    offsets: np.ndarray  # int64, shape (n + 1,)
    targets: np.ndarray  # int32 label index, -1 for a label unknown to the model
    n_tokens: int  # tokenizer tokens of all examples (EOS excluded): "words" for throughput
    tokens: np.ndarray  # int32 tokenizer tokens of each example (EOS excluded)

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def lengths(self) -> np.ndarray:
        """Number of rows of each example."""
        return np.diff(self.offsets)


@dataclass
class _Tokens:
    """A tokenized corpus: per-token index into ``uniq`` and per-example token offsets."""

    uniq: dict[str, int]
    flat: np.ndarray  # int64 index into uniq, per token (EOS appended to each example)
    offsets: np.ndarray  # int64, shape (n + 1,)
    n_tokens: int


def _tokenize_all(texts: Sequence[str]) -> _Tokens:
    lengths = np.empty(len(texts), dtype=np.int64)
    stream: list[str] = []
    for i, text in enumerate(texts):
        toks = tokenize(text)
        toks.append(EOS)
        lengths[i] = len(toks)
        stream.extend(toks)
    uniq = {w: i for i, w in enumerate(dict.fromkeys(stream))}
    flat = np.fromiter(map(uniq.__getitem__, stream), dtype=np.int64, count=len(stream))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _Tokens(uniq, flat, offsets, int(len(stream) - len(texts)))


class FeatureSpace:
    """Vocabulary, labels and the hashed n-gram rows of a model.

    Build it from training data with :meth:`fit`; :meth:`encode` maps any texts into it.
    """

    def __init__(self, words: list[str], labels: list[str], word_ngrams: int, buckets: int,
                 bucket_ids: np.ndarray, word_counts: np.ndarray | None = None) -> None:
        self.words = words
        self.labels = labels
        self.word_ngrams = int(word_ngrams)
        self.buckets = int(buckets)
        self.bucket_ids = np.asarray(bucket_ids, dtype=np.int64)
        self.word_counts = word_counts
        self.word_index = {w: i for i, w in enumerate(words)}
        self.label_index = {lab: i for i, lab in enumerate(labels)}
        self._hash_cache: dict[str, int] = {}

    @property
    def n_words(self) -> int:
        """Vocabulary size (EOS included)."""
        return len(self.words)

    @property
    def n_rows(self) -> int:
        """Rows of the input matrix: words plus used n-gram buckets."""
        return len(self.words) + int(self.bucket_ids.shape[0])

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], min_count: int,
            word_ngrams: int, buckets: int) -> tuple[FeatureSpace, Encoded]:
        """Build the feature space of training data and return it with the encoded data.

        Words seen at least ``min_count`` times form the vocabulary (most frequent first;
        EOS always kept); labels are sorted by name. N-gram buckets used by the data get rows.
        """
        toks = _tokenize_all(texts)
        uniq_words = list(toks.uniq)
        counts = np.bincount(toks.flat, minlength=len(uniq_words))
        keep = counts >= max(min_count, 1)
        if EOS in toks.uniq:
            keep[toks.uniq[EOS]] = True
        kept = np.flatnonzero(keep)
        kept = kept[np.argsort(-counts[kept], kind="stable")]
        words = [uniq_words[i] for i in kept]
        label_names = sorted(set(labels))
        space = cls(words, label_names, word_ngrams, buckets, np.zeros(0, dtype=np.int64),
                    counts[kept].astype(np.int64))
        word_of_uniq = np.full(len(uniq_words), -1, dtype=np.int64)
        word_of_uniq[kept] = np.arange(len(kept))
        levels = space._ngram_levels(toks, space._hashes(uniq_words))
        if levels:
            space.bucket_ids = np.unique(np.concatenate([b for _, b in levels]))
        if space.buckets <= DENSE_BUCKET_MAP_MAX:
            dense = np.full(space.buckets, -1, dtype=np.int32)
            dense[space.bucket_ids] = np.arange(space.bucket_ids.shape[0]) + space.n_words
            rows = [(pos, dense[b]) for pos, b in levels]
        else:
            rows = [space._bucket_rows(pos, b) for pos, b in levels]
        encoded = space._assemble(toks, word_of_uniq, labels, rows)
        return space, encoded

    def encode(self, texts: Sequence[str], labels: Sequence[str] | None = None) -> Encoded:
        """Encode ``texts`` (and optional ``labels``; unknown labels get target -1)."""
        toks = _tokenize_all(texts)
        uniq_words = list(toks.uniq)
        word_of_uniq = np.fromiter(
            (self.word_index.get(w, -1) for w in uniq_words), dtype=np.int64,
            count=len(uniq_words),
        )
        levels = self._ngram_levels(toks, self._hashes(uniq_words))
        rows = [self._bucket_rows(pos, b) for pos, b in levels]
        return self._assemble(toks, word_of_uniq, labels, rows)

    def _hashes(self, tokens: list[str]) -> np.ndarray:
        cache = self._hash_cache
        out = np.empty(len(tokens), dtype=np.uint64)
        for i, t in enumerate(tokens):
            h = cache.get(t)
            if h is None:
                h = fnv1a(t)
                if len(cache) < HASH_CACHE_MAX:
                    cache[t] = h
            out[i] = h
        return out

    def _ngram_levels(self, toks: _Tokens, hash_of_uniq: np.ndarray
                      ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(start positions, buckets) of the n-grams of each order n >= 2."""
        if self.word_ngrams < 2:
            return []
        hashes = hash_of_uniq[toks.flat]
        ends = np.repeat(toks.offsets[1:], np.diff(toks.offsets))
        return [(pos, b.astype(np.int64))
                for pos, b in ngram_buckets(hashes, ends, self.word_ngrams, self.buckets)]

    def _bucket_rows(self, pos: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input rows of n-gram buckets, dropping buckets without a row."""
        nb = self.bucket_ids.shape[0]
        if nb == 0:
            return pos[:0], bucket[:0]
        k = np.searchsorted(self.bucket_ids, bucket)
        found = self.bucket_ids[np.minimum(k, nb - 1)] == bucket
        return pos[found], k[found] + self.n_words

    def _assemble(self, toks: _Tokens, word_of_uniq: np.ndarray,
                  labels: Sequence[str] | None,
                  levels: list[tuple[np.ndarray, np.ndarray]]) -> Encoded:
        """Group word rows and n-gram rows (``levels``: token positions, rows; -1 = none)
        by example: words first, then n-grams by increasing order (a counting sort)."""
        n = toks.offsets.shape[0] - 1
        example_of_token = np.repeat(np.arange(n, dtype=np.int64), np.diff(toks.offsets))
        word_rows = word_of_uniq[toks.flat]
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        known = word_rows >= 0
        parts.append((example_of_token[known], word_rows[known]))
        for pos, rows in levels:
            ok = rows >= 0
            parts.append((example_of_token[pos[ok]], rows[ok]))
        counts = [np.bincount(ex, minlength=n) for ex, _ in parts]
        per_example = np.sum(counts, axis=0) if n else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(per_example, out=offsets[1:])
        ids = np.empty(int(offsets[-1]), dtype=np.int32)
        base = offsets[:-1].copy()
        for (ex, rows), cnt in zip(parts, counts, strict=True):
            # rank of each entry inside its example = index - index of the example's first
            first_of_example = np.cumsum(cnt) - cnt
            dest = base[ex] + (np.arange(ex.shape[0]) - first_of_example[ex])
            ids[dest] = rows
            base += cnt
        if labels is None:
            targets = np.full(n, -1, dtype=np.int32)
        else:
            li = self.label_index
            targets = np.fromiter((li.get(lab, -1) for lab in labels), dtype=np.int32, count=n)
        tokens = (np.diff(toks.offsets) - 1).astype(np.int32)
        return Encoded(ids, offsets, targets, toks.n_tokens, tokens)

    def to_json(self) -> dict[str, Any]:
        """The vocabulary file's content (the arrays are saved separately)."""
        return {
            "words": self.words,
            "counts": None if self.word_counts is None else self.word_counts.tolist(),
            "labels": self.labels,
            "word_ngrams": self.word_ngrams,
            "buckets": self.buckets,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], bucket_ids: np.ndarray) -> FeatureSpace:
        """Rebuild from :meth:`to_json` output and the saved bucket ids."""
        counts = data.get("counts")
        return cls(list(data["words"]), list(data["labels"]), int(data["word_ngrams"]),
                   int(data["buckets"]), bucket_ids,
                   None if counts is None else np.asarray(counts, dtype=np.int64))
