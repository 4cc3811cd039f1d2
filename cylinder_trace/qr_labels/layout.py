"""Label data and sheet layouts.

Layouts are data, not code: one TOML file per label stock in the repository's top-level
``labels/`` directory (``labels/50x30.toml``, ``labels/70x40.toml``). A file is validated on load
- unknown keys, wrong types, labels that run off the page, a QR code or text block that does not
fit its label - so a bad layout fails before the first of 10,000 labels is drawn.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from .qr import ERROR_CORRECTION

__all__ = [
    "HINT_TEXT",
    "LAYOUTS_ENV_VAR",
    "PT_TO_MM",
    "LabelData",
    "LabelLayout",
    "LayoutError",
    "available_layouts",
    "layout_dirs",
    "layout_from_dict",
    "load_layout",
    "parse_layout_path",
]

PT_TO_MM: Final = 25.4 / 72
HINT_TEXT: Final = "扫码查询气瓶信息"
LAYOUTS_ENV_VAR: Final = "CYLINDER_TRACE_LABEL_LAYOUTS"
# cylinder_trace/qr_labels/layout.py -> repository root / "labels"
_REPO_LAYOUT_DIR: Final = Path(__file__).resolve().parents[2] / "labels"
# Worst case the text block must hold: code on 2 lines, model on 1, owner on owner_max_lines,
# hint on 1; checked at load so rendering never has to overflow or squash.
CODE_MAX_LINES: Final = 2


@dataclass(frozen=True, slots=True)
class LabelData:
    """What one label shows: the QR payload and the human-readable lines beside it."""

    code: str
    payload: str
    model: str
    owner_name: str


class LayoutError(ValueError):
    """A layout file is missing, unreadable or describes labels that cannot be printed."""


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """One label stock on a page. Lengths in millimetres, font sizes in points."""

    name: str
    page_width_mm: float
    page_height_mm: float
    margin_left_mm: float
    margin_top_mm: float
    columns: int
    rows: int
    gap_x_mm: float
    gap_y_mm: float
    label_width_mm: float
    label_height_mm: float
    padding_mm: float
    outline: bool
    qr_size_mm: float
    qr_quiet_modules: int
    error_correction: str
    text_gap_mm: float
    code_pt: float
    model_pt: float
    owner_pt: float
    hint_pt: float
    min_pt: float
    owner_max_lines: int
    line_spacing: float

    @property
    def per_page(self) -> int:
        """Labels on one sheet."""
        return self.columns * self.rows

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Top-left corner (x from the left, y from the top of the page) of slot ``slot``,
        filled row by row."""
        row, col = divmod(slot, self.columns)
        return (
            self.margin_left_mm + col * (self.label_width_mm + self.gap_x_mm),
            self.margin_top_mm + row * (self.label_height_mm + self.gap_y_mm),
        )

    @property
    def text_x_mm(self) -> float:
        """Left edge of the text column, from the label's left edge."""
        return self.padding_mm + self.qr_size_mm + self.text_gap_mm

    @property
    def text_width_mm(self) -> float:
        """Width of the text column."""
        return self.label_width_mm - self.padding_mm - self.text_x_mm


# TOML section -> {key: field name}; the file format stays readable while the dataclass is flat.
_SCHEMA: Final[dict[str, dict[str, str]]] = {
    "page": {
        "width_mm": "page_width_mm",
        "height_mm": "page_height_mm",
        "margin_left_mm": "margin_left_mm",
        "margin_top_mm": "margin_top_mm",
    },
    "grid": {"columns": "columns", "rows": "rows", "gap_x_mm": "gap_x_mm", "gap_y_mm": "gap_y_mm"},
    "label": {
        "width_mm": "label_width_mm",
        "height_mm": "label_height_mm",
        "padding_mm": "padding_mm",
        "outline": "outline",
    },
    "qr": {
        "size_mm": "qr_size_mm",
        "quiet_zone_modules": "qr_quiet_modules",
        "error_correction": "error_correction",
    },
    "text": {
        "gap_mm": "text_gap_mm",
        "code_pt": "code_pt",
        "model_pt": "model_pt",
        "owner_pt": "owner_pt",
        "hint_pt": "hint_pt",
        "min_pt": "min_pt",
        "owner_max_lines": "owner_max_lines",
        "line_spacing": "line_spacing",
    },
}
_FIELD_TYPES: Final = {f.name: f.type for f in fields(LabelLayout)}


def _coerce(where: str, value: Any, kind: str) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise LayoutError(f"{where}: expected true/false, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise LayoutError(f"{where}: expected an integer, got {value!r}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LayoutError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise LayoutError(f"{where}: expected a string, got {value!r}")
    return value


def layout_from_dict(data: dict[str, Any], source: str = "<layout>") -> LabelLayout:
    """Build and validate a layout from parsed TOML; errors name ``source`` and the key."""
    values: dict[str, Any] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise LayoutError(f"{source}: 'name' must be a non-empty string")
    values["name"] = name
    unknown = set(data) - set(_SCHEMA) - {"name", "description"}
    if unknown:
        raise LayoutError(f"{source}: unknown top-level keys {sorted(unknown)}")
    for section, keys in _SCHEMA.items():
        table = data.get(section)
        if not isinstance(table, dict):
            raise LayoutError(f"{source}: missing table [{section}]")
        extra = set(table) - set(keys)
        if extra:
            raise LayoutError(f"{source}: unknown keys in [{section}]: {sorted(extra)}")
        for key, field_name in keys.items():
            if key not in table:
                raise LayoutError(f"{source}: missing {section}.{key}")
            kind = str(_FIELD_TYPES[field_name])
            values[field_name] = _coerce(f"{source}: {section}.{key}", table[key], kind)
    layout = LabelLayout(**values)
    _validate(layout, source)
    return layout


def _validate(lay: LabelLayout, source: str) -> None:
    def fail(message: str) -> None:
        raise LayoutError(f"{source}: {message}")

    for f in fields(LabelLayout):
        value = getattr(lay, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            fail(f"{f.name} must not be negative")
    if lay.columns < 1 or lay.rows < 1:
        fail("grid needs at least one column and one row")
    width = lay.margin_left_mm + lay.columns * lay.label_width_mm + (lay.columns - 1) * lay.gap_x_mm
    if width > lay.page_width_mm + 1e-6:
        fail(f"labels run off the page horizontally ({width:.2f} > {lay.page_width_mm} mm)")
    height = lay.margin_top_mm + lay.rows * lay.label_height_mm + (lay.rows - 1) * lay.gap_y_mm
    if height > lay.page_height_mm + 1e-6:
        fail(f"labels run off the page vertically ({height:.2f} > {lay.page_height_mm} mm)")
    if lay.error_correction not in ERROR_CORRECTION:
        fail(f"qr.error_correction must be one of {sorted(ERROR_CORRECTION)}")
    # ISO/IEC 18004 asks for 4; 2 still scans with phone readers and saves space on small stock.
    if not 2 <= lay.qr_quiet_modules <= 8:
        fail("qr.quiet_zone_modules must be between 2 and 8")
    if lay.qr_size_mm + 2 * lay.padding_mm > lay.label_height_mm + 1e-6:
        fail("QR code plus padding is taller than the label")
    if lay.text_width_mm < 10:
        fail(f"text column is only {lay.text_width_mm:.2f} mm wide; at least 10 mm is needed")
    if not 0 < lay.min_pt <= min(lay.code_pt, lay.model_pt, lay.owner_pt, lay.hint_pt):
        fail("text.min_pt must be positive and not larger than any other font size")
    if lay.owner_max_lines < 1 or lay.line_spacing < 1:
        fail("text.owner_max_lines and text.line_spacing must be at least 1")
    block_pt = lay.line_spacing * (
        CODE_MAX_LINES * lay.code_pt
        + lay.model_pt
        + lay.owner_max_lines * lay.owner_pt
        + lay.hint_pt
    )
    available = lay.label_height_mm - 2 * lay.padding_mm
    if block_pt * PT_TO_MM > available + 1e-6:
        fail(f"text block needs {block_pt * PT_TO_MM:.2f} mm but the label has {available:.2f}")


def parse_layout_path(value: str) -> list[Path]:
    """The directories of a ``CYLINDER_TRACE_LABEL_LAYOUTS`` value (an ``os.pathsep`` list)."""
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def layout_dirs(extra_dirs: Sequence[Path] | None = None) -> list[Path]:
    """Directories searched for layout files: ``extra_dirs``, then the repository's ``labels/``.

    The app passes ``Settings.label_layout_dirs`` (checked in ``create_app``); without it
    (standalone scripts) ``$CYLINDER_TRACE_LABEL_LAYOUTS`` is read here.
    """
    if extra_dirs is None:
        extra_dirs = parse_layout_path(os.environ.get(LAYOUTS_ENV_VAR, ""))
    return [*extra_dirs, _REPO_LAYOUT_DIR]


def available_layouts(extra_dirs: Sequence[Path] | None = None) -> list[str]:
    """Names of the layout files found in :func:`layout_dirs`."""
    names = {p.stem for d in layout_dirs(extra_dirs) if d.is_dir() for p in d.glob("*.toml")}
    return sorted(names)


def load_layout(
    name_or_path: str | os.PathLike[str], extra_dirs: Sequence[Path] | None = None
) -> LabelLayout:
    """Load a layout by name (``"50x30"``, searched in :func:`layout_dirs`) or by path to a
    ``.toml`` file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        path = candidate
    else:
        dirs = layout_dirs(extra_dirs)
        found = [p for d in dirs if (p := d / f"{candidate}.toml").is_file()]
        if not found:
            raise LayoutError(
                f"no layout named {str(name_or_path)!r}; available: {available_layouts(extra_dirs)}"
            )
        path = found[0]
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise LayoutError(f"layout file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError(f"{path}: not valid TOML: {exc}") from exc
    return layout_from_dict(data, str(path))
