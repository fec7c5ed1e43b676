"""User-facing errors: a closed set of codes, each reported as ``file:line:col: CODE message``.

Every mistake a user can make in a spec, on the command line or in a SQL body ends up
as a :class:`SnowgenError`. The CLI prints it and exits with status 2; no traceback.
``docs/errors.md`` lists the same codes; ``tests/errors/test_errors_doc.py`` keeps the two in sync.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from snowgen.masking import mask
from snowgen.text import one_line

#: Every error code snowgen can report, with a one-line title.
CODES: dict[str, str] = {
    # -- reading files -------------------------------------------------------------
    "SG001": "YAML syntax error",
    "SG002": "duplicate key in a YAML mapping",
    "SG003": "project file or directory not found",
    "SG004": "a spec file does not hold a mapping",
    "SG005": "a seed or sample file cannot be read as CSV",
    "SG006": "YAML anchors and aliases are not allowed",
    "SG007": "a spec file nests lists and mappings too deeply",
    "SG008": "a spec or seed file is larger than snowgen reads",
    # -- shape of the spec ---------------------------------------------------------
    "SG101": "unknown key",
    "SG102": "value has the wrong type or is not allowed",
    "SG103": "required key is missing",
    "SG104": "name is not a valid identifier",
    "SG105": "a name is longer than a warehouse allows",
    "SG106": "a file or folder name holds a control or invisible character",
    "SG107": "a password, token or key is written in the project file",
    # -- meaning of the spec -------------------------------------------------------
    "SG201": "reference to an unknown model or source",
    "SG202": "dependency cycle between models",
    "SG203": "duplicate model name",
    "SG204": "SQL body does not parse",
    "SG205": "Jinja template error in a SQL body",
    "SG206": "unknown variable",
    "SG207": "a model's key or layout column is not one of its output columns",
    "SG208": "a SQL body must be a single SELECT query",
    "SG209": "a variable is used inside a SQL string literal",
    "SG210": "unknown module",
    "SG211": "incremental model needs explicit output columns",
    "SG212": "invalid use of a snowgen macro in a SQL body",
    "SG213": "a seed's CSV columns do not match its declared columns",
    "SG214": "a seed value does not fit its column type",
    "SG215": "a seed's name is already used",
    "SG216": "a source sample cannot be loaded as declared",
    "SG220": "a staged table cannot be used as declared",
    "SG230": "a model cannot be stitched as its 'stitch' option asks",
    "SG240": "a setting taken from a var has no such var or the wrong type",
    "SG241": "sql() is given text that is not exactly one SQL expression",
    "SG242": "the project named in 'extends' cannot be extended",
    "SG243": "a name is declared both by a project and by the project it extends",
    "SG246": "an identifier's SQL reads more than the event's own columns",
    "SG250": "a SQL body reads a column its inputs do not have",
    "SG251": "a SQL body reads an unqualified column more than one input has",
    "SG252": "a SQL body qualifies a column with an unknown table alias",
    "SG253": "a source declares no columns, so the columns read from it are not checked (a warning)",
    "SG260": "a data test cannot be planned as declared",
    "SG261": "a data test's where filter does not parse",
    "SG270": "grants name an unknown dialect",
    "SG271": "a grantee is not one the warehouse can name",
    "SG272": "snowgen privileges cannot name the role or the database",
    # -- snowgen lineage -----------------------------------------------------------------
    "SG290": "snowgen lineage names an unknown model",
    "SG291": "snowgen lineage names a column the model does not output",
    "SG292": "snowgen lineage is not given MODEL.COLUMN",
    # -- what a warehouse can express ----------------------------------------------
    "SG301": "a dialect cannot express this layout or feature",
    "SG302": "unknown dialect",
    "SG303": "unknown target",
    "SG304": "an environment variable a target reads is not set",
    # -- command line ----------------------------------------------------------------
    "SG401": "invalid --vars value",
    "SG402": "--select or --exclude matches no model",
    "SG403": "conflicting or missing command-line options",
    "SG404": "a full refresh would drop incremental state this target protects",
    "SG405": "cannot connect to the database",
    "SG406": "invalid --backfill request",
    "SG407": "cannot write the output folder",
    "SG408": "the database failed a statement",
    "SG409": "sample-data would load into a table that holds rows",
    "SG410": "another run holds the run lock",
    # -- schedulers (snowgen.integrations) -----------------------------------------------
    "SG430": "a plan for a scheduler cannot be read",
    "SG431": "no scheduler connection for the plan's target",
    "SG432": "the scheduler's database does not fit the plan",
    # -- snowgen health ------------------------------------------------------------------------
    "SG440": "snowgen health has nothing to check",
    "SG441": "a health query failed",
    "SG450": "a --select or --exclude selector is malformed",
    "SG451": "--exclude removes a step the selected models need",
    "SG460": "an error-severity data test found failing rows",
    "SG461": "a data test could not run",
    "SG462": "snowgen test has no data tests to run",
    "SG470": "snowgen run --revoke-unlisted cannot read the warehouse's grants",
}


@dataclass(frozen=True)
class Location:
    """A place in a spec file. ``line`` and ``col`` are 1-based."""

    file: Path
    line: int
    col: int
    text: str | None = field(default=None, compare=False)  # the line itself, when the caller has it

    def display_file(self) -> str:
        """The path as the user most likely typed it: relative to the working directory."""
        try:
            return one_line(os.path.relpath(self.file))
        except ValueError:  # another drive on Windows
            return one_line(str(self.file))

    def source_line(self) -> str | None:
        if self.text is not None:
            return self.text
        try:
            lines = self.file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        if 1 <= self.line <= len(lines):
            return lines[self.line - 1]
        return None


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    location: Location | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered error code {self.code}")

    def headline(self) -> str:
        if self.location is None:
            return f"snowgen: {self.code} {self.message}"
        loc = self.location
        return f"{loc.display_file()}:{loc.line}:{loc.col}: {self.code} {self.message}"

    def format(self) -> str:
        """Headline plus the offending line with a caret under the column; every registered
        secret masked (snowgen.masking)."""
        return mask(self._unmasked())

    def _unmasked(self) -> str:
        text = self.headline()
        if self.location is None:
            return text
        source = self.location.source_line()
        if not source:  # no line to show (or an empty one: a caret under nothing says nothing)
            return text
        number = str(self.location.line)
        gutter = " " * len(number)
        caret = " " * (self.location.col - 1) + "^"
        return f"{text}\n {number} | {source}\n {gutter} | {caret}"


class SnowgenError(Exception):
    """One or more diagnostics; raised by every stage for user mistakes."""

    #: the command's exit status when it stops on this error
    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__(self.format())

    def __reduce__(self):  # so an error raised in a worker process arrives whole
        return (SnowgenError, (self.diagnostics,))

    @classmethod
    def at(cls, code: str, message: str, location: Location | None = None) -> SnowgenError:
        return cls(Diagnostic(code, message, location))

    def format(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


class RunLocked(SnowgenError):
    """SG410: another run holds the project's run lock, or (DuckDB) the database file; the
    command exits with 3, so a scheduler can tell "try later" from a failure."""

    exit_code = 3

    def __init__(self, message: str):
        super().__init__(Diagnostic("SG410", message))

    def __reduce__(self):
        return (RunLocked, (self.diagnostics[0].message,))
