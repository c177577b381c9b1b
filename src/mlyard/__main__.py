"""``python -m mlyard``: the command-line interface."""

from mlyard.cli.main import main

main()
