"""A/B test reports of an endpoint's production variants.

:func:`ab_report` compares variants on what the endpoint recorded
(:class:`~mlyard.serving.metrics.MetricsRecorder`): invocations, 4xx/5xx errors, model and
overhead latency. Given ground truth (``eventId`` -> true label, see
:func:`load_ground_truth`) and the captured requests (:func:`mlyard.serving.capture.
read_capture`), it also scores each variant's top-1 accuracy with a Wilson interval and
tests every pair of variants for a difference (two-proportion z-test, Fisher's exact test
when a cell's expected count is below 5; Holm-adjusted when there are more than two
variants).

The recommendation:

* with scored ground truth: the most accurate variant if it is significantly better than
  every other at ``alpha``, else "no significant difference" naming the leader;
* without: *operational metrics only* — the variant with the lowest 5xx error rate (model
  and server failures, the replica pool's 503s included; a 4xx is the client's bad input
  and never held against a variant) if that is significantly lower than every other's,
  else the lowest p99 model latency among the variants whose 5xx error rate is not
  significantly worse than the best (no test on latency).

Latencies are in microseconds (as recorded) in :meth:`ABReport.to_dict`, in milliseconds
in the text and HTML renderings.

The package's modules: :mod:`~mlyard.serving.abreport.model` (the report's data),
:mod:`~mlyard.serving.abreport.gather` (metrics, latency series, accuracy of captures),
:mod:`~mlyard.serving.abreport.decide` (pairwise tests, recommendation),
:mod:`~mlyard.serving.abreport.render` (text and HTML),
:mod:`~mlyard.serving.abreport.ground_truth` (:func:`load_ground_truth`) and
:mod:`~mlyard.serving.abreport.report` (:func:`ab_report`). The statistics are
:mod:`mlyard.stats`'s; the names it had here (:func:`wilson_interval`,
:func:`two_proportion_test`, :func:`holm`, :data:`MIN_EXPECTED_FOR_Z`) are still exported.
"""

from mlyard.serving.abreport.ground_truth import load_ground_truth
from mlyard.serving.abreport.model import (
    ABReport,
    Basis,
    PairwiseTest,
    Recommendation,
    VariantSummary,
)
from mlyard.serving.abreport.report import ab_report, predicted_label
from mlyard.stats import MIN_EXPECTED_FOR_Z, holm, two_proportion_test, wilson_interval

__all__ = [
    "MIN_EXPECTED_FOR_Z",
    "ABReport",
    "Basis",
    "PairwiseTest",
    "Recommendation",
    "VariantSummary",
    "ab_report",
    "holm",
    "load_ground_truth",
    "predicted_label",
    "two_proportion_test",
    "wilson_interval",
]
