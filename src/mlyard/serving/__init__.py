"""Serving models: batch transform (SageMaker Batch Transform's engine).

:func:`run_transform` runs a saved model over a file or a folder of files and writes one
``<file>.out`` per input, resumably and optionally in parallel worker processes; see
:mod:`mlyard.serving.transform` for the input, output and resume rules.
"""

from mlyard.serving.transform import TransformOptions, TransformResult, run_transform

__all__ = ["TransformOptions", "TransformResult", "run_transform"]
