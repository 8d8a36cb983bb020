"""Dialect and encoding of a landing file, recognised per file: nobody configures them.

Two dialects exist:
- `standard`: ',' delimiter, '.' decimal point, ISO dates and timestamps, UTF-8 (BOM allowed);
- `german`: ';' delimiter, ',' decimal separator and '.' thousands separator,
  dates as 31.03.2025, usually cp1252.

Detection:
- encoding: valid UTF-8 -> utf-8 (a BOM is dropped); else cp1252 if every byte decodes
  (0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252); else the file is undecodable;
- delimiter: from the header line, ';' when it holds more ';' than ',';
- decimals follow the delimiter: ';' -> '1.234,56', ',' -> '1234.56';
- dates and timestamps: both ISO and German forms are accepted in either dialect (the two
  forms cannot be confused), see values.py.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

SCAN_BYTES = 8 << 20


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


def scan_file(path: Path) -> FileScan:
    """One pass over the bytes for the sha256 and UTF-8 validity; a file that is not UTF-8 is
    then decoded as cp1252. Raises UndecodableFile when neither decodes."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_BYTES):
            digest.update(chunk)
            if is_utf8 and not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if is_utf8:
        return FileScan(digest.hexdigest(), "utf-8")
    if decodes_as_cp1252(path):
        return FileScan(digest.hexdigest(), "cp1252")
    raise UndecodableFile("bytes decode neither as UTF-8 nor as cp1252")


def decodes_as_cp1252(path: Path) -> bool:
    """Whether every byte is defined in cp1252 (a one-byte code, so chunks decode alone)."""
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(SCAN_BYTES):
                chunk.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return True


def detect_delimiter(header_line: str) -> str:
    """';' for the German export, ',' otherwise, judged from the header line."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def detect_dialect(path: Path, encoding: str) -> Dialect:
    """The dialect of a file whose encoding is known."""
    probe = Dialect(encoding=encoding, delimiter=",")
    with open(path, encoding=probe.text_encoding, newline="") as handle:
        header_line = handle.readline()
    return Dialect(encoding=encoding, delimiter=detect_delimiter(header_line))
