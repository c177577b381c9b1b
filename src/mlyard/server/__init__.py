"""The mlyard server: hosts endpoints (SageMaker Runtime wire format) and their control API."""
