"""SHAP explanations of a text classifier, unit by unit (token, sentence or paragraph).

shap's Partition explainer does the work (Owen values over shap's text-clustering tree, the
method Clarify's NLP explainability uses), with shap's text masker semantics: a masked unit
is replaced by the baseline text (default ``""``: dropped, as Clarify does) and runs of
masked units collapse into one. What this module adds, each measured in
``bench/_analysis_shap.py``:

* the model is called through :class:`~mlyard.analysis.explain.model_fn.TextFunction`: one
  call per round of the Owen recursion with all its masked strings (up to :data:`OWEN_ROUND`
  masks a round), de-duplicated, and each record's unmasked and fully masked strings
  predicted ahead for a whole chunk of records in one call; shap's default calls the model
  with about 6 strings at a time. The round size is a trade: the recursion spends its
  ``max_evals`` budget greedily, most important cluster first, and rounds of 500 masks
  spend it nearly breadth-first, which changed the top-3 tokens of about half of the
  reviews against shap's default; rounds of 64 keep ~0.9 top-3 overlap with ~10 model calls
  a review (``bench/_analysis_shap.py``);
* :class:`_FastTextMasker` builds a masked string by joining the kept segments (shap's masker
  loops over every token with attribute look-ups) and gives the same strings;
* :func:`partition_tree` builds shap's token clustering (the same tree: shap's merge score,
  same tie-breaking) in linear time: shap recomputes the score of every adjacent pair after
  each merge (quadratic in the record's length, about a fifth of the time on reviews); only
  the two pairs next to a merge change;
* :class:`_DensePartition` keeps the clustering's mask matrix as a dense boolean array:
  shap keeps it as a scipy sparse matrix and slicing one of its rows per tree node was the
  largest single cost in a profile of the reviews.

Records with fewer than two units are solved exactly without the explainer (one unit:
``f(text) - f(masked)``; none: no attributions).
"""

from __future__ import annotations

import re
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlyard.analysis.base import Progress, no_progress
from mlyard.analysis.explain.common import aggregate, sample_records, seeded
from mlyard.analysis.explain.config import ExplainAnalysisConfig, Granularity
from mlyard.analysis.explain.model_fn import TextFunction
from mlyard.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from mlyard.models.base import LoadedModel

#: Unit boundaries per granularity (the separators; a unit keeps the separator after it).
SPLIT_PATTERNS: dict[str, str] = {
    "token": r"\W+",
    "sentence": r"(?<=[.!?])\s+|\s*\n\s*",
    "paragraph": r"\s*\n\s*\n\s*|\s*\r\n\s*\r\n\s*",
}
#: Languages the regular-expression tokenizers handle (words separated by spaces/punctuation).
LANGUAGES = {"english": "english", "en": "english", "eng": "english"}
#: Default evaluations per record (shap's default for its Partition explainer).
DEFAULT_MAX_EVALS = 500
#: Masks evaluated per round of the Owen recursion (one model call), see the module doc.
OWEN_ROUND = 64
_SPACES = re.compile(r"\s+")
_SPACE_END = re.compile(r"^.*\W$")
_LETTER_START = re.compile(r"^[A-Za-z]")


def check_language(language: str) -> str:
    """The canonical language name, or a ValidationError for one the tokenizers cannot
    split (only English-like, space-separated text is supported)."""
    canonical = LANGUAGES.get(language.strip().lower())
    if canonical is None:
        raise ValidationError(
            f"language {language!r} is not supported for text explanations: the token, "
            f"sentence and paragraph tokenizers split English text; use language='english'")
    return canonical


class RegexTokenizer:
    """shap's tokenizer contract (``input_ids`` and ``offset_mapping``) for the units between
    matches of ``pattern``. Unlike shap's ``SimpleTokenizer`` the first unit's offset starts
    at 0 and the last one's ends at the end of the string, so the units' segments (what the
    masker joins) cover the whole text: nothing is lost when every unit is kept."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def spans(self, s: str) -> list[tuple[int, int]]:
        """The (start, end) of each non-empty unit of ``s``, separators excluded."""
        spans: list[tuple[int, int]] = []
        pos = 0
        for m in self.pattern.finditer(s):
            start, end = m.span(0)
            if start > pos:
                spans.append((pos, start))
            pos = max(pos, end)
        if pos < len(s):
            spans.append((pos, len(s)))
        return spans

    def __call__(self, s: str, return_offsets_mapping: bool = True) -> dict[str, Any]:
        spans = self.spans(s)
        out: dict[str, Any] = {"input_ids": [s[a:b] for a, b in spans]}
        if return_offsets_mapping:
            offsets = list(spans)
            if offsets:
                offsets[0] = (0, offsets[0][1])
                offsets[-1] = (offsets[-1][0], len(s))
            out["offset_mapping"] = offsets
        return out


def segments(text: str, granularity: Granularity) -> tuple[list[str], list[str], list[int]]:
    """The units of ``text``: their segments as the masker cuts them (each with the
    separator after it; together the whole text), the units themselves and their start
    offsets."""
    spans = RegexTokenizer(SPLIT_PATTERNS[granularity]).spans(text)
    segs = [text[(0 if i == 0 else a):(spans[i + 1][0] if i + 1 < len(spans) else len(text))]
            for i, (a, _) in enumerate(spans)]
    return segs, [text[a:b] for a, b in spans], [a for a, _ in spans]


def partition_tree(tokens: list[str], special_tokens: list[str]) -> np.ndarray:
    """shap's ``partition_tree`` (``shap.maskers._text``) with incremental score updates:
    the same ``(M - 1, 4)`` clustering matrix, built with O(M) merge-score evaluations."""
    from shap.maskers._text import Token, TokenGroup, merge_score, openers

    groups = [TokenGroup([Token(t)], i) for i, t in enumerate(tokens)]
    M = len(tokens)
    clustm = np.zeros((M - 1, 4))
    scores = [merge_score(groups[i], groups[i + 1], special_tokens) for i in range(M - 1)]
    for new_index in range(M, 2 * M - 1):
        ind = int(np.argmax(scores))
        lind, rind = groups[ind].index, groups[ind + 1].index
        row = clustm[new_index - M]
        row[0], row[1], row[2] = lind, rind, -scores[ind]
        row[3] = (clustm[lind - M, 3] if lind >= M else 1) + (clustm[rind - M, 3]
                                                              if rind >= M else 1)
        merged = groups[ind] + groups[ind + 1]
        merged.index = new_index
        groups[ind] = merged
        if merged[0].s in openers and groups[ind + 1][-1].s == openers[merged[0].s]:
            merged[0].balanced = True
            groups[ind + 1][-1].balanced = True
        groups.pop(ind + 1)
        scores.pop(ind)
        if ind > 0:
            scores[ind - 1] = merge_score(groups[ind - 1], groups[ind], special_tokens)
        if ind < len(scores):
            scores[ind] = merge_score(groups[ind], groups[ind + 1], special_tokens)
    clustm[:, 2] += 10
    return clustm


def _masker_class() -> type:
    from mlyard.analysis.explain._shap import import_shap

    shap = import_shap()

    class _FastTextMasker(shap.maskers.Text):  # type: ignore[misc,name-defined]
        """shap's text masker with a faster ``__call__`` for string output (same result)."""

        def __init__(self, tokenizer: RegexTokenizer, mask_token: str) -> None:
            # shap derives a mask token id by tokenizing the mask token; "" has none
            super().__init__(tokenizer, mask_token="mask",
                             collapse_mask_token=True)
            self.mask_token = mask_token
            self._fill = " " + mask_token
            self._seg_cache_s: str | None = None
            self._seg_list: list[str] = []

        def __call__(self, mask: Any, s: str) -> tuple[np.ndarray]:
            mask = self._standardize_mask(mask, s)
            if self._seg_cache_s != s:
                self._update_s_cache(s)
                self._seg_list = [str(x) for x in self._segments_s]
                self._seg_cache_s = s
            keep = mask.tolist()
            if not self.mask_token:
                out = "".join([seg for seg, k in zip(self._seg_list, keep, strict=True) if k])
            else:
                parts: list[str] = []
                masked = False
                for seg, k in zip(self._seg_list, keep, strict=True):
                    if k:
                        parts.append(seg)
                        masked = False
                    elif not masked:
                        parts.append(self._fill)
                        masked = True
                out = "".join(parts)
            return (np.array([_SPACES.sub(" ", out).strip()]),)

        def clustering(self, s: str) -> np.ndarray:
            """shap's clustering of ``s``'s tokens, built by :func:`partition_tree`."""
            self._update_s_cache(s)
            tokens: list[str] = []
            for i, v in enumerate(self._segments_s):  # shap's preparation of the tokens
                if (i > 0 and _SPACE_END.match(self._segments_s[i - 1]) is None
                        and _LETTER_START.match(v) is not None and tokens[i - 1] != ""):
                    tokens.append("##" + v.strip())
                else:
                    tokens.append(v.strip())
            pt = partition_tree(tokens, [])
            pt[:, 2] = pt[:, 3]
            pt[:, 2] /= pt[:, 2].max()
            return pt

    return _FastTextMasker


def _partition_class() -> type:
    import scipy.sparse

    from mlyard.analysis.explain._shap import import_shap

    shap = import_shap()

    class _DensePartition(shap.explainers.Partition):  # type: ignore[misc,name-defined]
        """shap's Partition explainer with its mask matrix dense (see the module doc)."""

        @property
        def _mask_matrix(self) -> Any:
            return self.__dict__.get("_dense_masks")

        @_mask_matrix.setter
        def _mask_matrix(self, value: Any) -> None:
            if scipy.sparse.issparse(value):
                value = value.toarray().astype(bool)
            self.__dict__["_dense_masks"] = value

    return _DensePartition


@dataclass
class TextRecord:
    """One record's explanation: its units' segments (the text cut as the masker cuts it),
    the units themselves and their start offsets, their SHAP values ``(units, outputs)``, the
    fully masked output (``base``) and the model's output."""

    text: str
    segments: list[str]
    units: list[str]
    starts: list[int]
    values: np.ndarray
    base: np.ndarray
    prediction: np.ndarray


@dataclass
class TextExplanation:
    """Explanations of ``column`` for a set of records (``index``: their frame index)."""

    column: str
    granularity: str
    language: str
    outputs: list[str]
    records: list[TextRecord]
    index: list[Any]
    agg_method: str = "mean_abs"
    max_evals: int = DEFAULT_MAX_EVALS
    seconds: float = 0.0
    model_calls: int = 0
    model_rows: int = 0
    inputs_requested: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def expected_value(self) -> np.ndarray:
        """Mean fully masked output per output."""
        if not self.records:
            return np.zeros(len(self.outputs))
        return np.mean([r.base for r in self.records], axis=0)

    def unit_key(self, unit: str) -> str:
        """The name a unit is aggregated under: stripped, lower-cased for tokens."""
        key = unit.strip()
        return key.lower() if self.granularity == "token" else key

    def token_table(self, output: int) -> dict[str, np.ndarray]:
        """Each unit key -> its SHAP values for ``output`` over all its occurrences."""
        table: dict[str, list[float]] = defaultdict(list)
        for record in self.records:
            for unit, value in zip(record.units, record.values[:, output], strict=True):
                key = self.unit_key(unit)
                if key:
                    table[key].append(float(value))
        return {k: np.asarray(v) for k, v in table.items()}

    def top_tokens(self, output: int, k: int, method: str | None = None
                   ) -> list[tuple[str, float, float, int]]:
        """The ``k`` units with the largest aggregate (``agg_method``) for ``output``:
        ``(unit, aggregate, mean signed SHAP, occurrences)``, largest first."""
        method = method or self.agg_method
        rows = [(key, aggregate(v, method), float(v.mean()), int(v.size))
                for key, v in self.token_table(output).items()]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows[:k]

    def column_totals(self) -> np.ndarray:
        """Per record and output, the sum of its units' SHAP values ``(records, outputs)``:
        the text column's attribution as one feature."""
        return np.array([r.values.sum(axis=0) for r in self.records]).reshape(
            len(self.records), len(self.outputs))


def explain_texts(texts: list[str], model: LoadedModel, *, name: str = "model",
                  granularity: Granularity = "token", language: str = "english",
                  mask_text: str = "", max_evals: int | None = None, batch_size: int = 1024,
                  use_logit: bool = False, seed: int = 0, chunk: int = 50,
                  progress: Progress = no_progress, column: str = "text",
                  index: list[Any] | None = None, agg_method: str = "mean_abs"
                  ) -> TextExplanation:
    """Explain each of ``texts`` (see the module doc); ``max_evals`` model evaluations per
    record at most (default 500)."""
    from mlyard.analysis.explain._shap import import_shap

    shap = import_shap()

    language = check_language(language)
    evals = int(max_evals or DEFAULT_MAX_EVALS)
    if evals < 2:
        raise ValidationError(f"num_samples must be >= 2 for text explanations, got {evals}")
    fn = TextFunction(model, name, batch_size=batch_size, use_logit=use_logit)
    masker = _masker_class()(RegexTokenizer(SPLIT_PATTERNS[granularity]), mask_text)
    link = shap.links.logit if use_logit else shap.links.identity
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        explainer = _partition_class()(fn, masker, link=link, linearize_link=False,
                                        output_names=fn.outputs)
    started = time.perf_counter()
    records: list[TextRecord] = []
    n = len(texts)
    with seeded(seed):
        for lo in range(0, n, chunk):
            part = texts[lo:lo + chunk]
            units = [segments(t, granularity) for t in part]
            full = [_SPACES.sub(" ", t).strip() for t in part]
            empty = [_SPACES.sub(" ", (" " + mask_text) if u[0] else "").strip()
                     for u in units]
            fn.prefetch(full + empty)
            for text, cut, f11, f00 in zip(part, units, full, empty, strict=True):
                records.append(_explain_one(explainer, fn, link, text, cut, f11, f00, evals,
                                            batch_size))
            fn.clear_cache()
            progress(f"explained {min(lo + chunk, n)}/{n} records")
    return TextExplanation(
        column=column, granularity=granularity, language=language, outputs=fn.outputs,
        records=records, index=list(range(n)) if index is None else list(index),
        agg_method=agg_method, max_evals=evals, seconds=time.perf_counter() - started,
        model_calls=fn.calls, model_rows=fn.rows, inputs_requested=fn.requested)


def _explain_one(explainer: Any, fn: TextFunction, link: Any, text: str,
                 cut: tuple[list[str], list[str], list[int]], full: str, empty: str,
                 evals: int, batch_size: int) -> TextRecord:
    segs, units, starts = cut
    n_out = len(fn.outputs)
    pred_full, pred_empty = fn.predict_keys([full, empty])
    if len(segs) < 2:
        base = link(pred_empty)
        pred = link(pred_full)
        values = (pred - base).reshape(len(segs), n_out) if segs else np.zeros((0, n_out))
        return TextRecord(text, segs, units, starts, values, base, pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        out = explainer([text], max_evals=evals,
                        batch_size=max(2, min(evals, batch_size, OWEN_ROUND)), silent=True)
    values = np.asarray(out.values[0], dtype=np.float64).reshape(len(segs), n_out)
    base = np.asarray(out.base_values[0], dtype=np.float64).reshape(n_out)
    return TextRecord(text, segs, units, starts, values, base,
                      np.asarray(link(pred_full)))


def explain_text(frame: pd.DataFrame, model: LoadedModel,
                 config: ExplainAnalysisConfig, *, name: str = "model",
                 progress: Progress = no_progress) -> TextExplanation:
    """Explain ``config.text_column`` of ``frame`` (at most ``max_records`` rows, a seeded
    sample) with the settings of ``config``; a missing text is explained as ``""``."""
    column = config.text_column
    if column is None:
        raise ValidationError("explain_text needs a text_column")
    rows = sample_records(frame, config.max_records, config.seed)
    texts = ["" if not isinstance(v, str) else v for v in rows[column].tolist()]
    mask_text = ""
    if config.baseline:
        mask_text = str(config.baseline[0][0])
    return explain_texts(
        texts, model, name=name, granularity=config.granularity, language=config.language,
        mask_text=mask_text, max_evals=config.num_samples, batch_size=config.batch_size,
        use_logit=config.use_logit, seed=config.seed, progress=progress, column=column,
        index=list(rows.index), agg_method=config.agg_method)
