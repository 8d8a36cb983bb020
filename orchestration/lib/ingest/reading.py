"""Reading a landing file: every record with the physical line where it starts, or the reason
why it could not be read.

DuckDB has no cp1252, and it neither reports physical line numbers nor tolerates ragged
records next to quoted newlines. So the file is streamed once through Python's C csv reader
into a temp UTF-8 file with a fixed column count plus four columns (`RECORD_COLUMNS`): the
physical line where the record starts (quoted fields may span lines; the header is line 1),
the number of fields the record really had, and for a record that could not be read, its
reason code and a detail. DuckDB then reads that file as the `_src` view of the load
(`records_sql`); the loader compares DuckDB's row count with `Records.rows`.

A plain file skips that stream: UTF-8 without a stray byte, one record per line, every line
with the header's field count and only well-formed quotes (`plain_records`, checked with
numpy). Python's reader and DuckDB's split such a file alike, so DuckDB reads the file itself
and numbers its records (record n starts on line n + 1); the result is the same `_src`.

Lines end in \\n, \\r\\n or \\r. Blank lines are no records. Per record:
- longer than spec.MAX_RECORD_BYTES (its bytes in the file, line breaks included):
  `record_too_long`. Lines are read at most that many bytes at a time, so memory stays bounded
  even for a file without a single line break: the rest of such a record is only scanned for
  where it ends (`QuoteScanner`), never kept;
- bytes that do not decode in the file's encoding (dialect.py): `invalid_encoding`, each
  such byte shown as U+FFFD in the raw record.
File-level problems raise UnreadableFile: an unclosed quote (the file ends inside a quoted
field; the error names the line where that quote opens), and a header that is too long or
does not decode.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.ingest.dialect import Dialect
from orchestration.lib.ingest.spec import INVALID_ENCODING, MAX_RECORD_BYTES, RECORD_TOO_LONG

BOM = "\ufeff"
# after the header's columns c0.., the temp file holds these (DuckDB types)
RECORD_COLUMNS = (
    ("line_number", "BIGINT"), ("n_fields", "INTEGER"),
    ("problem", "VARCHAR"), ("problem_detail", "VARCHAR"),
)
# DuckDB's longest line in the temp file: a record of MAX_RECORD_BYTES grows up to threefold
# in UTF-8 (a cp1252 '€' is 3 bytes) or by doubled quotes, plus padding to the header's width
TEMP_LINE_BYTES = 4 * MAX_RECORD_BYTES
SHOWN_CHARS = 60  # how much of an over-long record its detail shows

# Python's csv module refuses fields above 128 KiB by default; MAX_RECORD_BYTES is the limit.
csv.field_size_limit(MAX_RECORD_BYTES + 1)


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; the message names the line."""


@dataclass(frozen=True)
class Records:
    """What DuckDB reads as `_src`: the temp UTF-8 file of `normalise` (header-count columns,
    then RECORD_COLUMNS), or a plain landing file itself (`plain_records`)."""

    path: Path
    header: list[str]  # as in the file, BOM removed
    rows: int  # records: every record of the file after the header
    delimiter: str = ","  # of a plain file; the temp file is comma-delimited
    plain: bool = False  # the landing file itself: record n starts on line n + 1


# --- where a record ends, without keeping it ------------------------------------------------

_FIELD_START, _IN_FIELD, _IN_QUOTED, _QUOTE_IN_QUOTED = range(4)


class QuoteScanner:
    """Follows a record through its text the way Python's csv reader does (quote '"',
    doubled quotes, a quote inside an unquoted field is a character), only to learn where the
    record ends and on which line its last quoted field opened. Used for the rare records
    that are not parsed: over-long ones, and one that reaches the end of the file."""

    def __init__(self, delimiter: str):
        self.delimiter = delimiter
        self._field_end = re.compile(f"[{re.escape(delimiter)}\r\n]")
        self.state = _FIELD_START
        self.open_line: int | None = None  # the line of the last quote that opened a field

    @property
    def in_quotes(self) -> bool:
        return self.state in (_IN_QUOTED, _QUOTE_IN_QUOTED)

    def feed(self, text: str, line: int) -> bool:
        """Advance over `text` (part of physical line `line`); True when the record ends
        within it (its line break outside quotes)."""
        i, n = 0, len(text)
        while i < n:
            if self.state == _IN_QUOTED:
                j = text.find('"', i)
                if j < 0:
                    return False
                self.state, i = _QUOTE_IN_QUOTED, j + 1
                continue
            char = text[i]
            if self.state == _IN_FIELD:
                found = self._field_end.search(text, i)
                if found is None:
                    return False
                char, i = found.group(), found.start()
            if char in "\r\n":
                return True
            if char == self.delimiter:
                self.state = _FIELD_START
            elif char == '"' and self.state == _QUOTE_IN_QUOTED:
                self.state = _IN_QUOTED  # a doubled quote
            elif char == '"' and self.state == _FIELD_START:
                self.state, self.open_line = _IN_QUOTED, line
            else:
                self.state = _IN_FIELD
            i += 1
        return False


# --- the physical lines, fed to the csv reader ----------------------------------------------

_PIECE = MAX_RECORD_BYTES + 1  # read at most this much of a line at a time


class _Lines:
    """The csv reader's iterator of lines (`lines()`), and what it learned of the record the
    reader returned last (start, size, lines, bad_bytes, too_long_end).

    The file is read as latin-1 (one character per byte, never failing), so that a line's
    length is its byte count; each line is then decoded on its own with the file's encoding
    (an ASCII line as it is). The reader pulls lines until a record is complete: a pull
    before the record was taken (`take`) means that it continues inside a quoted field. An
    over-long record is cut short: its remaining lines are only scanned for its end
    (QuoteScanner), and the reader is handed a line that ends its record at once ('"\\n'
    inside quotes, '\\n' at a record's start).
    """

    def __init__(self, handle, dialect: Dialect):
        self.handle = handle
        self.dialect = dialect
        self.line = 0  # physical lines read
        self.pulled = False  # lines pulled since the last record was taken
        self.unclosed_at: int | None = None  # set when the file ends inside a quote
        # the current record
        self.start = 0  # its first physical line
        self.size = 0  # its bytes so far
        self.lines_read: list[tuple[int, str]] = []  # (line, text as latin-1)
        self.bad_bytes: list[int] = []  # bytes that did not decode
        self.too_long_end = 0  # the last line of an over-long record (0: not over-long)

    def take(self) -> None:
        """The reader returned its record; the next pull starts a new one."""
        self.pulled = False

    def lines(self) -> Iterator[str]:
        readline = self.handle.readline
        encoding = self.dialect.encoding
        ahead = ""  # a piece read while looking for the '\\n' of a '\\r\\n'
        while True:
            if ahead:
                piece, ahead = ahead, ""
            else:
                piece = readline(_PIECE)
                if not piece:
                    break
            if self.pulled:
                inside = True
                self.size += len(piece)
            else:
                self.pulled, inside = True, False
                self.start, self.size, self.lines_read = self.line + 1, len(piece), []
                if self.bad_bytes:
                    self.bad_bytes = []
                self.too_long_end = 0
            if self.size > MAX_RECORD_BYTES:
                text, ahead = self._skip_rest(piece, inside)
                yield text
                continue
            self.line += 1
            self.lines_read.append((self.line, piece))
            if piece.isascii():
                yield piece
                continue
            data = piece.encode("latin-1")
            try:
                yield data.decode(encoding)
            except UnicodeDecodeError:
                text = data.decode(encoding, "surrogateescape")
                self.bad_bytes += [ord(c) - 0xDC00 for c in _ESCAPED.findall(text)]
                yield _ESCAPED.sub("\ufffd", text)
        if self.pulled:
            self.unclosed_at = self._scan(self.lines_read).open_line or self.start

    def _scan(self, lines: list[tuple[int, str]]) -> QuoteScanner:
        scanner = QuoteScanner(self.dialect.delimiter)
        for line, text in lines:
            scanner.feed(text, line)
        return scanner

    def _read(self) -> tuple[str, str]:
        """The next piece of a line (see _PIECE), and a piece read ahead. A piece cut right
        after a '\\r' takes a following '\\n' along, so that '\\r\\n' ends one line."""
        piece = self.handle.readline(_PIECE)
        if len(piece) == _PIECE and piece.endswith("\r"):
            following = self.handle.readline(_PIECE)
            if following != "\n":
                return piece, following
            piece += following
        return piece, ""

    def _skip_rest(self, piece: str, inside: bool) -> tuple[str, str]:
        """Scan the over-long record to its end, keeping nothing of it but its first line.
        Returns the line that ends the reader's record, and a piece read ahead."""
        scanner = self._scan(self.lines_read)
        self.lines_read = self.lines_read[:1] or [(self.line + 1, piece)]  # for its detail
        ahead = ""
        if len(piece) == _PIECE and piece.endswith("\r"):
            following = self.handle.readline(_PIECE)
            if following == "\n":
                piece += following
            else:
                ahead = following
        while True:
            if piece.endswith(("\n", "\r")) or len(piece) < _PIECE:
                self.line += 1  # a whole line (or the file's last piece)
                ended = scanner.feed(piece, self.line)
            else:
                ended = scanner.feed(piece, self.line + 1)
            if ended:
                break
            if ahead:
                piece, ahead = ahead, ""
            else:
                piece, ahead = self._read()
            if not piece:
                if scanner.in_quotes:
                    self.unclosed_at = scanner.open_line or self.start
                break
            self.size += len(piece)
        self.too_long_end = self.line
        return ('"\n' if inside else "\n"), ahead


_ESCAPED = re.compile("[\udc80-\udcff]")


def _problem(record: _Lines, encoding: str) -> tuple[str, str] | None:
    """(reason, detail) of the record just read, when it could not be read; else None."""
    if record.too_long_end:
        lines = (f"line {record.start}" if record.too_long_end == record.start
                 else f"lines {record.start} to {record.too_long_end}")
        first = record.lines_read[0][1] if record.lines_read else ""
        shown = first[:SHOWN_CHARS].encode("latin-1").decode(encoding, "replace")
        return RECORD_TOO_LONG, (
            f"record of {record.size:,} bytes ({lines}) is longer than the limit of "
            f"{MAX_RECORD_BYTES:,} bytes; it starts '{shown}…'"
        )
    if record.bad_bytes:
        shown = " ".join(f"0x{b:02X}" for b in record.bad_bytes[:5])
        more = f" and {len(record.bad_bytes) - 5} more" if len(record.bad_bytes) > 5 else ""
        return INVALID_ENCODING, f"bytes {shown}{more} do not decode as {encoding}"
    return None


def _unclosed(lines: _Lines) -> None:
    if lines.unclosed_at is not None:
        raise UnreadableFile(
            f"unclosed quote: the quoted field opened in line {lines.unclosed_at} never closes"
        )


def normalise(path: Path, dialect: Dialect, out_path: Path) -> Records:
    """Stream `path` into a comma-delimited UTF-8 file with a fixed column count.

    Every output record holds the header's field count of values (short records padded with
    empty values, surplus values dropped; an over-long record's values all empty), then the
    RECORD_COLUMNS. Raises UnreadableFile for an unclosed quote or an unreadable header.
    """
    rows = 0
    with (
        open(path, encoding="latin-1", newline="") as source,
        open(out_path, "w", encoding="utf-8", newline="") as target,
    ):
        lines = _Lines(source, dialect)
        reader = csv.reader(lines.lines(), delimiter=dialect.delimiter, quotechar='"')
        header = _header(reader, lines, dialect)
        width = len(header)
        # '\r\n' ends a temp record: the writer then quotes a field holding a lone '\r' too
        writer = csv.writer(target, lineterminator="\r\n")
        empty = [""] * width
        for fields in reader:
            lines.take()
            if lines.too_long_end or lines.bad_bytes:
                _unclosed(lines)
                reason, detail = _problem(lines, dialect.encoding)
                if reason == RECORD_TOO_LONG:
                    fields = []
                writer.writerow([*(fields + empty)[:width], lines.start, len(fields),
                                 reason, detail])
            elif fields:
                _unclosed(lines)
                count = len(fields)
                if count != width:
                    fields = (fields + empty)[:width]
                fields += (lines.start, count, "", "")
                writer.writerow(fields)
            else:
                continue  # a blank line
            rows += 1
    return Records(path=out_path, header=header, rows=rows)


def _header(reader, lines: _Lines, dialect: Dialect) -> list[str]:
    """The header record, BOM removed; UnreadableFile when it cannot be read."""
    header = next(reader, [])
    lines.take()
    _unclosed(lines)
    problem = _problem(lines, dialect.encoding)
    if problem is not None:
        raise UnreadableFile(f"the header (line 1) cannot be read: {problem[1]}")
    if header and header[0].startswith(BOM):
        header[0] = header[0][len(BOM):]
    return header


# --- the plain file: DuckDB reads it as it is -------------------------------------------------

PLAIN_CHUNK = 8 << 20
_NL, _QUOTE = ord("\n"), ord('"')


def plain_records(path: Path, dialect: Dialect) -> Records | None:
    """The file itself as the records, when DuckDB's reader gives exactly what `normalise`
    would; else None (then `normalise` it).

    That holds for a UTF-8 file without a stray byte (the caller's to know, dialect.FileScan)
    whose layout is plain (`plain_lines`): every record is one line, so record n starts on
    line n + 1, and every line has the header's field count. The header is read as
    `normalise` reads it."""
    if dialect.encoding != "utf-8":
        return None
    with open(path, encoding="latin-1", newline="") as source:
        lines = _Lines(source, dialect)
        reader = csv.reader(lines.lines(), delimiter=dialect.delimiter, quotechar='"')
        try:
            header = _header(reader, lines, dialect)
        except UnreadableFile:
            return None
    count = plain_lines(path, dialect.delimiter, len(header)) if header else None
    if count is None:
        return None
    return Records(path=path, header=header, rows=count - 1, delimiter=dialect.delimiter,
                   plain=True)


def plain_lines(path: Path, delimiter: str, width: int) -> int | None:
    """The physical lines of a file whose layout is plain, else None. Plain means, checked
    with numpy a chunk at a time:

    - line breaks are '\n' only (no '\r'), no NUL byte, no blank line, and no line (its
      break included) longer than MAX_RECORD_BYTES;
    - every '"' belongs to a well-formed quoted field: it opens a field (after a delimiter or
      at a line start), closes one (before a delimiter or a line end), or is doubled inside
      one; no quoted field holds a line break;
    - every line holds `width` - 1 delimiters outside quotes.
    On such a file Python's csv reader and DuckDB's strict reader split the same fields.
    """
    import numpy as np

    delim = ord(delimiter)
    borders = (delim, _NL, _QUOTE)
    quotes = 0  # quotes before the chunk
    offset = line_start = 0  # the chunk's offset; where the current line starts
    open_fields = 0  # delimiters outside quotes in the current line, before the chunk
    lines = 0
    last = _NL  # the byte before the chunk: a line start
    close_at_end = False  # the chunk ended in a closing quote: a border must follow
    with open(path, "rb") as handle:
        while chunk := handle.read(PLAIN_CHUNK):
            if b"\r" in chunk or b"\0" in chunk:
                return None
            data = np.frombuffer(chunk, dtype=np.uint8)
            if close_at_end and data[0] not in borders:
                return None
            breaks = np.flatnonzero(data == _NL)
            delims = np.flatnonzero(data == delim)
            marks = np.flatnonzero(data == _QUOTE)
            if len(marks):
                opening = (np.arange(len(marks)) + quotes) % 2 == 0
                opens, closes = marks[opening], marks[~opening]
                before = np.where(opens > 0, data[np.maximum(opens - 1, 0)], last)
                after = data[closes[closes < len(data) - 1] + 1]
                if not (np.isin(before, borders).all() and np.isin(after, borders).all()):
                    return None
                if ((np.searchsorted(marks, breaks) + quotes) % 2).any():
                    return None  # a line break inside quotes
                delims = delims[(np.searchsorted(marks, delims) + quotes) % 2 == 0]
                close_at_end = bool(len(closes)) and closes[-1] == len(data) - 1
                quotes += len(marks)
            else:
                close_at_end = False
                if quotes % 2:  # the whole chunk inside one quoted field
                    if len(breaks):
                        return None
                    delims = delims[:0]
            if len(breaks):
                ends = breaks + offset
                lengths = np.diff(np.concatenate(([line_start - 1], ends)))
                if lengths.min() < 2 or lengths.max() > MAX_RECORD_BYTES:
                    return None
                fields = np.diff(np.searchsorted(delims, np.concatenate(([-1], breaks))))
                fields[0] += open_fields
                if (fields != width - 1).any():
                    return None
                open_fields = len(delims) - int(np.searchsorted(delims, breaks[-1]))
                line_start = int(ends[-1]) + 1
                lines += len(breaks)
            else:
                open_fields += len(delims)
            offset += len(data)
            last = int(data[-1])
    if quotes % 2:
        return None
    if offset > line_start:  # the last line has no line break
        if offset - line_start > MAX_RECORD_BYTES or open_fields != width - 1:
            return None
        lines += 1
    return lines


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


def records_sql(records: Records) -> str:
    """The SELECT of the `_src` view: c0.. (VARCHAR), then RECORD_COLUMNS."""
    width = len(records.header)
    types = {f"c{i}": "VARCHAR" for i in range(width)} | dict(RECORD_COLUMNS)
    if records.rows == 0:
        cols = ", ".join(f"NULL::{kind} as {name}" for name, kind in types.items())
        return f"select {cols} limit 0"
    path = "'" + str(records.path).replace("'", "''") + "'"
    if records.plain:
        # the header line skipped; DuckDB reads a file's records in order, one per line
        values = {f"c{i}": "VARCHAR" for i in range(width)}
        columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in values.items()) + "}"
        return (
            f"select {', '.join(values)}, row_number() over () + 1 as line_number, "
            f"{width}::INTEGER as n_fields, NULL::VARCHAR as problem, "
            f"NULL::VARCHAR as problem_detail "
            f"from read_csv({path}, header = false, skip = 1, delim = '{records.delimiter}', "
            f"quote = '\"', escape = '\"', columns = {columns}, auto_detect = false, "
            f"strict_mode = true, null_padding = false, max_line_size = {TEMP_LINE_BYTES})"
        )
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    return (
        f"select * from read_csv({path}, header = false, delim = ',', quote = '\"', "
        f"escape = '\"', new_line = '\\r\\n', columns = {columns}, auto_detect = false, "
        f"max_line_size = {TEMP_LINE_BYTES}, buffer_size = {4 * TEMP_LINE_BYTES})"
    )
