"""Lineage: what every job, model, endpoint, registry version and pipeline execution came
from and led to, as SageMaker ML Lineage Tracking models it (artifacts, actions, contexts
and trial components linked by typed associations).

The graph is derived from the other stores by :func:`mlyard.lineage.collect.sync` (run
before each query), and users add their own entities with :func:`add_artifact` and
:func:`add_association`. :func:`mlyard.lineage.query.lineage` walks it upstream or
downstream; :mod:`mlyard.lineage.html` draws it.
"""
