"""The catering user list as CSV (UTF-8 with BOM, for Excel) and XLSX (openpyxl).

Both take the rows of ``review.iter_catering_users``: the same rows (``rows.catering_user_row``),
in the same order, as the paginated list, all pages. Instants are shown in the business
time zone (``tz``, from the settings), with their offset in CSV; XLSX cells hold the local
time (Excel has no time zones). Text typed by people is neutralised so that no cell runs as
a formula. The API and the bureau's pages send them with the same type and headers.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable
from datetime import tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from cylinder_trace.domain.weeks import CheckState

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Premises photos, signatures and personal names must not stay in shared caches.
NO_STORE = {"Cache-Control": "no-store"}


def download_headers(extension: str) -> dict[str, str]:
    """The headers of an export download (``extension``: csv or xlsx)."""
    return {
        **NO_STORE,
        "Content-Disposition": f'attachment; filename="catering-users.{extension}"',
    }


# (field, header, kind). Kinds: text (typed by people: kept from running as a formula),
# code (made by the system), int, bool, instant, date, decimal.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "编号 id", "int"),
    ("name", "名称 name", "text"),
    ("credit_code", "统一社会信用代码 credit_code", "code"),
    ("responsible_person", "负责人 responsible_person", "text"),
    ("phone", "电话 phone", "text"),
    ("address", "地址 address", "text"),
    ("division_code", "区县 division_code", "code"),
    ("division_name", "区县名称 division_name", "code"),
    ("company_id", "供气企业编号 company_id", "int"),
    ("company_name", "供气企业 company_name", "text"),
    ("status", "检查状态 status", "code"),
    ("status_zh", "检查状态（中文） status_zh", "code"),
    ("missed_periods", "漏检周期数 missed_periods", "int"),
    ("last_check_at", "最近检查时间 last_check_at", "instant"),
    ("last_check_week", "最近检查周 last_check_week", "code"),
    ("last_visit_at", "最近上门时间 last_visit_at", "instant"),
    ("open_hazards", "未整改隐患 open_hazards", "int"),
    ("past_deadline_hazards", "逾期未整改隐患 past_deadline_hazards", "int"),
    ("next_hazard_deadline", "最近整改期限 next_hazard_deadline", "date"),
    ("leak_alarm_installed", "报警器已安装 leak_alarm_installed", "bool"),
    ("leak_alarm_working", "报警器正常 leak_alarm_working", "bool"),
    ("leak_alarm_tested_on", "报警器测试日期 leak_alarm_tested_on", "date"),
    ("hose_metal", "金属软管 hose_metal", "bool"),
    ("self_closing_valve", "自闭阀 self_closing_valve", "bool"),
    ("cylinder_storage", "气瓶存放 cylinder_storage", "code"),
    ("cylinders_on_site", "在用气瓶数 cylinders_on_site", "int"),
    ("kg_on_site", "存量公斤 kg_on_site", "decimal"),
    ("premises_floor", "楼层 premises_floor", "int"),
    ("active", "有效 active", "bool"),
)

STATUS_ZH = {
    CheckState.CHECKED_THIS_PERIOD.value: "本周期已检查",
    CheckState.DUE.value: "待检查",
    CheckState.OVERDUE.value: "逾期未检查",
    CheckState.NEVER_CHECKED.value: "从未检查",
}

# A cell starting with one of these is run as a formula by Excel and its relatives.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _values(row: dict[str, Any]) -> dict[str, Any]:
    status = str(row["status"])
    return {**row, "status": status, "status_zh": STATUS_ZH.get(status, status)}


def _csv_formatters(tz: tzinfo) -> list[tuple[str, Callable[[Any], str]]]:
    def text(value: Any) -> str:
        value = str(value)
        return "'" + value if value.startswith(_FORMULA_START) else value

    kinds: dict[str, Callable[[Any], str]] = {
        "text": text,
        "code": str,
        "int": str,
        "decimal": str,
        "bool": lambda value: "1" if value else "0",
        "instant": lambda value: value.astimezone(tz).isoformat(timespec="seconds"),
        "date": lambda value: value.isoformat(),
    }
    return [(name, kinds[kind]) for name, _, kind in COLUMNS]


def catering_csv(rows: Iterable[dict[str, Any]], tz: tzinfo) -> bytes:
    """The rows as CSV: UTF-8 with a BOM (Excel then reads Chinese right), CRLF lines."""
    formatters = _csv_formatters(tz)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title, _ in COLUMNS])
    for row in rows:
        values = _values(row)
        writer.writerow(
            [
                "" if (value := values[name]) is None else formatter(value)
                for name, formatter in formatters
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _xlsx_formatters(sheet: Any, tz: tzinfo) -> list[tuple[str, Callable[[Any], Any] | None]]:
    def text(value: Any) -> Any:
        # Control characters cannot be stored in XLSX at all; and text stays text (no
        # leading quote needed): openpyxl would otherwise store '=…' as a formula.
        value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        if value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    kinds: dict[str, Callable[[Any], Any] | None] = {
        "text": text,
        "code": str,
        "int": None,
        "bool": None,
        "date": None,
        "decimal": float,
        # Excel has no time zones: the local time in ``tz``, the business zone.
        "instant": lambda value: value.astimezone(tz).replace(tzinfo=None),
    }
    return [(name, kinds[kind]) for name, _, kind in COLUMNS]


def catering_xlsx(rows: Iterable[dict[str, Any]], tz: tzinfo) -> bytes:
    """The rows as an XLSX workbook (one sheet, header row frozen), written streaming."""
    # The first row runs the query, and with it the filters' checks: a refused filter
    # raises before the workbook opens, not inside openpyxl's writer, which it would leave
    # open on a temporary file.
    rows = iter(rows)
    first = next(rows, None)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("餐饮用户 catering users")
    sheet.freeze_panes = "A2"
    for index, (name, _, _) in enumerate(COLUMNS, start=1):
        width = 24 if name in ("name", "address", "company_name") else 14
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([title for _, title, _ in COLUMNS])
    formatters = _xlsx_formatters(sheet, tz)
    for row in itertools.chain([first] if first is not None else [], rows):
        values = _values(row)
        sheet.append(
            [
                value if (value := values[name]) is None or formatter is None else formatter(value)
                for name, formatter in formatters
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
