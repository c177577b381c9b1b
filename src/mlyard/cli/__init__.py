"""The ``mlyard`` command line: thin commands over the SDK."""
