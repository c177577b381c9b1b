"""Conformance suites: every implementation of a pluggable concept must pass its suite.

Subclass the suite in a test module and provide the factory fixture it names::

    class TestMyStore(MetadataStoreConformance):
        @pytest.fixture
        def store(self, tmp_path): return MyStore(...)
"""
