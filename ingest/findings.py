"""What a check says about an upload: a ``Finding`` names the file, row, column (as the file
names it), the raw value, the rule, how serious it is and how to fix it.

Findings are bounded: a value or message longer than ``MAX_VALUE_CHARS`` is cut with a marker
saying how long it was, so a 1 MB cell cannot make a 1 MB report (or log line).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MAX_VALUE_CHARS = 200
MAX_TEXT_CHARS = 1000

# severities: an error refuses the file; a warning loads it (look at it); a hold keeps it aside
# until a data lead confirms it (`pathways confirm <upload-id>`)
ERROR, WARNING, HOLD = "error", "warning", "hold"

# file-level rules (the rules on values are the Great Expectations suites in expectations/)
FILE_EMPTY = "file_empty"                    # nothing in the file at all
FILE_TYPE = "file_type"                      # not a file type Pathways reads, or content unlike its name
FILE_ENCODING = "file_encoding"              # text in an encoding Pathways does not read (UTF-16, ...)
FILE_UNREADABLE = "readable_file"            # damaged or unparseable
FILE_UNREADABLE_BY_PATHWAYS = "file_permission"  # the pipeline's user may not read it
CSV_LAST_LINE_CUT = "csv_last_line_cut"      # the file stops part-way through a line (still being copied?)
CSV_FIELD_COUNT = "csv_field_count"          # a row with more or fewer fields than the header
REPEATED_HEADER = "repeated_header"          # the header row again among the data (two exports pasted together)
SOURCE_UNKNOWN = "source_unknown"            # no source has these headers
REQUIRED_COLUMN = "required_column"
NO_DATA_ROWS = "no_data_rows"                # a header and nothing under it
UNKNOWN_COLUMN = "unknown_column"            # a column Pathways does not know (warning: ignored)
UNUSED_COLUMN = "unused_column"              # a known column this source does not use (warning: ignored)
REPEATED_COLUMN = "repeated_column"          # two columns meaning the same thing (warning: the first is used)
RULE_CRASHED = "rule_crashed"                # a check could not run on this file
LOAD_FAILED = "load_failed"                  # loading this file failed; nothing from it was kept
REFERENCE_REMOVAL = "reference_removal"      # a reference file would remove many schools/communities (hold)
SCHOOL_TERM_SHRINK = "school_term_shrink"    # a pupil file would shrink a school-term's rows a lot (hold)


def cut(text: str | None, limit: int = MAX_VALUE_CHARS) -> str | None:
    """``text`` bounded to ``limit`` characters, with a marker saying how long it was."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text):,} characters in all]"


@dataclass(frozen=True)
class Finding:
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    severity: str  # error | warning | hold
    message: str
    fix: str
    detail: str | None = None  # what else the data lead needs to see (other cells of the row, the age, ...)

    def __post_init__(self):
        for name, limit in (("value", MAX_VALUE_CHARS), ("column", MAX_VALUE_CHARS), ("detail", MAX_TEXT_CHARS),
                            ("message", MAX_TEXT_CHARS), ("fix", MAX_TEXT_CHARS)):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                v = str(v)
            object.__setattr__(self, name, cut(v, limit))

    def as_dict(self) -> dict:
        return asdict(self)


def file_finding(file: str, rule: str, message: str, fix: str, row: int | None = None, column: str | None = None,
                 value: str | None = None, detail: str | None = None, severity: str = ERROR) -> Finding:
    return Finding(file, row, column, value, rule, severity, message, fix, detail)
