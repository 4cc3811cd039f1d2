"""The customer list as CSV, for spreadsheets: masked ID numbers, safe cells, UTF-8 with BOM."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from cylinder_trace.customers.models import Customer

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "编号 id"),
    ("kind", "类型 kind"),
    ("name", "名称 name"),
    ("id_number_masked", "身份证号码 id_number"),
    ("credit_code", "统一社会信用代码 credit_code"),
    ("responsible_person", "负责人 responsible_person"),
    ("phone", "电话 phone"),
    ("address", "地址 address"),
    ("division_code", "区县 division_code"),
    ("is_catering", "餐饮用户 is_catering"),
    ("premises_type", "场所 premises_type"),
    ("active", "有效 active"),
    ("created_at", "登记时间 created_at"),
)

# A cell starting with one of these is run as a formula by Excel and its relatives
# (CSV injection); names and addresses are typed by customers and staff.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def customers_csv(customers: Iterable[Customer]) -> str:
    """The customers as CSV text; the ID number column holds the masked form only."""
    buffer = io.StringIO()
    # The BOM makes Excel read UTF-8, so Chinese names do not come out garbled.
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title in COLUMNS])
    for customer in customers:
        writer.writerow([_cell(getattr(customer, name)) for name, _ in COLUMNS])
    return buffer.getvalue()
