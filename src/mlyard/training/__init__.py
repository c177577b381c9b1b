"""Training jobs: built-in algorithms and script mode (the SageMaker script contract)."""
