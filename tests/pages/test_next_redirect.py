"""After signing in, ``next`` leads only to one of the pages: never off-site, never a 500.

The bypasses are generated from the usual tricks (slashes and backslashes, whitespace and
control characters, schemes, userinfo, percent-encoding once and twice, look-alike
characters), each sent the two ways a link can carry it: in the query string, decoded once
by the server, and as the form field. What a browser would make of the ``Location`` is
judged by ``browser_host``, written from the WHATWG URL rules rather than from the code under
test.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cylinder_trace.pages import auth as page_auth
from cylinder_trace.pages.redirects import safe_next
from tests.pages.helpers import PASSWORD, page_token
from tests.world import World

HOME = "/company/cylinders"  # where a company admin lands by default
EVIL = "evil.example"


def browser_host(location: str) -> str | None:
    """The host a browser on http://localhost/ goes to for ``location`` (None: no web page).

    The WHATWG URL parser strips leading and trailing C0 controls and spaces, drops every
    tab and newline, reads a backslash as a slash in http(s) URLs, and takes any run of two
    or more slashes at the start as "a host follows".
    """
    text = location.strip("".join(map(chr, range(0x21))))
    text = re.sub(r"[\t\n\r]", "", text).replace("\\", "/")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
    if scheme:
        name, text = scheme.group(1).lower(), text[scheme.end() :]
        if name not in ("http", "https"):
            return None  # javascript:, data:, ... : never a page of ours
        if name == "http" and not text.startswith("/"):
            return "localhost"  # "http:page" on an http page is a relative path
        authority = text.lstrip("/")
    elif text.startswith("//"):
        authority = text.lstrip("/")
    else:
        return "localhost"
    host = re.split(r"[/?#]", authority, maxsplit=1)[0].rpartition("@")[2]
    return host.rpartition(":")[0] if re.search(r":\d*$", host) else host


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("/\t/evil.example/", EVIL),  # what issue 13 saw sent back
        ("/\\evil.example", EVIL),
        ("\n///evil.example:443/x", EVIL),
        ("https:evil.example", EVIL),
        ("//localhost@evil.example", EVIL),
        ("javascript:alert(1)", None),
        ("/%2F%2Fevil.example", "localhost"),
        ("/company/cylinders?next=//evil.example", "localhost"),
    ],
)
def test_the_browser_model_sees_through_the_tricks(location: str, host: str | None) -> None:
    assert browser_host(location) == host


def bypasses() -> Iterator[str]:
    """Every ``next`` that must fall back to the start page."""
    for host in (EVIL, f"{EVIL}:443/company/cylinders"):
        yield from (f"//{host}", f"///{host}", f"////{host}", f"/\\{host}", f"\\\\{host}")
        yield from (f"\\/{host}", f"/\\/{host}", f"\\{host}", f".//{host}", f"{host}")
        for blank in ("\t", "\n", "\r", "\r\n", " ", "\x0b", "\x0c", "\x1f", "\x7f"):
            yield from (f"/{blank}/{host}", f"{blank}//{host}", f"//{blank}{host}")
            yield f"/{blank}\\{host}"
        for scheme in ("http", "https", "HTTP", "ftp"):
            yield from (f"{scheme}://{host}", f"{scheme}:{host}", f"{scheme}:/{host}")
            yield from (f"{scheme}:\\\\{host}", f" {scheme}://{host}")
        for encoded in ("%2F", "%2f", "%5C", "%5c", "%09", "%0a", "%0A", "%0d", "%20", "%7F"):
            yield from (f"/{encoded}{host}", f"/{encoded}/{host}", f"{encoded}{encoded}{host}")
            yield f"/{encoded.replace('%', '%25')}/{host}"  # encoded twice
            yield f"/{encoded.replace('%', '%2525')}/{host}"  # three times
        yield from (f"/%2F%2F{host}", f"%2F%2F{host}", f"/%252F%252F{host}", f"/%5C%5C{host}")
        # Userinfo: everything before an "@" in an authority is a user name.
        yield from (f"/@{host}", f"//@{host}", f"//localhost@{host}", f"/user:pw@{host}")
        yield from (f"@{host}", f"/\\@{host}", f"//127.0.0.1%40{host}")
        # Look-alikes of "/", "\", "." and blanks that some normalisations turn into them.
        for alike in ("\uff0f", "\u2215", "\u2044", "\u29f8", "\uff3c", "\u29f5", "\ufe68"):
            yield from (f"{alike}{alike}{host}", f"/{alike}{host}", f"/{alike}/{host}")
        for blank in ("\u200b", "\ufeff", "\u00a0", "\u3000", "\u2028", "\u0085"):
            yield from (f"/{blank}/{host}", f"{blank}//{host}")
        yield from (f"/%EF%BC%8F{host}", f"/{EVIL}\u3002com", f"/\u3002\u3002/{host}")
    for script in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)"):
        yield from (script, "java\tscript:alert(1)", f"/{script}")
    yield from ("data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)")
    # On-site, but not a page to come back to (or not one at all).
    yield from ("/login", "/login?next=//evil.example", "/logout", "/api/v1/me", "/nowhere")
    yield from ("/station/check", "/pages-static/app.css", "/company/../station", "")
    yield from ("/company/cylinders#//evil.example", "/" + "a" * 3000, "company/cylinders")


BYPASSES = sorted(set(bypasses()))
GOOD = [
    "/company/cylinders?x=1",
    "/company/cylinders",
    "/company/customers?q=x&page=2",
    "/company/customers?q=%E5%BC%A0%E4%B8%89",
    "/company/cylinders/CQDZ-000001",
    "/company/review?page=3",
    "/bureau?district=500111",
    "/station",
    "/",
]


@pytest.fixture
def quick_sign_in(
    client: FlaskClient, db_session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    # Hundreds of sign-ins: the password check is not what is tested here, and scrypt
    # takes a fifth of a second.
    world.users["a_admin"].password_hash = "scrypt:not-checked"
    db_session.flush()
    monkeypatch.setattr(page_auth, "check_password", lambda _user, password: password == PASSWORD)
    yield


def _sign_in_with(client: FlaskClient, target: str, channel: str) -> object:
    form = {"username": "a.admin", "password": PASSWORD, "csrf_token": page_token(client)}
    if channel == "form":
        return client.post("/login", data={**form, "next": target})
    # Raw in the URL, as a link would carry it: the server decodes it once.
    return client.post("/login", data=form, query_string="next=" + target.replace("&", "%26"))


@pytest.mark.parametrize("channel", ["query", "form"])
@pytest.mark.usefixtures("quick_sign_in")
def test_every_bypass_lands_on_the_start_page(client: FlaskClient, channel: str) -> None:
    assert len(BYPASSES) > 300
    wrong = {}
    for target in BYPASSES:
        response = _sign_in_with(client, target, channel)
        location = response.headers.get("Location")  # type: ignore[attr-defined]
        if response.status_code != 302 or location != HOME:  # type: ignore[attr-defined]
            wrong[target] = (response.status_code, location)  # type: ignore[attr-defined]
        assert location is None or browser_host(location) == "localhost", (target, location)
    assert not wrong, wrong


@pytest.mark.parametrize("channel", ["query", "form"])
@pytest.mark.usefixtures("quick_sign_in")
def test_pages_still_come_back(client: FlaskClient, channel: str) -> None:
    for target in GOOD:
        sent = target if channel == "form" else target.replace("%", "%25")
        response = _sign_in_with(client, sent, channel)
        assert response.status_code == 302, target  # type: ignore[attr-defined]
        assert response.headers["Location"] == target  # type: ignore[attr-defined]


@pytest.mark.usefixtures("quick_sign_in")
def test_the_sign_in_redirect_round_trips_any_page_url(client: FlaskClient) -> None:
    for path in ("/company/customers?q=张三&page=2", "/company/review?code=a%2Fb&x=<'\">"):
        first = client.get(path)
        assert first.status_code == 302
        login_page = client.get(first.headers["Location"])
        match = re.search(r'name="next" value="([^"]+)"', login_page.get_data(as_text=True))
        assert match, "the sign-in form dropped the page to come back to"
        back = _sign_in_with(client, html.unescape(match.group(1)), "form")
        location = urlsplit(back.headers["Location"])  # type: ignore[attr-defined]
        wanted = urlsplit(path)
        assert location.path == wanted.path
        assert parse_qs(location.query) == parse_qs(wanted.query)
        client.post("/logout", data={"csrf_token": page_token(client, HOME)})


# Pieces that make up dangerous and harmless targets alike.
PIECES = st.sampled_from(
    [
        *("/", "//", "\\", "%", "%2F", "%5C", "%25", "%0a", "\t", "\n", "\r", " ", "\x00"),
        *("@", ":", "?", "#", "&", ".", "..", "http:", "javascript:", EVIL, "x=1"),
        *("company", "cylinders", "customers", "\uff0f", "\u2215", "\u3002", "\u200b", "张"),
    ]
)
# Most targets start as a path does, since that is what gets past a first look.
TARGETS = st.builds(
    lambda head, rest: head + "".join(rest),
    st.sampled_from(["/", "/", "/", "", "/company/"]),
    st.lists(PIECES, max_size=8),
) | st.text(max_size=40)


@given(target=TARGETS)
@settings(max_examples=400, deadline=None)
def test_safe_next_accepts_only_on_site_page_paths(app: Flask, target: str) -> None:
    with app.test_request_context("/login"):
        accepted = safe_next(target)
    if accepted is None:
        return
    assert accepted == target
    assert browser_host(accepted) == "localhost"
    assert accepted.startswith("/") and not accepted.startswith("//")
    assert re.fullmatch(r"[!-~]+", accepted) and "\\" not in accepted


@given(target=TARGETS)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.usefixtures("quick_sign_in")
def test_no_next_makes_a_server_error_or_leaves_the_site(client: FlaskClient, target: str) -> None:
    for channel in ("query", "form"):
        response = _sign_in_with(client, target, channel)
        assert response.status_code < 500, (target, channel)  # type: ignore[attr-defined]
        location = response.headers.get("Location")  # type: ignore[attr-defined]
        if response.status_code == 302:  # type: ignore[attr-defined]
            assert location is not None and browser_host(location) == "localhost"
            # An empty query ("/?") is dropped on the way out: the same page.
            assert location in (HOME, target, target.removesuffix("?")) or channel == "query"
