"""The Python SDK: SageMaker's vocabulary over the workspace (Estimator -> Model ->
Transformer, jobs with ``wait``/``describe``/``stop``)."""
