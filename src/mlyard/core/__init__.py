"""Core layer: specs, records, stores, artifacts, executors and the job runner."""
