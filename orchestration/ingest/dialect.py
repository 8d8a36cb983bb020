"""Dialect and encoding of a landing file, the streaming normaliser, and the value parsers.

Two dialects exist (contract section 1):
- `standard`: ',' delimiter, '.' decimal point, ISO dates and timestamps, UTF-8 (BOM allowed);
- `german`: ';' delimiter, ',' decimal separator and '.' thousands separator,
  dates as 31.03.2025, usually cp1252.

Detection, per file, nobody configures it:
- encoding: valid UTF-8 -> utf-8 (a BOM is dropped); else cp1252 if every byte decodes
  (0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252); else the file is undecodable;
- delimiter: from the header line, ';' when it holds more ';' than ',';
- decimals follow the delimiter: ';' -> '1.234,56', ',' -> '1234.56'.
- dates and timestamps: both ISO and German forms are accepted in either dialect (the two
  forms cannot be confused), see `date_sql` and `timestamp_sql`.

Reading a file, two paths that give the same records and line numbers:
- fast path: DuckDB reads the UTF-8 file itself (a cp1252 file is first transcoded to UTF-8
  in big chunks) with an explicit delimiter, quote and all-VARCHAR columns, in strict mode;
  `row_number() over ()` numbers the records in file order, and the physical start line is
  that number + 1 (the header is line 1). This holds when every record sits on one line and
  no line is skipped, which the file scan (`Layout`) and a counting read in the loader
  check cheaply; otherwise the exact path is taken.
- exact path: DuckDB has no cp1252, and it neither reports physical line numbers nor
  tolerates ragged records next to quoted newlines. So the file is streamed once through
  Python's C csv reader into a temp UTF-8 file with a fixed column count plus two columns:
  the physical line where the record starts (quoted fields may span lines) and the record's
  field count. Blank lines are skipped. Memory stays bounded: one record at a time in Python.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCAN_BYTES = 8 << 20
NL, CR, QUOTE, BLANK = 10, 13, 34, 32
FIELD_BORDERS = frozenset(b",;\r\n")
BOM = "\ufeff"

# Python's csv module refuses fields above 128 KiB by default; descriptions may be long.
csv.field_size_limit(1 << 30)


class UndecodableFile(ValueError):
    """The bytes decode neither as UTF-8 nor as cp1252."""


@dataclass(frozen=True)
class Dialect:
    """What was detected for one file."""

    encoding: str  # "utf-8" | "cp1252"
    delimiter: str  # "," | ";"

    @property
    def name(self) -> str:
        return "german" if self.delimiter == ";" else "standard"

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter == ";"

    def describe(self) -> str:
        """The load_log text, e.g. "german (delimiter ';', decimal ',', cp1252)"."""
        decimal = "," if self.decimal_comma else "."
        return f"{self.name} (delimiter '{self.delimiter}', decimal '{decimal}', {self.encoding})"


@dataclass(frozen=True)
class Normalised:
    """The temp UTF-8 file DuckDB reads: header-count columns, then line number, field count."""

    path: Path
    header: list[str]  # as in the file, BOM removed
    rows: int


@dataclass(frozen=True)
class Layout:
    """What one pass over the raw bytes tells about the line structure of a file.

    The bytes looked for are ASCII, and both encodings (UTF-8, cp1252) keep ASCII bytes as
    they are, so the scan needs no decoding.
    """

    lines: int  # physical lines: '\n' count, + 1 when the last line has no '\n'
    lone_cr: bool  # a '\r' not followed by '\n' (Python's reader ends a line there)
    nul: bool  # a NUL byte
    quote_blank: bool  # blanks between a '"' and a field border: DuckDB drops them

    @property
    def simple(self) -> bool:
        """Whether the fast path may be tried (it still checks the record count)."""
        return not (self.lone_cr or self.nul or self.quote_blank)


@dataclass(frozen=True)
class FileScan:
    sha256: str
    encoding: str  # "utf-8" | "cp1252"
    layout: Layout
    utf8_path: Path  # the file itself (UTF-8) or its UTF-8 transcoding (cp1252)


def scan_file(path: Path, transcode_to: Path | None = None) -> FileScan:
    """One pass over the bytes: sha256, UTF-8 validity and the `Layout` (numpy, per chunk).

    A file that is not UTF-8 is checked for cp1252 by transcoding it to UTF-8 into
    `transcode_to` (or only decoding it when that is None). Raises UndecodableFile when
    neither decodes.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    lines = 0
    lone_cr = nul = quote_blank = False
    last = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_BYTES):
            digest.update(chunk)
            if is_utf8 and not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
            data = np.frombuffer(chunk, dtype=np.uint8)
            lines += int(np.count_nonzero(data == NL))
            nul = nul or b"\0" in chunk
            seam = last[-1:] + chunk[:1]  # the two bytes around the chunk border
            if last.endswith(b"\r") and seam != b"\r\n":
                lone_cr = True
            if not lone_cr:
                crs = np.flatnonzero(data[:-1] == CR)
                lone_cr = bool(np.any(data[crs + 1] != NL))
            if not quote_blank:
                quote_blank = seam in (b' "', b'" ') or _quote_blank(data)
            last = chunk
    if last.endswith(b"\r"):
        lone_cr = True
    if last and not last.endswith(b"\n"):
        lines += 1
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    layout = Layout(lines=lines, lone_cr=lone_cr, nul=nul, quote_blank=quote_blank)
    if is_utf8:
        return FileScan(digest.hexdigest(), "utf-8", layout, path)
    if transcode_cp1252(path, transcode_to):
        return FileScan(digest.hexdigest(), "cp1252", layout, transcode_to or path)
    raise UndecodableFile("bytes decode neither as UTF-8 nor as cp1252")


def _quote_blank(data: np.ndarray) -> bool:
    """Whether a '"' in this chunk has blanks between it and a field border.

    Blanks, then a '"' after a delimiter or a line start, or a '"', then blanks before a
    delimiter or a line end: DuckDB drops such blanks, Python keeps them. Both delimiters
    count (the dialect is not known yet), and a chunk border counts as a field border.
    """
    quotes = np.flatnonzero(data == QUOTE)
    if not len(quotes):
        return False
    size = len(data)
    for quote in quotes[(quotes > 0)][data[quotes[quotes > 0] - 1] == BLANK]:
        i = int(quote) - 1
        while i >= 0 and data[i] == BLANK:
            i -= 1
        if i < 0 or data[i] in FIELD_BORDERS:
            return True
    for quote in quotes[(quotes < size - 1)][data[quotes[quotes < size - 1] + 1] == BLANK]:
        i = int(quote) + 1
        while i < size and data[i] == BLANK:
            i += 1
        if i == size or data[i] in FIELD_BORDERS:
            return True
    return False


def file_digest_and_encoding(path: Path) -> tuple[str, str]:
    """The sha256 of a file and its encoding ("utf-8" or "cp1252"); see `scan_file`."""
    scan = scan_file(path)
    return scan.sha256, scan.encoding


def transcode_cp1252(path: Path, out_path: Path | None) -> bool:
    """Decode the whole file as cp1252, writing it as UTF-8 to `out_path` when given.

    cp1252 is a one-byte code, so chunks decode on their own. False when a byte is undefined
    in cp1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D).
    """
    with open(path, "rb") as handle, (
        open(out_path, "wb") if out_path is not None else contextlib.nullcontext()
    ) as target:
        try:
            while chunk := handle.read(SCAN_BYTES):
                text = chunk.decode("cp1252")
                if target is not None:
                    target.write(text.encode("utf-8"))
        except UnicodeDecodeError:
            return False
    return True


def detect_delimiter(header_line: str) -> str:
    """';' for the German export, ',' otherwise, judged from the header line."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _text_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding == "utf-8" else "cp1252"


def detect_dialect(path: Path, encoding: str) -> Dialect:
    """The dialect of a file whose encoding is known."""
    with open(path, encoding=_text_encoding(encoding), newline="") as handle:
        header_line = handle.readline()
    return Dialect(encoding=encoding, delimiter=detect_delimiter(header_line))


def read_header(path: Path, dialect: Dialect) -> tuple[list[str], int]:
    """The header record of a UTF-8 file (BOM removed) and the physical lines it spans."""
    with open(path, encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source, delimiter=dialect.delimiter, quotechar='"')
        header = next(reader, [])
        return header, reader.line_num


def read_csv_sql(path: Path, dialect: Dialect, width: int, check: bool = False) -> str:
    """DuckDB read_csv over a UTF-8 file: header skipped, c0..c<width-1> as VARCHAR, strict
    (an unclosed quote, text after a closing quote or too many fields is an error).

    Strict mode still takes trailing empty fields beyond `width` silently. So `check=True`
    reads one column more with null padding and with the null string set to a newline (which
    no one-line record holds): a record of `width` fields then has c<width> NULL and
    c<width-1> not NULL, any other field count shows (see `fast_check_sql`).
    """
    count = width + 1 if check else width
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(count)) + "}"
    literal = "'" + str(path).replace("'", "''") + "'"
    padding = "true, nullstr = E'\\n'" if check else "false"
    return (
        f"read_csv({literal}, header = true, delim = '{dialect.delimiter}', quote = '\"', "
        f"escape = '\"', columns = {columns}, auto_detect = false, strict_mode = true, "
        f"null_padding = {padding})"
    )


def fast_check_sql(path: Path, dialect: Dialect, width: int) -> str:
    """(records, records whose field count is not `width`) as DuckDB reads the file."""
    return (
        f"select count(*), count(*) filter (where c{width} is not null or c{width - 1} is null) "
        f"from {read_csv_sql(path, dialect, width, check=True)}"
    )


def normalise(path: Path, dialect: Dialect, out_path: Path) -> Normalised:
    """Stream `path` into a comma-delimited UTF-8 file with a fixed column count.

    Every output record holds the header's field count of values (short records padded with
    empty values, surplus values dropped), then the 1-based physical start line of the
    record, then the number of fields the record really had.
    """
    rows = 0
    with (
        open(path, encoding=_text_encoding(dialect.encoding), newline="") as source,
        open(out_path, "w", encoding="utf-8", newline="") as target,
    ):
        reader = csv.reader(source, delimiter=dialect.delimiter, quotechar='"')
        header = next(reader, [])
        if header and header[0].startswith(BOM):
            header[0] = header[0][len(BOM) :]
        width = len(header)
        writer = csv.writer(target, lineterminator="\n")
        start = reader.line_num + 1
        for record in reader:
            if record:
                rows += 1
                count = len(record)
                if count != width:
                    record = (record + [""] * width)[:width]
                record.append(start)
                record.append(count)
                writer.writerow(record)
            start = reader.line_num + 1
    return Normalised(path=out_path, header=header, rows=rows)


def match_columns(header: list[str], wanted: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map wanted column names to header positions (case-insensitive, trimmed).

    Returns (name -> position, extra header names in file order). The first occurrence of a
    repeated name wins; later repeats count as extra.
    """
    positions: dict[str, int] = {}
    extra: list[str] = []
    wanted_set = set(wanted)
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if name in wanted_set and name not in positions:
            positions[name] = index
        else:
            extra.append(raw.strip())
    return positions, extra


# --- value parsers as DuckDB SQL expressions over a trimmed, non-empty VARCHAR -------------

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
TIMESTAMP_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def decimal_sql(value: str, decimal_comma: bool) -> str:
    """DECIMAL(18,4) or NULL when the text is no number of the dialect.

    German: '1.234,56', '1234,56', '-0,5'; standard: '1234.56', '-0.5'. Thousands separators
    must group by three. Too many digits for DECIMAL(18,4) -> NULL.
    """
    if decimal_comma:
        pattern = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"
        canonical = f"replace(replace({value}, '.', ''), ',', '.')"
    else:
        pattern = r"^[+-]?\d+(\.\d+)?$"
        canonical = value
    return (
        f"case when regexp_full_match({value}, '{pattern}') "
        f"then try_cast({canonical} as decimal(18,4)) end"
    )


def int_sql(value: str) -> str:
    """INTEGER or NULL: optional sign and digits only."""
    pattern = "[+-]?\\d+"
    return (
        f"case when regexp_full_match({value}, '{pattern}') "
        f"then try_cast({value} as integer) end"
    )


def _strptime_sql(value: str, formats: tuple[str, ...]) -> str:
    """try_strptime over the formats in order, the first that parses wins.

    A format is only tried on text holding its separator ('-' or '.'): it cannot match
    otherwise, and a failing try_strptime costs ten times a succeeding one.
    """
    tries = []
    for fmt in formats:
        separator = "-" if "-" in fmt else "."
        tries.append(
            f"case when contains({value}, '{separator}') then try_strptime({value}, '{fmt}') end"
        )
    return tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"


def date_sql(value: str) -> str:
    """DATE from '2025-03-31' or '31.03.2025' (either dialect), else NULL."""
    return f"cast({_strptime_sql(value, DATE_FORMATS)} as date)"


def timestamp_sql(value: str) -> str:
    """TIMESTAMP from ISO ('2025-03-31 14:05:00', '2025-03-31T14:05:00', '2025-03-31') or
    German ('31.03.2025 14:05:00', '31.03.2025 14:05', '31.03.2025'), else NULL."""
    return (
        f"coalesce(case when regexp_full_match({value}, '\\d{{4}}-\\d{{2}}-\\d{{2}}([ T].*)?') "
        f"then try_cast({value} as timestamp) end, "
        f"{_strptime_sql(value, TIMESTAMP_FORMATS)})"
    )


def parse_sql(kind: str, value: str, decimal_comma: bool) -> str:
    """The typed-value expression for a column kind."""
    if kind == "decimal":
        return decimal_sql(value, decimal_comma)
    if kind == "int":
        return int_sql(value)
    if kind == "date":
        return date_sql(value)
    if kind == "timestamp":
        return timestamp_sql(value)
    return value
