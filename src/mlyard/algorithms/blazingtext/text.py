"""Tokenization and fastText-style feature hashing, shared by training and prediction.

The tokenizer is deliberately simple and documented, and it is the *same* function at
training and at predict time:

* the text is lowercased;
* a token is a run of word characters (letters, digits, ``_``) with inner apostrophes kept
  (``don't`` stays one token), or any single other non-space character (punctuation such as
  ``!`` or ``,`` becomes its own token).

It is idempotent: tokenizing ``" ".join(tokenize(text))`` gives the same tokens again, so
pre-tokenized text can be fed in unchanged.

Like fastText, every example ends with the end-of-sentence token :data:`EOS` (it acts as a
bias feature), and word n-grams (n = 2..``word_ngrams``) are hashed into ``buckets`` rows with
fastText's hash: FNV-1a over the UTF-8 bytes of each token (bytes taken as signed chars), and
``h = h * 116049371 + hash(next token)`` in unsigned 64-bit arithmetic for n-grams, the row being
``h % buckets``, where each token hash enters sign-extended (fastText keeps token hashes in
``int32``), so n-gram buckets are exactly fastText's. N-grams include out-of-vocabulary tokens,
as in fastText.
"""

from __future__ import annotations

import re

import numpy as np

TOKEN_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
_TOKEN_RE = re.compile(TOKEN_PATTERN)
TOKENIZER_VERSION = "mlyard-blazingtext-1"
LABEL_PREFIX = "__label__"
EOS = "</s>"
NGRAM_MULTIPLIER = 116049371

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_MASK32 = 0xFFFFFFFF
_SIGN_EXTEND = (1 << 64) - (1 << 32)


def tokenize(text: str) -> list[str]:
    """Lowercase ``text`` and split it into word and punctuation tokens (see module doc)."""
    return _TOKEN_RE.findall(text.lower())


def fnv1a(token: str) -> int:
    """fastText's 32-bit FNV-1a hash of ``token`` (UTF-8 bytes read as signed chars)."""
    h = _FNV_OFFSET
    for b in token.encode("utf-8"):
        if b >= 0x80:
            b |= 0xFFFFFF00  # sign extension of a negative char to uint32
        h = ((h ^ b) * _FNV_PRIME) & _MASK32
    return h


def ngram_buckets(
    hashes: np.ndarray, ends: np.ndarray, word_ngrams: int, buckets: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Hashed word n-grams of a flat token stream, for n = 2..``word_ngrams``.

    ``hashes`` holds each token's :func:`fnv1a` (uint32 values), ``ends`` for each token the flat
    index one past the last token of its example. Returns, per n, ``(positions, bucket)``:
    the start position of each n-gram that fits inside its example and its bucket in
    ``[0, buckets)``.
    """
    out: list[tuple[np.ndarray, np.ndarray]] = []
    total = hashes.shape[0]
    if word_ngrams < 2 or total == 0:
        return out
    mult = np.uint64(NGRAM_MULTIPLIER)
    # fastText stores token hashes as int32 and widens them to uint64 with sign extension
    hashes = hashes.astype(np.uint64)
    hashes = np.where(hashes >= np.uint64(1 << 31), hashes + np.uint64(_SIGN_EXTEND), hashes)
    h = hashes.copy()
    positions = np.arange(total, dtype=np.int64)
    for n in range(2, word_ngrams + 1):
        length = total - n + 1
        if length <= 0:
            break
        h = h[:length] * mult + hashes[n - 1:]  # wraps modulo 2**64, as fastText's uint64
        valid = positions[:length] + (n - 1) < ends[:length]
        pos = np.flatnonzero(valid)
        out.append((pos, h[pos] % np.uint64(buckets)))
    return out
