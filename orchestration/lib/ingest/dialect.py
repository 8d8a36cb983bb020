"""Dialect and encoding of a landing file, recognised per file, and the number format of each
of its number columns, decided from the column's values.

Two dialects are common:
- `standard`: ',' delimiter, '.' decimal point, ISO dates and timestamps, UTF-8 (BOM allowed);
- `german`: ';' delimiter, ',' decimal separator and '.' thousands separator,
  dates as 31.03.2025, usually cp1252.
Many systems mix them (';' with a decimal point, for example), so delimiter and number format
are decided apart.

Detection:
- encoding, the one rule (`choose_encoding`): a file is UTF-8 when it starts with a UTF-8
  byte-order mark, or when its bytes that do not decode as UTF-8 ("stray bytes") are no more
  than its non-ASCII characters that do. So an ASCII file is UTF-8, and so is a UTF-8 file
  with a few stray bytes: each row holding one is rejected as `invalid_encoding`
  (reading.py). Any other file is cp1252 (every German umlaut of a cp1252 file is a stray
  byte in UTF-8), unless it holds a byte undefined in cp1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D):
  then it decodes as neither and is refused. A BOM never reaches a column name;
- delimiter: from the header line, ';' when it holds more ';' than ',';
- numbers, per decimal column, from all its values (`decide_number_formats`): a value such
  as '1234.56' or '8000.00' reads only with a decimal point ("point"), one such as '1234,56' or
  '1.234.567' only with a decimal comma ("comma"), one such as '1.500' or '12.345' both ways,
  with values 1,000 times apart ("ambiguous"); an integer such as '8000' reads alike either
  way. A column with values of one kind only takes that format. A column with ambiguous values
  and neither kind takes the format of the file's other decimal columns when those agree; else
  nothing in the file decides, and the file is refused (one line: the file, the column, a
  value). A column holding values of both kinds is refused likewise. A stated format
  (settings.number_format: per extract, or for all) replaces the decision: values of the other
  format are then rejected row by row as `invalid_number`. The loader never guesses;
- dates and timestamps: both ISO and German forms are accepted in either dialect (the two
  forms cannot be confused, so a date column has nothing to decide), see values.py.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.ingest.spec import MAX_RECORD_BYTES
from orchestration.lib.ingest.values import COMMA_NUMBER, POINT_NUMBER

SCAN_BYTES = 8 << 20
UTF8_BOM = codecs.BOM_UTF8
_HIGH_BYTES = bytes(range(0x80, 0x100))
_STRAY = re.compile("[\udc80-\udcff]")  # a byte that did not decode (surrogateescape)


class UndecodableFile(ValueError):
    """The bytes decode neither as UTF-8 nor as cp1252."""


class UndecidedNumbers(ValueError):
    """A decimal column whose number format nothing in the file decides; the message names the
    column and a value (the caller adds the file)."""


@dataclass(frozen=True)
class Dialect:
    """What was detected for one file; `decimals` (column, ',' or '.') once decided."""

    encoding: str  # "utf-8" | "cp1252"
    delimiter: str  # "," | ";"
    decimals: tuple[tuple[str, str], ...] = ()

    @property
    def usual_decimal(self) -> str:
        """The decimal mark that goes with the delimiter, for a column whose values read
        alike either way."""
        return "," if self.delimiter == ";" else "."

    @property
    def decimal_marks(self) -> set[str]:
        return {mark for _, mark in self.decimals} or {self.usual_decimal}

    @property
    def name(self) -> str:
        if self.decimal_marks == {self.usual_decimal}:
            return "german" if self.delimiter == ";" else "standard"
        return "mixed"

    @property
    def text_encoding(self) -> str:
        """The codec that reads the file as text (a UTF-8 BOM dropped)."""
        return "utf-8-sig" if self.encoding == "utf-8" else "cp1252"

    def decimal_comma(self, column: str) -> bool:
        """Whether a decimal column reads '1.234,56' (else '1234.56')."""
        return dict(self.decimals).get(column, self.usual_decimal) == ","

    def describe(self) -> str:
        """The load_log text, e.g. "german (delimiter ';', decimal ',', cp1252)", or
        "mixed (delimiter ';', decimal '.', cp1252)"; with columns of both formats, each
        named: "mixed (delimiter ';', decimal ',' in a, '.' in b, cp1252)"."""
        marks = self.decimal_marks
        if len(marks) == 1:
            decimal = f"decimal '{marks.pop()}'"
        else:
            decimal = "decimal " + ", ".join(f"'{mark}' in {column}"
                                             for column, mark in self.decimals)
        return f"{self.name} (delimiter '{self.delimiter}', {decimal}, {self.encoding})"


@dataclass(frozen=True)
class FileScan:
    sha256: str
    encoding: str  # "utf-8" | "cp1252"
    stray_bytes: int = 0  # bytes that do not decode as UTF-8 (of a UTF-8 file: its bad rows)

    @property
    def clean_utf8(self) -> bool:
        """UTF-8 without a single stray byte: no row can be `invalid_encoding`."""
        return self.encoding == "utf-8" and self.stray_bytes == 0


@dataclass(frozen=True)
class Utf8Count:
    """What a file holds in UTF-8 terms."""

    bom: bool  # starts with a UTF-8 byte-order mark
    characters: int  # non-ASCII characters that decode as UTF-8
    stray_bytes: int  # bytes that do not decode as UTF-8


def choose_encoding(count: Utf8Count) -> str:
    """The encoding rule of the module docstring: "utf-8", or "cp1252" to be checked."""
    if count.bom or count.stray_bytes <= count.characters:
        return "utf-8"
    return "cp1252"


def scan_file(path: Path, sha256: str | None = None) -> FileScan:
    """One pass over the bytes for the sha256 and the UTF-8 count; a file that is not UTF-8
    by `choose_encoding` is then checked for cp1252. Raises UndecodableFile when the file is
    neither. `sha256`, the digest of the file's bytes when the caller knows it already
    (landing.Digests: hashed by the load's look at the landing, the file unchanged since), is
    taken as it is instead of hashing the bytes a second time.

    A chunk of pure ASCII is skipped; any other is decoded strictly (fast, and no stray byte
    to count), and only a chunk that fails to decode is decoded again, each stray byte kept as
    a surrogate to be counted. The two decoders hand over the bytes of a character that
    straddles two chunks."""
    digest = hashlib.sha256() if sha256 is None else None
    strict = codecs.getincrementaldecoder("utf-8")("strict")
    lenient = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    chars = ascii_bytes = stray = 0
    bom = None

    def counted(chunk: bytes, final: bool = False) -> tuple[int, int]:
        """Characters decoded and stray bytes of one chunk."""
        try:
            return len(strict.decode(chunk, final)), 0
        except UnicodeDecodeError:
            lenient.setstate(strict.getstate())
            text = lenient.decode(chunk, final)
            strict.setstate(lenient.getstate())
            return len(text), len(_STRAY.findall(text))

    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_BYTES):
            if bom is None:
                bom = chunk.startswith(UTF8_BOM)
            if digest is not None:
                digest.update(chunk)
            if chunk.isascii() and not strict.getstate()[0]:
                continue
            decoded, strays = counted(chunk)
            chars += decoded
            stray += strays
            ascii_bytes += len(chunk.translate(None, _HIGH_BYTES))
        decoded, strays = counted(b"", final=True)
        chars += decoded
        stray += strays
    count = Utf8Count(bool(bom), chars - ascii_bytes - stray, stray)
    found = sha256 if digest is None else digest.hexdigest()
    if choose_encoding(count) == "utf-8":
        return FileScan(found, "utf-8", count.stray_bytes)
    undefined = first_undefined_cp1252(path)
    if undefined is None:
        return FileScan(found, "cp1252", count.stray_bytes)
    byte, line = undefined
    raise UndecodableFile(
        f"bytes decode neither as UTF-8 ({count.stray_bytes:,} stray bytes, more than the "
        f"{count.characters:,} characters that decode) nor as cp1252 (byte 0x{byte:02X} in "
        f"line {line} is undefined there)"
    )


def first_undefined_cp1252(path: Path) -> tuple[int, int] | None:
    """The first byte undefined in cp1252 and its line (counting '\\n'), or None when every
    byte decodes (a one-byte code, so chunks decode alone)."""
    lines = 1
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_BYTES):
            try:
                chunk.decode("cp1252")
            except UnicodeDecodeError as error:
                return chunk[error.start], lines + chunk.count(b"\n", 0, error.start)
            lines += chunk.count(b"\n")
    return None


def detect_delimiter(header_line: str) -> str:
    """';' for the German export, ',' otherwise, judged from the header line."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def detect_dialect(path: Path, encoding: str) -> Dialect:
    """The dialect of a file whose encoding is known."""
    probe = Dialect(encoding=encoding, delimiter=",")
    with open(path, encoding=probe.text_encoding, errors="replace", newline="") as handle:
        header_line = handle.readline(MAX_RECORD_BYTES)
    return Dialect(encoding=encoding, delimiter=detect_delimiter(header_line))


# --- the number format of each decimal column ----------------------------------------------

KINDS = ("point", "comma", "ambiguous")
MARKS = {"point": ".", "comma": ","}


@dataclass(frozen=True)
class ColumnNumbers:
    """The first value (line, text) of each kind in one decimal column; None: no such value."""

    column: str
    point: tuple[int, str] | None = None
    comma: tuple[int, str] | None = None
    ambiguous: tuple[int, str] | None = None


# a kind of value seen in a column, its line and value not read (number_formats)
SEEN = (0, "")


def _kind_conditions(position: int) -> tuple[str, dict[str, str]]:
    """The value of the field at `position`, and the condition of each kind (module
    docstring) on it."""
    value = f"nullif(trim(c{position}), '')"
    point, comma = f"^{POINT_NUMBER}$", f"^{COMMA_NUMBER}$"
    is_point, is_comma = (f"regexp_full_match({value}, '{point}')",
                          f"regexp_full_match({value}, '{comma}')")
    return value, {
        "point": f"{is_point} and not {is_comma}",
        "comma": f"{is_comma} and not {is_point}",
        "ambiguous": f"{is_point} and {is_comma} and contains({value}, '.')",
    }


def number_kinds_sql(columns: dict[str, int], source: str = "_src", lines: bool = True) -> str:
    """SELECT over `source` (reading.records_sql): per decimal column (name -> field position)
    the first line and text of each kind (module docstring), in one pass. A record that could
    not be read (its `problem`) is left out. With `lines` false, only whether each kind is
    there: a query that reads no line number, which DuckDB runs on all its threads (it numbers
    a CSV file's records in one)."""
    parts = []
    for i, position in enumerate(columns.values()):
        value, conditions = _kind_conditions(position)
        for kind, condition in conditions.items():
            if not lines:
                parts.append(f"bool_or({condition}) as l{i}_{kind}")
                continue
            parts.append(f"min(line_number) filter (where {condition}) as l{i}_{kind}, "
                         f"arg_min({value}, line_number) filter (where {condition}) "
                         f"as v{i}_{kind}")
    return (f"select {', '.join(parts)} from {source} "
            "where problem is null or problem = ''")


def column_numbers(con, columns: dict[str, int], source: str = "_src",
                   lines: bool = True) -> list[ColumnNumbers]:
    """`number_kinds_sql` run on `con`: one ColumnNumbers per decimal column. With `lines`
    false, a kind that is there is SEEN, without its line and text."""
    if not columns:
        return []
    row = con.execute(number_kinds_sql(columns, source, lines)).fetchone()
    found = []
    for i, name in enumerate(columns):
        firsts = {}
        for j, kind in enumerate(KINDS):
            if not lines:
                firsts[kind] = SEEN if row[3 * i + j] else None
                continue
            line, text = row[6 * i + 2 * j], row[6 * i + 2 * j + 1]
            firsts[kind] = (int(line), text) if line is not None else None
        found.append(ColumnNumbers(name, **firsts))
    return found


def number_formats(con, columns: dict[str, int], stated: str | None, setting: str,
                   source: str = "_src") -> tuple[tuple[str, str], ...]:
    """decide_number_formats on the values of `source` (column name -> field position). The
    decision needs only which kinds each column holds (`_decide`): that pass reads no line
    number. Only when it refuses the file is the source read again, for the lines and values
    its message names. Raises UndecidedNumbers."""
    if stated is not None:
        return decide_number_formats([ColumnNumbers(name) for name in columns], stated,
                                     setting)
    decided, refused = _decide(column_numbers(con, columns, source, lines=False))
    if refused is None:
        return decided
    # the same kinds, so the same refusal, now with the first line and value of each
    return decide_number_formats(column_numbers(con, columns, source), None, setting)


def _both_ways(text: str) -> str:
    """"1.5 with a decimal point or as 1500 with a decimal comma" for an ambiguous value
    such as '1.500'."""
    sign, digits = (text[0], text[1:]) if text[0] in "+-" else ("", text)
    as_point = sign + digits.rstrip("0").rstrip(".")
    as_comma = sign + str(int(digits.replace(".", "")))
    return f"{as_point} with a decimal point or as {as_comma} with a decimal comma"


def decide_number_formats(
    found: list[ColumnNumbers], stated: str | None, setting: str,
) -> tuple[tuple[str, str], ...]:
    """The decimal mark (',' or '.') of each decimal column by the rule of the module
    docstring; `stated` is the setting's format ("point" | "comma" | None), `setting` its
    name for the message. A column whose values read alike either way is left out (it reads
    with the delimiter's usual mark). Raises UndecidedNumbers."""
    if stated is not None:
        return tuple((f.column, MARKS[stated]) for f in found)
    decided, refused = _decide(found)
    if refused is None:
        return decided
    f = refused
    if f.point and f.comma:
        raise UndecidedNumbers(
            f"column {f.column} holds numbers with a decimal point ('{f.point[1]}', line "
            f"{f.point[0]}) and with a decimal comma ('{f.comma[1]}', line {f.comma[0]}); "
            f"state its format with {setting}=point or =comma (values of the other "
            "format are then rejected as invalid_number)"
        )
    line, text = f.ambiguous
    raise UndecidedNumbers(
        f"column {f.column}: '{text}' (line {line}) reads as {_both_ways(text)}, and "
        f"no value in the file decides which; state the format with {setting}=point "
        "or =comma"
    )


def _decide(found: list[ColumnNumbers]
            ) -> tuple[tuple[tuple[str, str], ...], ColumnNumbers | None]:
    """The rule of decide_number_formats without a stated format: the decided marks, and the
    first column that refuses the file (None: none does). It reads only which kinds each
    column holds, never their lines or values."""
    decided: dict[str, str] = {}
    for f in found:
        if f.point and f.comma:
            return (), f
        if f.point or f.comma:
            decided[f.column] = "point" if f.point else "comma"
    file_format = set(decided.values())
    for f in found:
        if f.column in decided or not f.ambiguous:
            continue
        if len(file_format) != 1:
            return (), f
        decided[f.column] = next(iter(file_format))
    return tuple((f.column, MARKS[decided[f.column]]) for f in found if f.column in decided), None
