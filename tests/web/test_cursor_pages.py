"""Large lists page by cursor and count up to a limit (``paging``, ``paginate_query``).

Walking a list by ``next_cursor``, in page sizes drawn at random, gives exactly the rows of
the whole list, in its order, each once, also while rows are added between the pages; a
list longer than the count limit says its total is a lower bound; a cursor the list never
handed out is a 422 with ``invalid_cursor``, and nothing is changed by it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cylinder_trace.config import SETTINGS_CONFIG_KEY
from tests.assertions import assert_error
from tests.customers.helpers import id_number, person
from tests.scans.conftest import fill, scan
from tests.world import World

LISTS = {
    "scans": ("/api/v1/scans", "id"),
    "cylinders": ("/api/v1/cylinders", "code"),
    "customers": ("/api/v1/customers", "id"),
}


def _metadata(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return json.loads(response.headers["X-Pagination"])


def _walk(
    client: FlaskClient,
    url: str,
    key: str,
    headers: dict,
    rng: random.Random,
    after: str | None = None,
) -> tuple[list[Any], list[dict]]:
    """Every row of the list (after ``after``) by following next_cursor; also each page's
    metadata."""
    rows: list[Any] = []
    pages: list[dict] = []
    separator = "&" if "?" in url else "?"
    while True:
        size = rng.choice([1, 2, 3, 5, 8])
        query = f"{url}{separator}page_size={size}" + (f"&after={after}" if after else "")
        response = client.get(query, headers=headers)
        metadata = _metadata(response)
        page = [item[key] for item in response.get_json()]
        assert len(page) <= size
        rows += page
        pages.append(metadata)
        after = metadata.get("next_cursor")
        if after is None:
            return rows, pages
        assert len(page) == size  # only a full page has a next one
        assert len(pages) < 500


def _all(client: FlaskClient, url: str, key: str, headers: dict) -> list[Any]:
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}page_size=100", headers=headers)
    assert "next_cursor" not in _metadata(response)
    return [item[key] for item in response.get_json()]


@pytest.fixture
def populated(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    """Cylinders registered at one instant (ties on the sort key), fills, refused scans,
    customers."""
    codes = [make_cylinder(f"CQDZ-5{n:05d}").code for n in range(14)]
    make_cylinder("CQYB-600001", company="b")
    items = [fill(code, minute) for minute, code in enumerate(codes)]
    items += [scan("deliver", codes[0], 30), fill("CQYB-600001", 31), fill("CQDZ-999999", 32)]
    response = client.post(
        "/api/v1/scans/batch", json={"scans": items}, headers=world.auth("a_operator")
    )
    assert response.status_code in (200, 207)
    for n in range(9):
        body = person(name=f"顾客{n}", id_number=id_number(seq=f"{n:03d}"))
        answer = client.post("/api/v1/customers", json=body, headers=world.auth("a_admin"))
        assert answer.status_code == 201, answer.get_json()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(
    ("name", "query", "who"),
    [
        ("scans", "", "a_admin"),
        ("scans", "?kind=fill", "a_operator"),
        ("scans", "?needs_review=true", "city_regulator"),
        ("scans", "", "sysadmin"),
        ("cylinders", "", "a_admin"),
        ("cylinders", "?state=full_at_station", "dazu_reviewer"),
        ("customers", "", "a_admin"),
    ],
)
def test_following_cursors_gives_every_row_once_in_order(
    populated: None,
    client: FlaskClient,
    world: World,
    name: str,
    query: str,
    who: str,
    seed: int,
) -> None:
    url, key = LISTS[name]
    headers = world.auth(who)
    whole = _all(client, url + query, key, headers)
    walked, pages = _walk(client, url + query, key, headers, random.Random(seed))
    assert walked == whole
    assert len(whole) >= 2  # the walk crossed at least one page boundary
    assert {page["total"] for page in pages} == {len(whole)}
    assert all(page["total_exact"] for page in pages)


def test_rows_added_between_pages_are_neither_skipped_nor_repeated(
    populated: None, client: FlaskClient, world: World
) -> None:
    headers = world.auth("a_admin")
    first = client.get("/api/v1/scans?page_size=6", headers=headers)
    seen = [item["id"] for item in first.get_json()]
    after = _metadata(first)["next_cursor"]
    # New scans, later than everything listed so far, arrive while the client reads.
    added = client.post(
        "/api/v1/scans/batch",
        json={"scans": [scan("dispatch", f"CQDZ-5{n:05d}", 60 + n) for n in range(3)]},
        headers=world.auth("a_operator"),
    )
    assert added.status_code in (200, 207)
    rest, _ = _walk(client, "/api/v1/scans", "id", headers, random.Random(5), after)
    assert seen + rest == _all(client, "/api/v1/scans", "id", headers)
    assert len(set(seen + rest)) == len(seen + rest)


def test_a_list_longer_than_the_count_limit_says_its_total_is_a_lower_bound(
    populated: None, app: Flask, client: FlaskClient, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    limited = dataclasses.replace(app.config[SETTINGS_CONFIG_KEY], list_count_limit=5)
    monkeypatch.setitem(app.config, SETTINGS_CONFIG_KEY, limited)
    headers = world.auth("a_admin")
    whole = _all(client, "/api/v1/cylinders", "code", headers)
    assert len(whole) > 5

    first = _metadata(client.get("/api/v1/cylinders?page_size=2", headers=headers))
    assert first["total"] == 5 and first["total_exact"] is False
    assert "total_pages" not in first and "last_page" not in first
    assert (first["page"], first["next_page"]) == (1, 2)
    # Page numbers still work past the limit; the last page has no next one.
    last_page = (len(whole) + 1) // 2
    last = client.get(f"/api/v1/cylinders?page_size=2&page={last_page}", headers=headers)
    assert [item["code"] for item in last.get_json()] == whole[(last_page - 1) * 2 :]
    metadata = _metadata(last)
    assert metadata["previous_page"] == last_page - 1 and "next_page" not in metadata
    # Cursors are unaffected by the limit.
    walked, pages = _walk(client, "/api/v1/cylinders", "code", headers, random.Random(3))
    assert walked == whole
    assert {(page["total"], page["total_exact"]) for page in pages} == {(5, False)}

    # A list at or under the limit counts exactly.
    small = _metadata(client.get("/api/v1/scans?kind=deliver", headers=headers))
    assert small["total_exact"] is True and small["total_pages"] == small["total"]


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "!!!",
        "not-base64-json",
        _cursor([1]),  # the scans' key has two columns
        _cursor(["2026-01-01T00:00:00+00:00", "7"]),  # an id that is text
        _cursor(["yesterday", 7]),
        _cursor([None, None]),
        _cursor({"occurred_at": 1}),
        _cursor(["2026-01-01T00:00:00+00:00", True]),
        _cursor(["CQDZ-500001"]),  # a cylinders cursor
    ],
)
def test_a_cursor_the_list_never_handed_out_is_refused(
    populated: None, client: FlaskClient, world: World, after: str
) -> None:
    headers = world.auth("a_admin")
    before = _all(client, "/api/v1/scans", "id", headers)
    assert_error(client.get(f"/api/v1/scans?after={after}", headers=headers), 422, "invalid_cursor")
    assert _all(client, "/api/v1/scans", "id", headers) == before


def test_a_cursor_of_another_list_or_too_long_is_refused(
    populated: None, client: FlaskClient, world: World
) -> None:
    headers = world.auth("a_admin")
    scans_cursor = _metadata(client.get("/api/v1/scans?page_size=1", headers=headers))[
        "next_cursor"
    ]
    answer = client.get(f"/api/v1/cylinders?after={scans_cursor}", headers=headers)
    assert_error(answer, 422, "invalid_cursor")
    too_long = client.get(f"/api/v1/scans?after={'A' * 201}", headers=headers)
    assert_error(too_long, 422, "validation_error")
