"""``python -m snowgen.cli``: the console script."""

from snowgen.cli import entry

entry()
