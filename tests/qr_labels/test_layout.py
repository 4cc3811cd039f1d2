"""Layout files: the shipped ones load, broken ones fail with a useful message."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cylinder_trace.qr_labels.layout import (
    LAYOUTS_ENV_VAR,
    LayoutError,
    available_layouts,
    layout_from_dict,
    load_layout,
)

REPO_LAYOUTS = Path(__file__).resolve().parents[2] / "labels"


def valid() -> dict[str, Any]:
    with (REPO_LAYOUTS / "50x30.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_shipped_layouts_load() -> None:
    assert {"50x30", "70x40"} <= set(available_layouts())
    small, large = load_layout("50x30"), load_layout("70x40")
    assert (small.label_width_mm, small.label_height_mm, small.per_page) == (50, 30, 36)
    assert (large.label_width_mm, large.label_height_mm, large.per_page) == (70, 40, 21)
    assert load_layout(REPO_LAYOUTS / "70x40.toml") == large


def test_slots_fill_row_by_row_inside_the_page() -> None:
    lay = load_layout("50x30")
    assert lay.label_origin(0) == (lay.margin_left_mm, lay.margin_top_mm)
    assert lay.label_origin(1)[0] == lay.margin_left_mm + lay.label_width_mm + lay.gap_x_mm
    assert (
        lay.label_origin(lay.columns)[1] == lay.margin_top_mm + lay.label_height_mm + lay.gap_y_mm
    )
    x, y = lay.label_origin(lay.per_page - 1)
    assert x + lay.label_width_mm <= lay.page_width_mm
    assert y + lay.label_height_mm <= lay.page_height_mm


def mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(valid())
    *tables, key = path.split(".")
    target = data
    for table in tables:
        target = target[table]
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("grid.columns", 5, "off the page horizontally"),
        ("grid.rows", 10, "off the page vertically"),
        ("page.margin_top_mm", 30.0, "off the page vertically"),
        ("qr.size_mm", 29.0, "taller than the label"),
        ("qr.size_mm", "27", "expected a number"),
        ("qr.error_correction", "X", "error_correction"),
        ("qr.quiet_zone_modules", 1, "between 2 and 8"),
        ("qr.quiet_zone_modules", 3.5, "expected an integer"),
        ("text.gap_mm", 12.0, "text column"),
        ("text.owner_pt", 30.0, "text block needs"),
        ("text.min_pt", 9.0, "min_pt"),
        ("text.owner_max_lines", 0, "owner_max_lines"),
        ("label.outline", "no", "true/false"),
        ("label.padding_mm", -1.0, "negative"),
        ("text.code_pt", KeyError, "missing text.code_pt"),
        ("grid.colums", 4, "unknown keys in [grid]"),
        ("name", "", "'name'"),
        ("qr", KeyError, "missing table [qr]"),
        ("extra", {"a": 1}, "unknown top-level keys"),
    ],
)
def test_invalid_layouts_are_rejected(path: str, value: Any, message: str) -> None:
    with pytest.raises(LayoutError, match=message.replace("[", r"\[").replace("]", r"\]")):
        layout_from_dict(mutate(path, value), "test.toml")


def test_the_unmodified_file_is_valid() -> None:
    assert layout_from_dict(valid(), "x").name == "50x30"


def test_bad_files_and_names(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    with pytest.raises(LayoutError, match="not valid TOML"):
        load_layout(broken)
    with pytest.raises(LayoutError, match="not found"):
        load_layout(tmp_path / "missing.toml")
    with pytest.raises(LayoutError, match="no layout named 'nope'"):
        load_layout("nope")


def test_extra_layout_directory_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO_LAYOUTS / "70x40.toml").read_text(encoding="utf-8")
    (tmp_path / "shop.toml").write_text(text.replace('name = "70x40"', 'name = "shop"'), "utf-8")
    monkeypatch.setenv(LAYOUTS_ENV_VAR, str(tmp_path))
    assert "shop" in available_layouts()
    assert load_layout("shop").name == "shop"
