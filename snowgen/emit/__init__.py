"""Stage 4, emit: built statements -> deterministic SQL files and plan.json
(:mod:`snowgen.emit.render`), written whole by :mod:`snowgen.emit.writer`."""
