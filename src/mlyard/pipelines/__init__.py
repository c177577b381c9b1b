"""Pipelines: SageMaker-style pipeline definitions (parameters, steps, conditions, property
references) and their executions."""
