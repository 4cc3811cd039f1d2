"""The pages in a real headless Chromium, against a live server; screenshots kept.

Issue 7's acceptance: sign in and scan at the station page and see the refusal for an overdue
cylinder; open the public page from a generated QR payload and see the warning for a forged
one; open the bureau dashboard and find the same numbers as the API.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.pages.live_world import GOOD, OVERDUE, PASSWORD, LiveWorld

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
TIMEOUT_MS = 15_000


@pytest.fixture
def desktop(browser: Any, live_world: LiveWorld) -> Iterator[Any]:
    context = browser.new_context(base_url=live_world.base_url, **DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Any, live_world: LiveWorld) -> Iterator[Any]:
    context = browser.new_context(base_url=live_world.base_url, **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def qr_payload(page: Any, live_world: LiveWorld, code: str) -> str:
    """Print the cylinder's label through the API and read its QR code back."""
    from pyzbar.pyzbar import decode

    response = page.request.get(
        f"/api/v1/cylinders/{code}/label.png",
        headers={"Authorization": f"Bearer {live_world.tokens['dz.admin']}"},
    )
    assert response.status == 200, response.text()
    symbols = decode(Image.open(io.BytesIO(response.body())).convert("L"))
    assert len(symbols) == 1
    return symbols[0].data.decode("ascii")


def test_station_scan_refuses_an_overdue_cylinder(
    desktop: Any, live_world: LiveWorld, screenshot: Any
) -> None:
    page = desktop
    page.goto("/station")
    assert "/login" in page.url  # not signed in yet
    screenshot(page, "01-login")
    sign_in(page, "dz.filler")
    assert page.url.endswith("/station")
    field = page.locator("#scan")
    assert page.evaluate("document.activeElement.id") == "scan"

    # A keyboard-wedge scanner types the QR payload and presses Enter.
    payload = qr_payload(page, live_world, OVERDUE)
    page.keyboard.type(payload)
    page.keyboard.press("Enter")
    headline = page.locator("#result .headline[data-allowed]")
    headline.wait_for()
    assert headline.get_attribute("data-allowed") == "false"
    assert headline.inner_text() == "禁止充装"
    assert "超过定期检验日期" in page.locator("#result .reasons").inner_text()
    assert field.input_value() == ""
    assert page.evaluate("document.activeElement.id") == "scan"
    screenshot(page, "02-station-refused")

    page.keyboard.type(GOOD)
    page.keyboard.press("Enter")
    page.locator('#result .headline[data-allowed="true"]').wait_for()
    assert page.locator("#result .headline").inner_text() == "可以充装"
    assert page.locator("#checks tbody tr").count() == 2
    assert "今日已检查 2 次" in page.locator("#counts").inner_text()
    fills = page.locator("[data-testid=fills]").inner_text()
    assert GOOD in fills and OVERDUE in fills  # the seeded fill and the refused one
    screenshot(page, "03-station-allowed")

    page.click("a.lang")
    assert "Pre-fill check" in page.locator("h1").inner_text()
    page.locator("#scan").focus()
    page.keyboard.type(OVERDUE)
    page.keyboard.press("Enter")
    page.locator("#result .headline").filter(has_text="Do not fill").wait_for()
    assert "inspection is overdue" in page.locator("#result .reasons").inner_text()
    assert page.locator("#checks tbody tr").count() == 3  # the list survived the reload
    screenshot(page, "04-station-english")


def test_public_page_from_a_printed_label_and_a_forged_one(
    phone: Any, live_world: LiveWorld, screenshot: Any
) -> None:
    page = phone
    payload = qr_payload(page, live_world, GOOD)
    assert payload.startswith("HTTP://127.0.0.1:")
    response = page.goto(payload)
    assert response.status == 200
    page.locator("[data-testid=public-ok]").wait_for()
    assert "在检验有效期内" in page.inner_text("body")
    assert "14.50 kg" in page.locator("[data-testid=last-fill]").inner_text()
    assert "刘强" not in page.content()  # the operator is personal data
    screenshot(page, "05-public-ok-phone")

    response = page.goto(qr_payload(page, live_world, OVERDUE))
    assert response.status == 200
    assert "已超过定期检验日期" in page.locator("[data-testid=public-warnings]").inner_text()
    screenshot(page, "06-public-overdue-phone")

    signature = payload.rsplit(".", 1)[1]
    forged = payload[: -len(signature)] + signature[:-1] + ("B" if signature[-1] == "A" else "A")
    response = page.goto(forged)
    assert response.status == 404
    warning = page.locator("[data-testid=forged]")
    assert "标签不是本系统签发" in warning.inner_text()
    color = warning.evaluate("element => getComputedStyle(element).backgroundColor")
    red, green, blue = (int(n) for n in re.findall(r"\d+", color)[:3])
    assert red > 150 and green < 80 and blue < 80, color
    screenshot(page, "07-public-forged-phone")
    page.goto(forged + "?lang=en")
    assert "Label not genuine" in warning.inner_text()


def _api_summary(page: Any, live_world: LiveWorld) -> dict[str, Any]:
    response = page.request.get(
        "/api/v1/catering-users/summary",
        headers={"Authorization": f"Bearer {live_world.tokens['dz.bureau']}"},
    )
    assert response.status == 200, response.text()
    return response.json()


def test_bureau_dashboard_shows_the_api_numbers(
    desktop: Any, live_world: LiveWorld, screenshot: Any
) -> None:
    page = desktop
    sign_in(page, "dz.bureau")
    assert page.url.endswith("/bureau")
    summary = _api_summary(page, live_world)
    total = summary["total"]
    assert total["catering_users"] == len(live_world.catering_names) == 5
    shown = {
        element.get_attribute("data-count"): element.inner_text()
        for element in page.locator("[data-count]").all()
    }
    for name in ("catering_users", "checked_this_period", "due", "overdue", "never_checked"):
        assert shown[name] == str(total[name]), name
    for name in ("open_hazards", "overdue_hazards"):
        assert shown[name] == str(total[name]), name
    assert shown["check_rate"] == f"{total['check_rate'] * 100:.1f}%"
    for row in summary["by_company"]:
        line = page.locator(f'[data-testid=by-company] tr[data-key="{row["company_id"]}"]')
        cells = line.locator("td").all_inner_texts()
        assert cells[0] == row["company_name"]
        assert cells[1:6] == [
            str(row[k])
            for k in ("catering_users", "checked_this_period", "due", "overdue", "never_checked")
        ]
    users = page.locator("[data-testid=users]").inner_text()
    for name in live_world.catering_names:
        assert name in users
    screenshot(page, "08-bureau-dashboard")

    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    download = download_info.value
    assert download.suggested_filename == "catering-users.csv"
    assert "棠香烧烤" in Path(download.path()).read_text("utf-8-sig")

    page.click("text=棠香烧烤")
    page.locator("[data-testid=checks]").wait_for()
    assert "逾期未检查" in page.inner_text("body")
    assert "燃气泄漏报警器安装且工作正常" in page.locator("[data-testid=checks]").inner_text()
    screenshot(page, "09-bureau-user")

    page.goto("/bureau?status=never_checked")
    assert "宝顶素食馆" in page.locator("[data-testid=users]").inner_text()
    assert "石刻火锅店" not in page.locator("[data-testid=users]").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/bureau")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard is {width}px wide on a phone"
    screenshot(page, "14-bureau-dashboard-phone")


def test_company_pages(desktop: Any, live_world: LiveWorld, screenshot: Any) -> None:
    page = desktop
    sign_in(page, "dz.admin")
    assert page.url.endswith("/company/cylinders")
    assert OVERDUE in page.locator("[data-testid=cylinders]").inner_text()
    screenshot(page, "10-company-cylinders")
    page.click(f"text={GOOD}")
    timeline = page.locator("[data-testid=timeline]").inner_text()
    assert "登记" in timeline and "充装" in timeline and "14.50 kg" in timeline
    screenshot(page, "11-company-cylinder-timeline")
    page.click("text=客户")
    customers = page.locator("[data-testid=customers]").inner_text()
    assert "110105********002X" in customers and "11010519491231002X" not in customers
    screenshot(page, "12-company-customers")
    page.click("text=待审核扫码")
    review = page.locator("[data-testid=review]").inner_text()
    assert OVERDUE in review and "超过定期检验日期" in review
    screenshot(page, "13-company-review")
    response = page.goto("/bureau")
    assert response.status == 403
    assert "无权" in page.inner_text("body")
    screenshot(page, "15-forbidden")


def test_sign_in_stays_on_the_site_and_signing_out_ends_a_copied_cookie(
    browser: Any, live_world: LiveWorld
) -> None:
    """Issue 13: ``/login?next=/%09/evil.example/`` led off-site, and logout left the cookie."""
    site = urlsplit(live_world.base_url).netloc
    contexts = [browser.new_context(base_url=live_world.base_url, **DESKTOP) for _ in range(2)]
    try:
        page, thief = (context.new_page() for context in contexts)
        for context in contexts:
            context.set_default_timeout(TIMEOUT_MS)
            # Were the redirect to escape, the browser would land here rather than on a DNS error.
            context.route("**://evil.example/**", lambda route: route.fulfill(body="evil"))
        for target, lands_on in (
            ("/%09/evil.example/", "/company/cylinders"),
            ("/%5Cevil.example", "/company/cylinders"),
            ("/company/customers%3Fq%3Dx", "/company/customers?q=x"),
        ):
            page.goto(f"/login?next={target}")
            page.fill("input[name=username]", "dz.admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/login'] button")  # not the header's sign-out button
            page.wait_for_load_state()
            landed = urlsplit(page.url)
            assert landed.netloc == site, page.url
            assert landed.path + (f"?{landed.query}" if landed.query else "") == lands_on
        contexts[1].add_cookies(contexts[0].cookies())
        assert thief.goto("/company/cylinders").url.endswith("/company/cylinders")
        page.click("form[action='/logout'] button")
        page.wait_for_load_state()
        assert "/login" in page.url
        thief.goto("/company/cylinders")
        assert "/login" in thief.url, "the copied cookie still opens the pages after logout"
    finally:
        for context in contexts:
            context.close()
