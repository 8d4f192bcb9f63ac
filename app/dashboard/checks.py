"""Design checks shown beside the preview: what will look wrong on a phone.

Pure functions of the design (a dict of ProgramDesign fields), the sizes of uploaded
sources and the card's languages. Each check is a message (in English, with {values};
the page translates it) and the field at fault.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from app.i18n import gettext_noop
from app.wallet import i18n
from app.wallet.images import IMAGE_SPECS
from app.wallet.templates import contrast_ratio

LIMITS = {"logo_text": 18, "points_label": 14, "name": 28}
"""Characters the phones show before cutting a text off (Apple's logo text beside a full
logo and its header label, Google's program name)."""
MIN_SOURCE = {"logo": (480, 150), "strip": (1125, 369), "icon": (87, 87)}
"""The smallest uploads that stay sharp at @3x."""
STRIP_RATIO = IMAGE_SPECS["strip"][0] / IMAGE_SPECS["strip"][1]
TEXT_CONTRAST = 4.5
LABEL_CONTRAST = 3.0


@dataclass(frozen=True)
class Check:
    """One finding: level (error or warning), the field at fault, the message and values."""

    level: str
    field: str
    message: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)


def design_checks(design: dict[str, Any], sources: dict[str, tuple[int, int] | None],
                  present: set[str]) -> list[Check]:
    """Every finding about a design, errors first."""
    found = (_truncation(design) + _contrast(design) + _images(sources, present)
             + _untranslated(design))
    return sorted(found, key=lambda c: c.level != "error")


def _truncation(design: dict[str, Any]) -> list[Check]:
    """Texts longer than the phones show."""
    out = []
    for key, limit in LIMITS.items():
        value = str(design.get(key) or "")
        if len(value) > limit:
            out.append(Check("warning", key, gettext_noop(
                "“{text}” is {length} characters long: phones "
                "cut it after about {limit}."),
                             {"text": value, "length": len(value), "limit": limit}))
    return out


def _contrast(design: dict[str, Any]) -> list[Check]:
    """Text and labels that are hard to read on the background (WCAG 2 ratio)."""
    background = design.get("background_color") or "#000000"
    out = []
    for key, floor, level, message in (
            ("foreground_color", TEXT_CONTRAST, "error", gettext_noop(
                "Text colour: low contrast, {ratio}:1 "
                "against the background (at least {floor}:1 is easy to read).")),
            ("label_color", LABEL_CONTRAST, "warning", gettext_noop(
                "Label colour: low contrast, {ratio}:1 "
                "against the background (at least {floor}:1 is easy to read)."))):
        ratio = contrast_ratio(design.get(key) or "#FFFFFF", background)
        if ratio < floor:
            out.append(Check(level, key, message,
                             {"ratio": f"{ratio:.1f}", "floor": f"{floor:g}"}))
    return out


def _images(sources: dict[str, tuple[int, int] | None], present: set[str]) -> list[Check]:
    """Missing images, uploads (logo, strip, icon) too small to be sharp, and a strip that will
    be cropped."""
    out = []
    for kind in ("logo", "strip", "icon"):
        size = sources.get(kind)
        if size is None:
            if kind not in present:
                out.append(Check("error", kind, gettext_noop("The card has no {kind} image."), {
                    "kind": kind}))
            continue
        (width, height), (min_w, min_h) = size, MIN_SOURCE[kind]
        if width < min_w or height < min_h:
            out.append(Check("warning", kind, gettext_noop(
                "The {kind} image is {width}×{height} pixels: "
                "upload at least {min_w}×{min_h} so it stays sharp."),
                             {"kind": kind, "width": width, "height": height,
                              "min_w": min_w, "min_h": min_h}))
        if kind == "strip" and abs(width / height - STRIP_RATIO) / STRIP_RATIO > 0.08:
            cut = "top and bottom" if width / height < STRIP_RATIO else "left and right"
            out.append(Check("warning", kind, gettext_noop(
                "The strip will be cropped ({cut} are cut "
                "off): its shape is not 375×123."), {"cut": cut}))
    return out


def _untranslated(design: dict[str, Any]) -> list[Check]:
    """Texts with no translation in a language the card claims."""
    from app.dashboard.drafts import TRANSLATED, languages_of

    overrides = design.get("translations") or {}
    out = []
    for lang in languages_of(design)[1:]:
        for key in TRANSLATED:
            text = str(design.get(key) or "").strip()
            if text and i18n.translate(text, lang, overrides) == text:
                out.append(Check("warning", f"tr-{lang}-{key}",
                                 gettext_noop("Not translated into {language}: {what}."),
                                 {"language": lang, "what": key}))
    return out
