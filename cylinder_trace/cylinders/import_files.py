"""Reading a cylinder import file: CSV (UTF-8 or GB18030) or XLSX, its header mapped to
field names by the aliases people use, one dict per data row. What the rows mean is
``importing``'s business."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from cylinder_trace.domain.errors import DomainError

MAX_ROWS = 100_000

# Column headers people actually use, English and Chinese, mapped to field names.
HEADER_ALIASES = {
    "code": ("code", "cylinder_code", "气瓶编码", "编码", "二维码编号"),
    "model": ("model", "型号", "气瓶型号"),
    "manufacturer": ("manufacturer", "制造单位", "生产厂家", "制造厂"),
    "serial_no": ("serial_no", "serial", "出厂编号", "钢印号"),
    "manufactured_on": ("manufactured_on", "manufacture_date", "制造日期", "生产日期"),
    "tare_kg": ("tare_kg", "tare", "皮重", "皮重(kg)", "皮重（kg）"),
    "filling_station": ("filling_station", "filling_station_id", "充装站"),
    "last_inspected_on": ("last_inspected_on", "上次检验日期", "检验日期"),
}
REQUIRED = ("code", "model", "manufacturer", "serial_no", "manufactured_on", "tare_kg")
_ALIAS_TO_FIELD = {
    alias.lower(): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}


class ImportFileError(DomainError):
    """The file as a whole cannot be read: wrong type, no header, missing columns."""

    code = "import_file_invalid"


def _decode(data: bytes) -> str:
    # Excel in China saves CSV as GB18030 (GBK) unless told otherwise; UTF-8 with BOM otherwise.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("The CSV file is neither UTF-8 nor GB18030 text.")


def read_csv(data: bytes) -> Iterator[list[Any]]:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        yield from reader
    except csv.Error as exc:  # a cell over the csv module's limit (131,072 characters)
        raise ImportFileError(
            f"Line {reader.line_num} of the CSV file cannot be read: {exc}.",
            details={"line": reader.line_num},
        ) from None


def read_xlsx(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFileError(f"The XLSX file cannot be read: {exc}") from exc
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_table(filename: str, data: bytes) -> Iterator[list[Any]]:
    """Rows of a CSV or XLSX file, chosen by the file's name or its first bytes."""
    name = filename.lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    if name.endswith((".csv", ".txt")) or not name:
        return read_csv(data)
    raise ImportFileError("Send a .csv or .xlsx file.", details={"filename": filename})


def rows_as_dicts(table: Iterable[list[Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(spreadsheet row number, {field: value}) for each non-empty data row."""
    iterator = iter(table)
    header = next(iterator, None)
    if header is None:
        raise ImportFileError("The file is empty.")
    fields = [_ALIAS_TO_FIELD.get(str(cell or "").strip().lower()) for cell in header]
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        raise ImportFileError(
            f"The header lacks the columns: {', '.join(missing)}.",
            details={"missing_columns": missing, "accepted": HEADER_ALIASES},
        )
    for number, row in enumerate(iterator, start=2):
        if number - 1 > MAX_ROWS:
            raise ImportFileError(f"At most {MAX_ROWS} rows per file.")
        values = {name: cell for name, cell in zip(fields, row, strict=False) if name is not None}
        if all(value in (None, "") for value in values.values()):
            continue
        yield number, values
