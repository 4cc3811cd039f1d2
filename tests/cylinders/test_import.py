"""Bulk import from CSV and XLSX: bad rows reported, good rows stored, re-import a no-op."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from tests.assertions import assert_error
from tests.world import World

HEADER = "code,model,manufacturer,serial_no,manufactured_on,tare_kg,last_inspected_on\n"
MIXED = HEADER + (
    "CQDZ-100001,YSP35.5,重庆钢瓶厂,A1,2024-01-10,16.4,\n"  # row 2 good
    "CQDZ-100002,YSP99,重庆钢瓶厂,A2,2024-01-10,16.4,\n"  # row 3 unknown model
    "CQDZ-100003,ysp12,重庆钢瓶厂,A3,2024/2/29,6.1,\n"  # row 4 good (lower-case model, / dates)
    "bad code!,YSP12,重庆钢瓶厂,A4,2024-01-10,6.1,\n"  # row 5 bad code
    "CQDZ-100005,YSP12,重庆钢瓶厂,A5,2024-13-01,6.1,\n"  # row 6 bad date
    "CQDZ-100006,YSP12,重庆钢瓶厂,A6,2024-01-10,heavy,\n"  # row 7 bad tare
    ",,,,,,\n"  # blank line: skipped, not an error
    "CQDZ-100008,YSP12,重庆钢瓶厂,A1,2024-01-10,6.1,\n"  # row 9 serial repeated in file
    "CQDZ-100009,YSP118,重庆钢瓶厂,A9,2000-01-10,60,\n"  # row 10 past scrap date
    "CQDZ-100010,YSP118,重庆钢瓶厂,A10,2022-05-01,60,2026-05-02\n"  # row 11 good, inspected
)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Cylinder))


def upload(client: FlaskClient, world: World, data: bytes, name: str, who: str = "a_operator"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/cylinders/import",
        data={"file": (io.BytesIO(data), name)},
        headers=world.auth(who),
        content_type="multipart/form-data",
    )


def test_mixed_file_stores_good_rows_and_reports_bad_ones(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    response = upload(client, world, MIXED.encode("utf-8"), "cylinders.csv")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["rows"], report["created"], report["unchanged"], report["rejected"]) == (
        9,
        3,
        0,
        6,
    )
    assert [(e["row"], e["code"]) for e in report["errors"]] == [
        (3, "cylinder_model_unknown"),
        (5, "cylinder_code_invalid"),
        (6, "row_date_invalid"),
        (7, "row_number_invalid"),
        (9, "duplicate_in_file"),
        (10, "past_scrap_date"),
    ]
    assert count(db_session) == 3
    stored = db_session.scalars(select(Cylinder).order_by(Cylinder.code)).all()
    assert [c.code for c in stored] == ["CQDZ-100001", "CQDZ-100003", "CQDZ-100010"]
    assert stored[1].model == "YSP12"
    assert stored[1].manufactured_on == date(2024, 2, 29)
    assert stored[2].next_inspection_due == date(2030, 5, 2)
    assert all(c.filling_station_id == world.orgs["a_station"].id for c in stored)


def test_reimport_changes_nothing(client: FlaskClient, world: World, db_session: Session) -> None:
    first = upload(client, world, MIXED.encode("utf-8"), "cylinders.csv").get_json()
    snapshot = [
        (c.code, c.registered_at, c.next_inspection_due)
        for c in db_session.scalars(select(Cylinder).order_by(Cylinder.code))
    ]
    second = upload(client, world, MIXED.encode("utf-8"), "cylinders.csv").get_json()
    assert (second["created"], second["unchanged"]) == (0, first["created"])
    assert [e["row"] for e in second["errors"]] == [e["row"] for e in first["errors"]]
    db_session.expire_all()
    assert snapshot == [
        (c.code, c.registered_at, c.next_inspection_due)
        for c in db_session.scalars(select(Cylinder).order_by(Cylinder.code))
    ]


def test_changed_row_for_a_registered_code_is_reported(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    upload(client, world, MIXED.encode("utf-8"), "cylinders.csv")
    changed = HEADER + "CQDZ-100001,YSP35.5,重庆钢瓶厂,A1,2024-01-10,17.0,\n"
    report = upload(client, world, changed.encode("utf-8"), "again.csv").get_json()
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(2, "cylinder_code_taken")]
    tare = db_session.scalar(select(Cylinder.tare_kg).where(Cylinder.code == "CQDZ-100001"))
    assert tare == Decimal("16.40")


def test_gb18030_csv_with_chinese_headers(client: FlaskClient, world: World) -> None:
    text = (
        "气瓶编码,型号,制造单位,出厂编号,制造日期,皮重\n"
        "CQDZ-200001,YSP35.5,重庆钢瓶厂,G1,2024-01-10,16.4\n"
    )
    report = upload(client, world, text.encode("gb18030"), "excel.csv").get_json()
    assert (report["created"], report["rejected"]) == (1, 0)


def test_xlsx_import_with_real_dates(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "code",
            "model",
            "manufacturer",
            "serial_no",
            "manufactured_on",
            "tare_kg",
            "filling_station",
        ]
    )
    sheet.append(
        [
            "CQDZ-300001",
            "YSP35.5",
            "重庆钢瓶厂",
            "X1",
            datetime(2024, 4, 1),
            16.4,
            world.orgs["a_station"].name,
        ]
    )
    sheet.append(
        [
            "CQDZ-300002",
            "YSP35.5",
            "重庆钢瓶厂",
            "X2",
            date(2024, 4, 2),
            16.5,
            world.orgs["b_station"].name,
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    report = upload(client, world, buffer.getvalue(), "cylinders.xlsx", who="a_admin").get_json()
    assert report["created"] == 1
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(3, "filling_station_invalid")]
    assert db_session.scalar(
        select(Cylinder.manufactured_on).where(Cylinder.code == "CQDZ-300001")
    ) == date(2024, 4, 1)


def test_whole_file_problems_are_clear_errors(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    response = upload(client, world, b"code,model\nX,Y\n", "short.csv")
    assert_error(response, 422, "import_file_invalid")
    assert set(response.get_json()["details"]["missing_columns"]) == {
        "manufacturer",
        "serial_no",
        "manufactured_on",
        "tare_kg",
    }
    assert_error(upload(client, world, b"", "empty.csv"), 422, "import_file_invalid")
    assert_error(upload(client, world, b"%PDF-1.4", "labels.pdf"), 422, "import_file_invalid")
    assert_error(
        upload(client, world, b"PK\x03\x04garbage", "broken.xlsx"), 422, "import_file_invalid"
    )
    response = client.post(
        "/api/v1/cylinders/import",
        data={},
        headers=world.auth("a_operator"),
        content_type="multipart/form-data",
    )
    assert_error(response, 422, "validation_error")
    assert count(db_session) == 0


def test_import_needs_a_registrar_role(client: FlaskClient, world: World) -> None:
    assert_error(upload(client, world, MIXED.encode(), "c.csv", who="a_courier"), 403, "forbidden")
    assert_error(
        upload(client, world, MIXED.encode(), "c.csv", who="dazu_reviewer"), 403, "forbidden"
    )


def test_cli_import_reports_rows_and_is_idempotent(
    app, world: World, db_session: Session, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cylinders.csv"
    path.write_text(MIXED, "utf-8")
    args = [
        "cylinders",
        "import",
        str(path),
        "--company",
        str(world.orgs["a"].id),
        "--station",
        str(world.orgs["a_station"].id),
    ]
    first = app.test_cli_runner().invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "9 rows: 3 created, 0 unchanged, 6 rejected" in first.output
    assert "row 3: cylinder_model_unknown" in first.output
    second = app.test_cli_runner().invoke(args=args)
    assert "9 rows: 0 created, 3 unchanged, 6 rejected" in second.output
    assert count(db_session) == 3
