"""Integration tests of lineage and experiments (real jobs)."""
