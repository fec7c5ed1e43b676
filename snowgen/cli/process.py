"""How a command that ends its process may speed up: a collector tuned for a compile's
short-lived sqlglot trees, and an exit that skips the interpreter's teardown. Both apply
only in the ``snowgen`` console script (:func:`snowgen.cli.entry`), never when ``main``
runs inside another program."""

from __future__ import annotations

import gc
import os
import sys

#: set by :func:`entry` (the ``snowgen`` console script): this process ends with the command,
#: so a command may change process-wide settings and skip the interpreter's teardown. Never
#: set when ``main`` runs inside another program (tests call it through click's CliRunner).
_ENDS_PROCESS = False

#: objects allocated between two young-generation collections in a compile (Python's default
#: is 700): dead sqlglot trees wait longer to be freed, and the collector stops rescanning
#: the survivors again and again (about a fifth of all CPU at 1,000 models). Measured at
#: 1,000 models x 3 dialects in one process: 11.5 s CPU at 1M (328 MB), 9.8 s at 3M (534 MB),
#: 8.8 s at 8M (879 MB).
COMPILE_GC_THRESHOLD = 3_000_000


def ends_with_command() -> None:
    """Tell the commands that this process ends with the one it runs (the console script)."""
    global _ENDS_PROCESS
    _ENDS_PROCESS = True


def short_lived_collector() -> None:
    """A compile makes millions of sqlglot nodes linked to their parents, which only the
    cycle collector frees. In a process that ends with the command, what exists now
    (modules, specs) is frozen out of every scan and the collector runs rarely (forked
    workers inherit the setting)."""
    if not _ENDS_PROCESS:
        return
    gc.freeze()
    gc.set_threshold(COMPILE_GC_THRESHOLD, 1000, 1000)


def end_process(code: int) -> None:
    """After a command's output is written and flushed: end the process now, skipping the
    teardown that frees every object one by one (all files are closed by then; the worker
    processes were joined when their pool closed)."""
    if not _ENDS_PROCESS:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
