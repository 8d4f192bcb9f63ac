"""Starter designs: schema, colours, translations, artwork and safe loading."""

from __future__ import annotations

import copy
import importlib.util
import io
import re
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from app.wallet import templates
from app.wallet.i18n import LANGUAGES, parse_strings, pass_strings_files
from app.wallet.images import process_image
from app.wallet.templates import (
    MIN_CONTRAST,
    TEMPLATES_DIR,
    TemplateNotFound,
    contrast_ratio,
    list_templates,
    load_template,
    validate_design,
)

NAMES = ["cafe", "laundromat", "retail"]
STRING_KEYS = [
    "name",
    "organization_name",
    "description",
    "logo_text",
    "points_label",
    "currency",
    "language",
    "back_text",
    "terms",
]
COLOR_KEYS = ["background_color", "foreground_color", "label_color"]
SOURCE_SIZES = {"icon": (180, 180), "logo": (150, 150), "strip": (1125, 369)}


def load_artwork_module() -> ModuleType:
    """Import pass_templates/make_artwork.py (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_artwork", TEMPLATES_DIR / "make_artwork.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_list_templates() -> None:
    assert list_templates() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_template_has_every_key_with_the_right_type(name: str) -> None:
    design = load_template(name)
    validate_design(design)
    for key in STRING_KEYS:
        assert isinstance(design[key], str) and design[key].strip(), key
    for key in COLOR_KEYS:
        assert re.fullmatch(r"#[0-9A-F]{6}", design[key]), (key, design[key])
    assert design["barcode_format"] in ("qr", "pdf417", "aztec", "code128")
    assert re.fullmatch(r"[A-Z]{3}", design["currency"])
    assert design["language"] in LANGUAGES
    assert isinstance(design["locations"], list)
    assert isinstance(design["translations"], dict)
    assert set(design["images"]) == {"icon", "logo", "strip"}


@pytest.mark.parametrize("name", NAMES)
def test_colours_are_readable(name: str) -> None:
    design = load_template(name)
    background = design["background_color"]
    assert contrast_ratio(design["foreground_color"], background) >= MIN_CONTRAST == 4.5
    assert contrast_ratio(design["label_color"], background) >= MIN_CONTRAST


@pytest.mark.parametrize("name", NAMES)
def test_back_text_and_terms_are_translated(name: str) -> None:
    design = load_template(name)
    translations = design["translations"]
    assert set(translations) == {"th", "zh-Hant", "vi", "ms"}
    for lang, table in translations.items():
        assert set(table) == {design["back_text"], design["terms"]}, lang
        for source, text in table.items():
            assert text.strip() and text != source, (lang, source)
    files = pass_strings_files(
        [design["points_label"], design["back_text"], design["terms"]],
        translations,
        design["language"],
    )
    for lang in ("th", "zh-Hant", "vi", "ms"):
        table = parse_strings(files[f"{lang}.lproj/pass.strings"])
        assert table[design["back_text"]] == translations[lang][design["back_text"]]
        assert table[design["points_label"]] != design["points_label"]  # built-in label


@pytest.mark.parametrize("name", NAMES)
def test_texts_promise_no_reward_or_expiry_the_template_does_not_create(name: str) -> None:
    """A program made from a template has the default rules, no reward and no expiry: its
    texts must not promise a rate, a reward threshold or an expiry, in any language."""
    design = load_template(name)
    texts = [design["back_text"], design["terms"]] + [
        text for table in design["translations"].values() for text in table.values()]
    for text in texts:
        assert not re.search(r"\d", text), text  # no "1 point per $1", "100 points", "12 months"
    assert not re.search(r"expire|free", " ".join(texts[:2]), re.IGNORECASE)


@pytest.mark.parametrize("name", NAMES)
def test_template_images_are_valid_sources(name: str) -> None:
    design = load_template(name)
    for kind, data in design["images"].items():
        source = Image.open(io.BytesIO(data))
        assert source.format == "PNG"
        assert source.size == SOURCE_SIZES[kind]
        out = process_image(kind, data)
        assert len(out) == 3
    logo = Image.open(io.BytesIO(design["images"]["logo"]))
    assert logo.mode == "RGBA" and logo.getpixel((0, 0))[3] == 0  # transparent background
    for kind in ("icon", "strip"):
        assert Image.open(io.BytesIO(design["images"][kind])).mode == "RGB"  # opaque


def test_load_template_returns_a_fresh_copy() -> None:
    first = load_template("cafe")
    first["name"] = "changed"
    assert load_template("cafe")["name"] != "changed"


@pytest.mark.parametrize(
    "name",
    [
        "bakery",
        "../cafe",
        "cafe/../retail",
        "..",
        ".",
        "",
        "ca fe",
        "cafe\n",
        "/etc/passwd",
        "CAFE",
        "cafe.json",
        "caf\u00e9",
        None,
    ],
)
def test_unknown_or_unsafe_names_are_refused(name: object) -> None:
    with pytest.raises(TemplateNotFound) as info:
        load_template(name)  # type: ignore[arg-type]
    assert info.value.valid_names == NAMES
    assert "cafe, laundromat, retail" in str(info.value)
    assert isinstance(info.value, LookupError)


def test_incomplete_folders_are_not_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "only_json").mkdir()
    (tmp_path / "only_json" / "design.json").write_text("{}")
    (tmp_path / "bad name").mkdir()
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path)
    assert list_templates() == []
    with pytest.raises(TemplateNotFound, match=r"\(none\)"):
        load_template("only_json")


# ---- validate_design ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("terms"), "missing"),
        (lambda d: d.update(name=5), "'name'"),
        (lambda d: d.update(background_color="brown"), "background_color"),
        (lambda d: d.update(label_color="#12345"), "label_color"),
        (lambda d: d.update(barcode_format="ean13"), "barcode_format"),
        (lambda d: d.update(currency="usd"), "currency"),
        (lambda d: d.update(language="fr"), "language"),
        (lambda d: d.update(locations=[{"latitude": 95, "longitude": 0}]), "latitude"),
        (lambda d: d.update(locations=[{"latitude": 1, "longitude": 2}] * 11), "at most 10"),
        (lambda d: d.update(translations={"de": {}}), "translation language"),
        (lambda d: d.update(translations={"th": {"You now have %@ points": "คะแนน"}}), "%@"),
    ],
)
def test_validate_design_names_the_problem(change, message: str) -> None:
    design = copy.deepcopy(load_template("cafe"))
    change(design)
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_design(design)


# ---- contrast -------------------------------------------------------------------------------


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#4B2E1E", "#4B2E1E") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#FFFFFF") >= 4.5  # the well-known lightest passing grey


# ---- artwork script -------------------------------------------------------------------------


def test_artwork_is_deterministic_and_matches_the_documented_sizes(tmp_path: Path) -> None:
    module = load_artwork_module()
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in module.generate(tmp_path / "a")}
    second = {
        p.relative_to(tmp_path / "b"): p.read_bytes() for p in module.generate(tmp_path / "b")
    }
    assert first == second
    assert sorted(str(p) for p in first) == sorted(
        f"{name}/{kind}.png" for name in NAMES for kind in SOURCE_SIZES
    )
    for path, data in first.items():
        assert Image.open(io.BytesIO(data)).size == SOURCE_SIZES[path.stem]
