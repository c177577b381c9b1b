"""Processing jobs: a user script or any command (optionally in a container image) with
inputs staged into ``input/<name>`` and outputs stored from ``output/<name>`` (SageMaker
Processing)."""
