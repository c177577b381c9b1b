"""The model registry: model package groups and their numbered versions, each with its
model, inference specification, metrics (an evaluation's ``evaluation.json`` as SageMaker's
``ModelMetrics``), description and an approval status changed with who, when and a note.

The records and the store domain are in :mod:`mlyard.registry.store`, the operations
(register, approve, reject, describe, the deploy check) in :mod:`mlyard.registry.service`.
Deploying needs the HTTP server, so it lives in the surfaces (:mod:`mlyard.sdk.registry`,
``mlyard registry deploy``), never here.
"""
