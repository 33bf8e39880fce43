"""Reading a CSV file with a header row: decoding, header checks and row line numbers.

Shared by the course, centre and participant imports. Line numbers are the file's:
the header is line 1, and a row whose quoted field spans lines is reported at the
line where the row starts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from scheduler.errors import InputError
from scheduler.ingest.records import Problems

BOM = b"\xef\xbb\xbf"


def _not_utf8(name: str, line: int, column: int, byte: bytes) -> InputError:
    return InputError([f"{name}:{line}: not UTF-8 text (byte 0x{byte.hex()} at column "
                       f"{column}); save the file as UTF-8"])


def decode_utf8(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM is dropped); undecodable bytes are an `InputError` with the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _not_utf8(name, line, column, data[exc.start : exc.start + 1]) from None


def utf8_lines(chunks: Iterable[bytes], name: str) -> Iterator[str]:
    """Decode a binary file line by line (it is never held whole in memory, nor decoded
    into one large string); a BOM is dropped, an undecodable byte is an `InputError`."""
    for number, raw in enumerate(chunks, start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(name, number, exc.start + 1, raw[exc.start : exc.start + 1]) from None


class CsvRows:
    """The rows of CSV lines (newlines kept, as `utf8_lines` gives them) as
    (line, {column: cell}), header columns trimmed and lower-cased.

    The header is checked when the object is made: a missing required column, a column
    named twice or an empty file raise `InputError` at once. A row with the wrong number
    of cells is reported to `problems` and skipped; blank rows are skipped silently.
    Unknown columns are read but not checked: the caller ignores what it does not use.
    """

    def __init__(
        self, lines: Iterable[str], name: str, required: Sequence[str], problems: Problems
    ) -> None:
        self.name = name
        self.problems = problems
        self._row_text: list[str] = []  # the lines of the row being read (for errors)
        self._reader = csv.reader(self._recorded(lines), strict=True)
        header: list[str] | None = []
        try:
            while header is not None and not any(cell.strip() for cell in header):
                header = next(self._reader, None)  # blank lines before the header are fine
        except csv.Error as exc:
            raise InputError([f"{name}:{self._reader.line_num}: header: "
                              f"{self._reason(exc, None)}"]) from None
        if header is None:
            raise InputError(
                [f"{name}: empty file (expected a header row: {','.join(required)})"])
        at = f"{name}:{self._reader.line_num}"
        self.columns = [cell.strip().lower() for cell in header]
        errors: list[str] = []
        seen: set[str] = set()
        for col in self.columns:
            if col and col in seen:
                errors.append(f"{at}: header: column {col!r} appears twice")
            seen.add(col)
        missing = [col for col in required if col not in seen]
        if missing and len(self.columns) == 1:
            for sep in (";", "\t", "|"):
                if sep in header[0]:
                    name_sep = {";": "';'", "\t": "tab", "|": "'|'"}[sep]
                    raise InputError([f"{at}: header: columns are separated by {name_sep};"
                                      " use commas (a comma-separated UTF-8 CSV file)"])
        errors += [f"{at}: header: missing column {col!r}" for col in missing]
        if errors:
            raise InputError(errors)
        self._line = self._reader.line_num

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        width = len(self.columns)
        while True:
            start = self._line + 1
            self._row_text.clear()
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader cannot resynchronise after a malformed quote: stop here.
                column = self._overflowing_column(exc)
                self.problems.add(f"{self.name}:{start}", column, self._reason(exc, column))
                return
            self._line = self._reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]  # spreadsheets pad rows with empty cells
            if len(cells) != width:
                self.problems.add(
                    f"{self.name}:{start}", None,
                    f"row has {len(cells)} fields, the header has {width}"
                    " (an unquoted comma or a missing field?)",
                )
                continue
            yield start, dict(zip(self.columns, cells, strict=True))

    def _recorded(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            self._row_text.append(line)
            yield line

    def _overflowing_column(self, exc: csv.Error) -> str | None:
        """The column whose cell broke the field size limit, from the row's text so far."""
        if "field limit" not in str(exc):
            return None
        limit = csv.field_size_limit()
        index, length, quoted = 0, 0, False
        for char in (c for line in self._row_text for c in line):
            if char == '"':
                quoted = not quoted
            elif char == "," and not quoted:
                index, length = index + 1, 0
            else:
                length += 1
                if length > limit:
                    break
        columns = getattr(self, "columns", None)
        if columns is None:
            return f"column {index + 1}"
        return columns[index] if index < len(columns) else f"column {index + 1}"

    @staticmethod
    def _reason(exc: csv.Error, column: str | None) -> str:
        if "field limit" in str(exc):
            return f"longer than {csv.field_size_limit():,} characters (the CSV field size limit)"
        return f"malformed CSV: {exc}"


def file_rows(path: str | Path, required: Sequence[str], problems: Problems) -> CsvRows:
    """The `CsvRows` of the file at `path`, read whole (messages name it as given);
    `InputError` (`NAME: cannot read: reason`) when it cannot be read."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError([f"{name}: cannot read: {exc.strerror or exc}"]) from None
    return CsvRows(utf8_lines(io.BytesIO(data), name), name, required, problems)
