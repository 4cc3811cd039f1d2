"""Recording door-to-door visits: who may, what a check holds, nobody home, photos, signatures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.catering.models import CateringCheck, CateringCheckFile
from cylinder_trace.web.current import registry
from cylinder_trace.web.current import settings as current_settings
from tests.assertions import assert_error
from tests.catering.helpers import (
    CHECKLIST,
    URL,
    catering_user,
    check_body,
    checked,
    cst,
    image,
    items,
    post_check,
    post_multipart,
)
from tests.customers.helpers import person, registered
from tests.singletons import use_catering_settings
from tests.world import World

NOW = cst(2026, 3, 4, 10, 0)  # a Wednesday in 2026-W10


@pytest.fixture(autouse=True)
def _clock(now: Callable[[datetime], None]) -> None:
    now(NOW)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("who", ["a_courier", "a_admin", "a_operator"])
def test_company_staff_record_a_check(client: FlaskClient, world: World, who: str) -> None:
    user = catering_user(client, world)
    body = checked(client, world, user["id"], cst(2026, 3, 4, 9, 15), who=who)
    assert body["customer_id"] == user["id"]
    assert body["checked_by_id"] == world.users[who].id
    assert body["checked_by_name"] == who
    assert body["checked_at"] == "2026-03-04T01:15:00+00:00"
    assert body["week"] == "2026-W10"
    assert body["outcome"] == "completed"
    assert body["counted"] is True
    assert [item["code"] for item in body["items"]] == CHECKLIST
    assert {item["result"] for item in body["items"]} == {"pass"}
    assert body["hazards_opened"] == body["hazards_closed"] == []
    one = client.get(f"{URL}/{user['id']}/checks/{body['id']}", headers=world.auth("a_admin"))
    assert one.get_json() == body
    row = client.get(f"{URL}/{user['id']}", headers=world.auth("a_admin")).get_json()
    assert row["status"] == "checked_this_period"
    assert row["last_check_at"] == row["last_visit_at"] == "2026-03-04T01:15:00+00:00"


def test_check_time_defaults_to_now_and_names_the_handheld(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    from cylinder_trace.auth.tokens import issue_token

    user = catering_user(client, world)
    _, token = issue_token(
        db_session,
        name="courier on handheld",
        user=world.users["a_courier"],
        device=world.devices["a_handheld"],
    )
    response = client.post(
        f"{URL}/{user['id']}/checks",
        json={"items": items()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["checked_at"] == NOW.astimezone(UTC).isoformat()
    assert body["device_id"] == world.devices["a_handheld"].id
    assert body["checked_by_id"] == world.users["a_courier"].id


@pytest.mark.parametrize("who", ["dazu_reviewer", "city_regulator", "sysadmin", "a_handheld"])
def test_readers_and_bare_devices_cannot_record(
    client: FlaskClient, world: World, db_session: Session, who: str
) -> None:
    user = catering_user(client, world)
    assert_error(post_check(client, world, user["id"], who, **check_body()), 403, "forbidden")
    assert _count(db_session, CateringCheck) == 0


def test_another_companys_user_is_404(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    response = post_check(client, world, user["id"], "b_admin", **check_body())
    assert_error(response, 404, "catering_user_not_found")


def test_a_customer_that_is_not_catering_has_no_checks(client: FlaskClient, world: World) -> None:
    household = registered(client, world, **person())
    response = post_check(client, world, household["id"], **check_body())
    assert_error(response, 404, "catering_user_not_found")


def test_a_deactivated_user_is_not_visited(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    client.patch(
        f"/api/v1/customers/{user['id']}", json={"active": False}, headers=world.auth("a_admin")
    )
    assert_error(
        post_check(client, world, user["id"], **check_body()), 422, "catering_user_inactive"
    )


def test_check_time_in_the_future_is_refused_beyond_the_clock_skew(
    client: FlaskClient, world: World
) -> None:
    user = catering_user(client, world)
    late = post_check(client, world, user["id"], **check_body(NOW + timedelta(minutes=6)))
    assert_error(late, 422, "check_time_in_future")
    assert late.get_json()["details"]["field"] == "checked_at"
    checked(client, world, user["id"], NOW + timedelta(minutes=4))


def test_a_check_time_without_offset_is_refused(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    body = {**check_body(), "checked_at": "2026-03-04T09:00:00"}
    response = post_check(client, world, user["id"], **body)
    assert_error(response, 422, "validation_error")
    assert "checked_at" in response.get_json()["details"]["fields"]["json"]


def test_the_whole_checklist_is_required_once_each(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    user = catering_user(client, world)
    partial = {"items": items()[:-1]}
    response = post_check(client, world, user["id"], **partial)
    assert_error(response, 422, "checklist_incomplete")
    assert response.get_json()["details"]["errors"][0]["missing"] == [CHECKLIST[-1]]

    twice = {"items": [*items(), items()[0]]}
    assert_error(post_check(client, world, user["id"], **twice), 422, "checklist_item_repeated")

    unknown = {"items": [*items(), {"code": "free_beer", "result": "pass"}]}
    response = post_check(client, world, user["id"], **unknown)
    assert_error(response, 422, "checklist_item_unknown")
    assert response.get_json()["details"]["field"] == "items[7]"

    bad_result = {"items": [{**items()[0], "result": "maybe"}, *items()[1:]]}
    assert_error(post_check(client, world, user["id"], **bad_result), 422, "validation_error")
    assert _count(db_session, CateringCheck) == 0


def test_the_checklist_endpoint_lists_the_configured_items(
    client: FlaskClient, world: World
) -> None:
    for who in ("a_courier", "dazu_reviewer"):
        body = client.get("/api/v1/catering-checklist", headers=world.auth(who)).get_json()
        assert body["interval_days"] == 7
        assert [item["code"] for item in body["items"]] == CHECKLIST
        assert all(item["deadline_days"] == 7 and item["zh"] for item in body["items"])


# --- nobody home ------------------------------------------------------------------------


def test_nobody_home_is_recorded_but_is_not_a_check(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    visit = checked(client, world, user["id"], cst(2026, 3, 3, 15, 0), outcome="nobody_home")
    assert visit["outcome"] == "nobody_home"
    assert visit["counted"] is False
    assert visit["items"] == []
    row = client.get(f"{URL}/{user['id']}", headers=world.auth("dazu_reviewer")).get_json()
    assert row["status"] == "never_checked"
    assert row["last_check_at"] is None
    assert row["last_visit_at"] == "2026-03-03T07:00:00+00:00"

    # Checked last week, nobody home this week: still due, not checked.
    checked(client, world, user["id"], cst(2026, 2, 26, 11, 0))
    checked(client, world, user["id"], cst(2026, 3, 4, 9, 0), outcome="nobody_home")
    row = client.get(f"{URL}/{user['id']}", headers=world.auth("dazu_reviewer")).get_json()
    assert row["status"] == "due"
    assert row["last_check_week"] == "2026-W09"
    assert row["last_visit_at"] == "2026-03-04T01:00:00+00:00"

    history = client.get(f"{URL}/{user['id']}/checks", headers=world.auth("dazu_reviewer"))
    assert [(c["outcome"], c["counted"]) for c in history.get_json()] == [
        ("nobody_home", False),  # 03-04
        ("nobody_home", False),  # 03-03
        ("completed", True),  # 02-26
    ]


def test_nobody_home_has_no_items_and_no_signature(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    response = post_check(
        client, world, user["id"], outcome="nobody_home", items=items(), signer_name="王五"
    )
    assert_error(response, 422, "nobody_home_has_items")
    codes = [error["code"] for error in response.get_json()["details"]["errors"]]
    assert codes == ["nobody_home_has_items", "nobody_home_has_signature"]


def test_nobody_home_does_not_close_hazards(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    found = checked(client, world, user["id"], cst(2026, 3, 2, 10, 0), metal_hose="fail")
    visit = checked(client, world, user["id"], cst(2026, 3, 3, 10, 0), outcome="nobody_home")
    assert found["hazards_opened"] and visit["hazards_closed"] == []
    row = client.get(f"{URL}/{user['id']}", headers=world.auth("a_admin")).get_json()
    assert row["open_hazards"] == 1


# --- photos and signatures --------------------------------------------------------------


def test_photos_and_signature_are_stored_and_served(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    user = catering_user(client, world)
    jpeg, png, signature = image("JPEG"), image("PNG", color="blue"), image("PNG", (200, 80))
    response = post_multipart(
        client,
        world,
        user["id"],
        {**check_body(cst(2026, 3, 4, 9, 0)), "signer_name": " 王五 "},
        # What the client says about a file does not matter, only its content.
        photos=[(jpeg, "kitchen.jpg", "image/jpeg"), (png, "alarm.bin", "application/x-foo")],
        signature=(signature, "sig.png", "image/png"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["signer_name"] == "王五"
    files = body["files"]
    assert [(f["kind"], f["position"], f["content_type"]) for f in files] == [
        ("photo", 0, "image/jpeg"),
        ("photo", 1, "image/png"),
        ("signature", 0, "image/png"),
    ]
    for stored, content in zip(files, (jpeg, png, signature), strict=True):
        assert stored["sha256"] == hashlib.sha256(content).hexdigest()
        assert stored["size_bytes"] == len(content)
        for who in ("a_admin", "dazu_reviewer", "city_regulator", "sysadmin"):
            served = client.get(stored["url"], headers=world.auth(who))
            assert served.status_code == 200, who
            assert served.data == content
            assert served.mimetype == stored["content_type"]
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert served.headers["Cache-Control"] == "no-store"
        for who in ("b_admin", "yubei_reviewer"):
            assert_error(
                client.get(stored["url"], headers=world.auth(who)), 404, "catering_user_not_found"
            )
    assert _count(db_session, CateringCheckFile) == 3
    other_check = checked(client, world, user["id"], cst(2026, 3, 4, 9, 30))
    wrong = f"{URL}/{user['id']}/checks/{other_check['id']}/files/{files[0]['id']}"
    assert_error(client.get(wrong, headers=world.auth("a_admin")), 404, "check_file_not_found")


def test_the_same_picture_is_stored_once(app: Flask, client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    jpeg = image("JPEG", color="green")
    for minute in (0, 5):
        response = post_multipart(
            client,
            world,
            user["id"],
            check_body(cst(2026, 3, 4, 9, minute)),
            photos=[(jpeg, "a.jpg", "image/jpeg")],
        )
        assert response.status_code == 201
    with app.app_context():
        store = registry().file_store
    sha = hashlib.sha256(jpeg).hexdigest()
    assert store.path_of(sha).read_bytes() == jpeg
    assert [p.name for p in store.path_of(sha).parent.iterdir()] == [sha]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"GIF89a" + b"\x00" * 64, "file_type_not_allowed"),
        (b"%PDF-1.7\n" + b"\x00" * 64, "file_type_not_allowed"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "file_type_not_allowed"),
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, "file_unreadable"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "file_unreadable"),
        (b"", "file_empty"),
    ],
)
def test_photos_are_checked_by_content(
    client: FlaskClient, world: World, db_session: Session, content: bytes, code: str
) -> None:
    user = catering_user(client, world)
    response = post_multipart(
        client,
        world,
        user["id"],
        check_body(),
        photos=[(image(), "ok.jpg", "image/jpeg"), (content, "photo.jpg", "image/jpeg")],
    )
    assert_error(response, 422, code)
    assert response.get_json()["details"]["field"] == "photos[1]"
    assert _count(db_session, CateringCheck) == 0


def test_photo_size_and_count_are_limited(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = catering_user(client, world)
    use_catering_settings(app, monkeypatch, photo_max_bytes=2000, photos_max=2)
    big = image("PNG", (400, 400), "white")[:1999] + b"x" * 5000
    response = post_multipart(
        client, world, user["id"], check_body(), photos=[(big, "big.png", "image/png")]
    )
    assert_error(response, 422, "file_too_large")
    assert response.get_json()["details"]["max_bytes"] == 2000
    three = [(image(), f"{n}.jpg", "image/jpeg") for n in range(3)]
    response = post_multipart(client, world, user["id"], check_body(), photos=three)
    assert_error(response, 422, "too_many_photos")
    two = three[:2]
    assert post_multipart(client, world, user["id"], check_body(), photos=two).status_code == 201


def test_the_default_limits(app: Flask) -> None:
    with app.app_context():
        settings, store = current_settings().catering, registry().file_store
    assert (settings.photo_max_bytes, settings.photos_max) == (5 * 1024 * 1024, 6)
    assert settings.files_dir == app.config["CT_SETTINGS"].instance_path / "catering-files"
    assert store.root == settings.files_dir


def test_a_signature_is_a_png_with_a_name(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    jpeg = (image("JPEG"), "sig.png", "image/png")
    body = {**check_body(), "signer_name": "王五"}
    response = post_multipart(client, world, user["id"], body, signature=jpeg)
    assert_error(response, 422, "signature_not_png")
    png = (image("PNG"), "sig.png", "image/png")
    response = post_multipart(client, world, user["id"], check_body(), signature=png)
    assert_error(response, 422, "signer_name_required")
    # A name alone (the person met, who did not sign on the screen) is fine.
    response = post_check(client, world, user["id"], **body)
    assert response.status_code == 201
    assert response.get_json()["files"] == []


def test_a_multipart_check_needs_its_json(client: FlaskClient, world: World) -> None:
    user = catering_user(client, world)
    response = client.post(
        f"{URL}/{user['id']}/checks",
        data={"data": "{not json"},
        headers=world.auth("a_courier"),
        content_type="multipart/form-data",
    )
    assert_error(response, 422, "validation_error")
    assert response.get_json()["details"]["fields"] == {"form": {"data": ["Not valid JSON."]}}
    response = client.post(
        f"{URL}/{user['id']}/checks",
        data="items=all",
        headers={**world.auth("a_courier"), "Content-Type": "text/plain"},
    )
    assert_error(response, 415, "unsupported_media_type")
