"""Data analysis before (and around) a model: data profiles, bias metrics in SageMaker
Clarify's vocabulary and file formats, SHAP explanations, data-preparation flows, and
balancing/sampling.

Each analysis is a library first (functions over DataFrames, see :mod:`mlyard.analysis.base`)
and a job second (the ``analysis`` job kind, :mod:`mlyard.analysis.kind`), with the CLI
(``mlyard profile|bias|explain|flow|balance``) and the SDK (:mod:`mlyard.sdk.clarify`) over
the job.
"""
