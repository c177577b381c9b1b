"""Experiments: experiments -> runs -> logged parameters, metrics (time series) and
artifacts. Training jobs, tuning jobs and pipeline executions become runs automatically
(:func:`mlyard.experiments.collect.sync`); user scripts log with the MLflow-like
:mod:`mlyard.experiments.tracking`; :mod:`mlyard.experiments.compare` puts runs side by
side."""
