"""The server's HTTP routes, one module per resource.

Each module exposes ``routes(...) -> list[ApiRoute]`` built from the objects it needs (an
:class:`~mlyard.serving.manager.EndpointManager`, a reader of jobs or models, the metrics
recorder); :func:`mlyard.server.app.build_app` assembles them. Every route is an
:class:`~mlyard.server.openapi.ApiRoute`, documented by its operation, and raises
:class:`~mlyard.errors.MlyardError` subclasses for the app's error handlers to answer.

- :mod:`.invocations`: the data plane (SageMaker Runtime's InvokeEndpoint);
- :mod:`.endpoints`: endpoint configs, endpoints, weights, metrics, scaling policies and
  activities, A/B reports (the control plane);
- :mod:`.jobs` and :mod:`.models`: read-only jobs (with logs and metrics) and models;
- :mod:`.system`: ``/ping``, Prometheus ``/metrics``, ``/openapi.json``.
"""
