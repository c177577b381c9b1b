"""Serving models in real time: endpoints (:mod:`mlyard.serving.manager`), replica processes
(:mod:`mlyard.serving.pool`, :mod:`mlyard.serving.replica`), routing, autoscaling, data
capture and the A/B report. Batch transform is its own job kind (:mod:`mlyard.transform`)."""
