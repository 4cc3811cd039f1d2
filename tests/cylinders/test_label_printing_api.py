"""Label files through the API: each QR decodes (zbar) back to the cylinder's signed payload."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from flask.testing import FlaskClient
from PIL import Image

from tests.assertions import assert_error
from tests.world import World


@pytest.fixture(scope="module")
def decode():  # type: ignore[no-untyped-def]
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as zbar_decode

    def run(image: Image.Image) -> list[str]:
        return sorted(
            r.data.decode("ascii") for r in zbar_decode(image, symbols=[ZBarSymbol.QRCODE])
        )

    return run


def payload(client: FlaskClient, world: World, code: str) -> str:
    return client.get(f"/api/v1/cylinders/{code}", headers=world.auth("a_admin")).get_json()[
        "label_payload"
    ]


@pytest.mark.parametrize("layout", ["50x30", "70x40"])
def test_png_label_decodes_to_its_payload(
    client: FlaskClient, world: World, make_cylinder, decode, layout: str
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001")
    response = client.get(
        f"/api/v1/cylinders/CQDZ-000001/label.png?layout={layout}", headers=world.auth("a_operator")
    )
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert decode(image) == [payload(client, world, "CQDZ-000001")]


def test_svg_and_zpl_labels(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000002")
    headers = world.auth("a_operator")
    svg = client.get("/api/v1/cylinders/CQDZ-000002/label.svg", headers=headers)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and b"CQDZ-000002" in svg.data
    zpl = client.get("/api/v1/cylinders/CQDZ-000002/label.zpl", headers=headers)
    text = zpl.get_data(as_text=True)
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert payload(client, world, "CQDZ-000002") in text


def test_pdf_sheet_page_decodes_to_every_payload(
    client: FlaskClient, world: World, make_cylinder, decode
) -> None:  # type: ignore[no-untyped-def]
    codes = [f"CQDZ-1000{i:02d}" for i in range(12)]
    for code in codes:
        make_cylinder(code)
    make_cylinder("CQYB-000001", company="b")
    response = client.get(
        "/api/v1/cylinders/labels?layout=70x40&code_from=CQDZ-100000&code_to=CQDZ-100099",
        headers=world.auth("a_admin"),
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.data)
    found: list[str] = []
    for page in pdf:
        found += decode(page.render(scale=300 / 72).to_pil().convert("L"))
    assert sorted(found) == sorted(payload(client, world, code) for code in codes)


def test_zpl_sheet(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    for code in ("CQDZ-200001", "CQDZ-200002"):
        make_cylinder(code)
    response = client.get("/api/v1/cylinders/labels?format=zpl", headers=world.auth("a_admin"))
    assert response.get_data(as_text=True).count("^XA") == 2


def test_label_errors(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000003")
    headers = world.auth("a_admin")
    assert_error(
        client.get("/api/v1/cylinders/CQDZ-000003/label.png?layout=99x99", headers=headers),
        422,
        "label_layout_unknown",
    )
    assert_error(
        client.get("/api/v1/cylinders/labels?model=YSP4.7", headers=headers), 422, "no_cylinders"
    )
    assert_error(
        client.get("/api/v1/cylinders/CQDZ-000003/label.png", headers=world.auth("b_admin")),
        404,
        "cylinder_not_found",
    )
    client.post("/api/v1/cylinders/CQDZ-000003/scrap", json={"reason": "锈蚀"}, headers=headers)
    assert_error(
        client.get("/api/v1/cylinders/CQDZ-000003/label.png", headers=headers),
        422,
        "cylinder_scrapped",
    )


@pytest.mark.parametrize("fmt", ["pdf", "zpl"])
def test_cli_prints_a_sheet_for_a_code_range(
    app, world: World, make_cylinder, tmp_path, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        make_cylinder(f"CQDZ-3000{i:02d}")
    make_cylinder("CQDZ-400000")
    out = tmp_path / f"labels.{fmt}"
    result = app.test_cli_runner().invoke(
        args=[
            "cylinders",
            "labels",
            "--out",
            str(out),
            "--from",
            "CQDZ-300000",
            "--to",
            "CQDZ-300099",
            "--format",
            fmt,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "5 labels written" in result.output
    if fmt == "pdf":
        assert len(pypdfium2.PdfDocument(str(out))) == 1
    else:
        assert out.read_text("utf-8").count("^XA") == 5
