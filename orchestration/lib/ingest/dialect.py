"""Dialect and encoding of a landing file, recognised per file: nobody configures them.

Two dialects exist:
- `standard`: ',' delimiter, '.' decimal point, ISO dates and timestamps, UTF-8 (BOM allowed);
- `german`: ';' delimiter, ',' decimal separator and '.' thousands separator,
  dates as 31.03.2025, usually cp1252.

Detection:
- encoding, the one rule (`choose_encoding`): a file is UTF-8 when it starts with a UTF-8
  byte-order mark, or when its bytes that do not decode as UTF-8 ("stray bytes") are no more
  than its non-ASCII characters that do. So an ASCII file is UTF-8, and so is a UTF-8 file
  with a few stray bytes: each row holding one is rejected as `invalid_encoding`
  (reading.py). Any other file is cp1252 (every German umlaut of a cp1252 file is a stray
  byte in UTF-8), unless it holds a byte undefined in cp1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D):
  then it decodes as neither and is refused. A BOM never reaches a column name;
- delimiter: from the header line, ';' when it holds more ';' than ',';
- decimals follow the delimiter: ';' -> '1.234,56', ',' -> '1234.56';
- dates and timestamps: both ISO and German forms are accepted in either dialect (the two
  forms cannot be confused), see values.py.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.ingest.spec import MAX_RECORD_BYTES

SCAN_BYTES = 8 << 20
UTF8_BOM = codecs.BOM_UTF8
_HIGH_BYTES = bytes(range(0x80, 0x100))
_STRAY = re.compile("[\udc80-\udcff]")  # a byte that did not decode (surrogateescape)


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

    @property
    def text_encoding(self) -> str:
        """The codec that reads the file as text (a UTF-8 BOM dropped)."""
        return "utf-8-sig" if self.encoding == "utf-8" else "cp1252"

    def describe(self) -> str:
        """The load_log text, e.g. "german (delimiter ';', decimal ',', cp1252)"."""
        decimal = "," if self.decimal_comma else "."
        return f"{self.name} (delimiter '{self.delimiter}', decimal '{decimal}', {self.encoding})"


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


def scan_file(path: Path) -> FileScan:
    """One pass over the bytes for the sha256 and the UTF-8 count; a file that is not UTF-8
    by `choose_encoding` is then checked for cp1252. Raises UndecodableFile when the file is
    neither.

    A chunk of pure ASCII is skipped; any other is decoded strictly (fast, and no stray byte
    to count), and only a chunk that fails to decode is decoded again, each stray byte kept as
    a surrogate to be counted. The two decoders hand over the bytes of a character that
    straddles two chunks."""
    digest = hashlib.sha256()
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
    if choose_encoding(count) == "utf-8":
        return FileScan(digest.hexdigest(), "utf-8", count.stray_bytes)
    undefined = first_undefined_cp1252(path)
    if undefined is None:
        return FileScan(digest.hexdigest(), "cp1252", count.stray_bytes)
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
