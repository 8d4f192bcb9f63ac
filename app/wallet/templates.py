"""Starter card designs shipped in pass_templates/: a design.json and source artwork each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from app.wallet.i18n import LANGUAGES, check_placeholders

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "pass_templates"
IMAGE_KINDS = ("icon", "logo", "strip")
BARCODE_FORMATS = ("qr", "pdf417", "aztec", "code128")
MIN_CONTRAST = 4.5

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_STRING_KEYS = (
    "name",
    "organization_name",
    "description",
    "logo_text",
    "points_label",
    "currency",
    "language",
    "back_text",
    "terms",
)
_COLOR_KEYS = ("background_color", "foreground_color", "label_color")
REQUIRED_KEYS: tuple[str, ...] = (
    *_STRING_KEYS,
    *_COLOR_KEYS,
    "barcode_format",
    "locations",
)


class TemplateNotFound(LookupError):
    """No starter design by that name; .valid_names lists the ones that exist."""

    def __init__(self, name: str, valid_names: list[str]) -> None:
        self.name = name
        self.valid_names = valid_names
        self.message = (
            f"Unknown template {name!r}; choose one of: {', '.join(valid_names) or '(none)'}."
        )
        super().__init__(self.message)


def list_templates() -> list[str]:
    """Names of the complete starter designs (design.json plus all three images), sorted."""
    if not TEMPLATES_DIR.is_dir():
        return []
    return sorted(
        entry.name
        for entry in TEMPLATES_DIR.iterdir()
        if _NAME.fullmatch(entry.name) and _is_complete(entry)
    )


def _is_complete(folder: Path) -> bool:
    """A template folder needs design.json and icon, logo and strip PNGs."""
    needed = ["design.json", *(f"{kind}.png" for kind in IMAGE_KINDS)]
    return folder.is_dir() and all((folder / file).is_file() for file in needed)


def load_template(name: str) -> dict[str, Any]:
    """The parsed design.json of a starter design plus its raw source images under "images"."""
    valid = list_templates()
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name not in valid:
        raise TemplateNotFound(str(name), valid)
    folder = TEMPLATES_DIR / name
    design: dict[str, Any] = json.loads((folder / "design.json").read_text(encoding="utf-8"))
    design["images"] = {kind: (folder / f"{kind}.png").read_bytes() for kind in IMAGE_KINDS}
    return design


def validate_design(design: dict[str, Any]) -> None:
    """Raise ValueError naming the first problem in a design dict (design.json schema)."""
    missing = [key for key in REQUIRED_KEYS if key not in design]
    if missing:
        raise ValueError(f"Design is missing key(s): {', '.join(missing)}.")
    for key in _STRING_KEYS:
        if not isinstance(design[key], str):
            raise ValueError(f"'{key}' must be a string.")
    for key in _COLOR_KEYS:
        if not _HEX_COLOR.fullmatch(design[key]):
            raise ValueError(f"'{key}' must be a colour written like \"#4B2E1E\".")
    if design["barcode_format"] not in BARCODE_FORMATS:
        raise ValueError(f"'barcode_format' must be one of: {', '.join(BARCODE_FORMATS)}.")
    if not _CURRENCY.fullmatch(design["currency"]):
        raise ValueError("'currency' must be a 3-letter ISO 4217 code such as \"THB\".")
    if design["language"] not in LANGUAGES:
        raise ValueError(f"'language' must be one of: {', '.join(LANGUAGES)}.")
    _validate_locations(design["locations"])
    _validate_translations(design.get("translations", {}))


def _validate_locations(locations: Any) -> None:
    """At most 10 {latitude, longitude, relevant_text?} entries (Apple's limit)."""
    if not isinstance(locations, list) or len(locations) > 10:
        raise ValueError("'locations' must be a list of at most 10 places.")
    for place in locations:
        if not isinstance(place, dict):
            raise ValueError("Each location must be an object.")
        lat, lon = place.get("latitude"), place.get("longitude")
        if not isinstance(lat, int | float) or not -90 <= lat <= 90:
            raise ValueError("Each location needs a 'latitude' between -90 and 90.")
        if not isinstance(lon, int | float) or not -180 <= lon <= 180:
            raise ValueError("Each location needs a 'longitude' between -180 and 180.")
        if not isinstance(place.get("relevant_text", ""), str):
            raise ValueError("A location's 'relevant_text' must be a string.")


def _validate_translations(translations: Any) -> None:
    """{language: {source text: translation}} with known languages and intact `%@`."""
    if not isinstance(translations, dict):
        raise ValueError("'translations' must map a language to {source text: translation}.")
    for lang, table in translations.items():
        if lang not in LANGUAGES:
            raise ValueError(
                f"Unknown translation language {lang!r}; use one of: {', '.join(LANGUAGES)}."
            )
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise ValueError(f"Translations for {lang!r} must map source texts to strings.")
        for source, text in table.items():
            check_placeholders(source, text, lang)


def relative_luminance(hex_color: str) -> float:
    """WCAG 2 relative luminance of a '#RRGGBB' colour (0 black to 1 white)."""
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(color_a: str, color_b: str) -> float:
    """WCAG 2 contrast ratio of two '#RRGGBB' colours, from 1 (none) to 21 (black on white)."""
    high, low = sorted((relative_luminance(color_a), relative_luminance(color_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
