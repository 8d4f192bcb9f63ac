"""Languages, built-in translations and pass.strings encoding."""

from __future__ import annotations

import re

import pytest

from app.wallet.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    best_language,
    builtin,
    check_placeholders,
    encode_strings,
    normalize_language,
    parse_strings,
    pass_strings_files,
    translate,
    validate_overrides,
)

BUILTIN = builtin()  # the catalogs' card texts: {English: {language: translation}}

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
REQUIRED_TEXTS = [
    "Points",
    "Member",
    "Name",
    "Tier",
    "Member since",
    "Rewards",
    "Next reward",
    "Stamps",
    "Balance",
    "Terms and conditions",
    "About",
    "Points expiring",
    "Referral code",
    "Expires",
    "Visit us",
    "You now have %@ points",
    "Your tier is now %@",
    "New reward available: %@",
    "You now have %@ stamps",
]
CHANGE_MESSAGES = [text for text in BUILTIN if "%@" in text]
THAI = re.compile(r"[\u0e00-\u0e7f]")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Characters that exist only in Simplified Chinese; none may appear in zh-Hant text.
SIMPLIFIED_ONLY = set("点会员级奖励换现条细关门币码间话邮电钱网营业时结账请数过为这个们来张")
VIETNAMESE_MARKS = re.compile(
    "[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.IGNORECASE
)


# ---- BUILTIN --------------------------------------------------------------------------------


def test_builtin_covers_the_standard_card_texts() -> None:
    missing = [text for text in REQUIRED_TEXTS if text not in BUILTIN]
    assert not missing


@pytest.mark.parametrize("text", sorted(BUILTIN))
def test_builtin_entry_is_complete_and_clean(text: str) -> None:
    entry = BUILTIN[text]
    assert set(entry) == set(TRANSLATED)
    for lang, translation in entry.items():
        assert translation and translation == translation.strip(), (lang, translation)
        assert "\n" not in translation
    assert THAI.search(entry["th"])
    assert CJK.search(entry["zh-Hant"])
    assert not SIMPLIFIED_ONLY & set(entry["zh-Hant"]), entry["zh-Hant"]


def test_translations_differ_from_english_and_vietnamese_has_diacritics() -> None:
    for text in REQUIRED_TEXTS:
        for lang in TRANSLATED:
            assert BUILTIN[text][lang] != text, (text, lang)
    with_marks = [text for text in REQUIRED_TEXTS if VIETNAMESE_MARKS.search(BUILTIN[text]["vi"])]
    assert len(with_marks) >= len(REQUIRED_TEXTS) - 2  # "Tem" (stamps) is plain ASCII


@pytest.mark.parametrize("text", CHANGE_MESSAGES)
def test_every_builtin_change_message_keeps_exactly_one_placeholder(text: str) -> None:
    assert text.count("%@") == 1
    for lang, translation in BUILTIN[text].items():
        assert translation.count("%@") == 1, (lang, translation)
        check_placeholders(text, translation, lang)


def test_required_change_messages_are_present() -> None:
    assert {
        "You now have %@ points",
        "Your tier is now %@",
        "New reward available: %@",
        "You now have %@ stamps",
    } <= set(CHANGE_MESSAGES)


# ---- normalize_language / best_language -----------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("EN", "en"),
        ("th", "th"),
        ("th-TH", "th"),
        ("th_TH.UTF-8", "th"),
        ("vi", "vi"),
        ("vi-VN", "vi"),
        ("ms", "ms"),
        ("ms-MY", "ms"),
        ("ms-Latn-MY", "ms"),
        ("zh-Hant", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh_Hant", "zh-Hant"),
        ("zh-hant-tw", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        (" zh-tw ", "zh-Hant"),
        ("zh", None),
        ("zh-CN", None),
        ("zh-Hans", None),
        ("zh-Hans-TW", None),
        ("zh-SG", None),
        ("fr", None),
        ("id", None),
        ("", None),
        ("*", None),
        ("th;q=0.8", None),
        ("-", None),
    ],
)
def test_normalize_language(tag: str, expected: str | None) -> None:
    assert normalize_language(tag) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("th-TH,th;q=0.9,en-US;q=0.8,en;q=0.7", "th"),
        ("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.5", "zh-Hant"),
        ("en;q=0.3, vi;q=0.9", "vi"),
        ("zh-CN,zh;q=0.9", DEFAULT_LANGUAGE),
        ("ms;q=0, en;q=0.1", "en"),
        ("", DEFAULT_LANGUAGE),
        (None, DEFAULT_LANGUAGE),
        ("garbage;;q=x", DEFAULT_LANGUAGE),
    ],
)
def test_best_language(header: str | None, expected: str) -> None:
    assert best_language(header) == expected


# ---- translate and overrides -----------------------------------------------------------------


def test_translate_uses_builtin_then_falls_back_to_the_source() -> None:
    assert translate("Points", "th") == "คะแนน"
    assert translate("Points", "zh-TW") == "點數"
    assert translate("Points", "en") == "Points"
    assert translate("Points", "fr") == "Points"
    assert translate("Free cookie Fridays", "th") == "Free cookie Fridays"


def test_merchant_override_wins_over_builtin() -> None:
    overrides = {"th-TH": {"Points": "แต้ม", "Free cookie": "คุกกี้ฟรี"}}
    assert translate("Points", "th", overrides) == "แต้ม"
    assert translate("Free cookie", "th", overrides) == "คุกกี้ฟรี"
    assert translate("Points", "vi", overrides) == "Điểm"


@pytest.mark.parametrize(
    "bad",
    [
        "คุณมีคะแนนใหม่",  # placeholder lost
        "%@ / %@ คะแนน",  # placeholder twice
        "คุณมี %d คะแนน %@",  # another printf directive
        "ลด 10% ตอนนี้ %@",  # bare percent sign must be written %%
    ],
)
def test_override_of_change_message_must_keep_placeholder(bad: str) -> None:
    with pytest.raises(ValueError, match="%"):
        validate_overrides({"th": {"You now have %@ points": bad}})
    with pytest.raises(ValueError, match="You now have %@ points"):
        pass_strings_files(["You now have %@ points"], {"th": {"You now have %@ points": bad}})


def test_placeholder_override_that_is_valid() -> None:
    table = {"You now have %@ points": "目前累積 %@ 點（100%% 回饋）"}
    assert validate_overrides({"zh-TW": table}) == {"zh-Hant": table}
    with pytest.raises(ValueError, match="exactly 1"):
        validate_overrides({"th": {"You now have %@ points": "คะแนน %%@"}})  # %%@ is no placeholder


@pytest.mark.parametrize(
    "overrides",
    [{"fr": {"Points": "Points"}}, {"th": ["not", "a", "mapping"]}, {"th": {"Points": 5}}],
)
def test_malformed_overrides_are_refused(overrides: dict) -> None:
    with pytest.raises(ValueError):
        validate_overrides(overrides)


def test_blank_override_falls_back_to_builtin() -> None:
    assert translate("Points", "ms", {"ms": {"Points": "  "}}) == "Mata"


# ---- pass_strings_files ----------------------------------------------------------------------

TEXTS = ["Points", "You now have %@ points", "Member since", "Free cookie Fridays", "Points", ""]


def test_one_file_per_language() -> None:
    files = pass_strings_files(TEXTS)
    assert list(files) == [f"{lang}.lproj/pass.strings" for lang in LANGUAGES]
    assert all(data.startswith(b"\xff\xfe") for data in files.values())


def test_source_language_file_maps_texts_to_themselves() -> None:
    en = parse_strings(pass_strings_files(TEXTS)["en.lproj/pass.strings"])
    assert en == {text: text for text in TEXTS if text}


def test_translated_files_contain_only_known_translations() -> None:
    files = pass_strings_files(TEXTS, {"th": {"Free cookie Fridays": "ศุกร์คุกกี้ฟรี"}})
    th = parse_strings(files["th.lproj/pass.strings"])
    assert th == {
        "Points": "คะแนน",
        "You now have %@ points": "ตอนนี้คุณมี %@ คะแนน",
        "Member since": "เป็นสมาชิกตั้งแต่",
        "Free cookie Fridays": "ศุกร์คุกกี้ฟรี",
    }
    zh = parse_strings(files["zh-Hant.lproj/pass.strings"])
    assert "Free cookie Fridays" not in zh
    assert zh["Points"] == "點數"
    for lang in TRANSLATED:
        table = parse_strings(files[f"{lang}.lproj/pass.strings"])
        assert table["You now have %@ points"].count("%@") == 1


def test_overrides_apply_to_the_source_language_too() -> None:
    files = pass_strings_files(["Points"], {"en": {"Points": "Beans"}})
    assert parse_strings(files["en.lproj/pass.strings"]) == {"Points": "Beans"}


def test_non_english_source_language() -> None:
    files = pass_strings_files(
        ["แต้มสะสม", "Points"], {"en": {"แต้มสะสม": "Points earned"}}, source_language="th-TH"
    )
    assert parse_strings(files["th.lproj/pass.strings"]) == {
        "แต้มสะสม": "แต้มสะสม",
        "Points": "คะแนน",
    }
    assert parse_strings(files["en.lproj/pass.strings"]) == {
        "แต้มสะสม": "Points earned",
        "Points": "Points",
    }
    assert parse_strings(files["vi.lproj/pass.strings"]) == {"Points": "Điểm"}


def test_unknown_source_language_is_refused() -> None:
    with pytest.raises(ValueError, match="source language"):
        pass_strings_files(["Points"], source_language="fr")


def test_output_is_deterministic() -> None:
    assert pass_strings_files(TEXTS) == pass_strings_files(list(TEXTS))


# ---- encode_strings / parse_strings ----------------------------------------------------------


def test_encoding_is_utf16_with_bom_and_apple_syntax() -> None:
    data = encode_strings({"Points": "คะแนน"})
    assert data[:2] == b"\xff\xfe"
    assert data[2:].decode("utf-16-le") == '"Points" = "คะแนน";\n'


def test_escaping() -> None:
    text = encode_strings({'Say "hi"\\now': "line1\nline2\ttab\rcr\x01"})[2:].decode("utf-16-le")
    assert text == '"Say \\"hi\\"\\\\now" = "line1\\nline2\\ttab\\rcr\\U0001";\n'


TRICKY = {
    'He said "hello"': 'เขาพูดว่า "สวัสดี"',
    "C:\\path\\to\\file": "路徑 C:\\路徑\\檔案",
    "two\nlines": "hai\ndòng",
    "ends with backslash\\": "kết thúc \\",
    '\\"': '"\\',
    "tab\tand cr\r": "控制\x07字元",
    "emoji 🎉 beyond the BMP": "表情 🎉 ☕",
    "Tiếng Việt có dấu": "Bahasa Melayu",
    "%@ points": "%@ 點",
    "=;/* not a comment */ // nor this": "ok",
}


def test_round_trip() -> None:
    assert parse_strings(encode_strings(TRICKY)) == TRICKY


def test_round_trip_of_generated_files() -> None:
    texts = list(TRICKY)
    overrides = {"th": dict(TRICKY)}
    files = pass_strings_files(texts, overrides)
    assert parse_strings(files["th.lproj/pass.strings"]) == TRICKY
    assert parse_strings(files["en.lproj/pass.strings"]) == {t: t for t in texts}


def test_parse_accepts_comments_and_other_encodings() -> None:
    source = (
        '/* Card labels */\n"Points" = "คะแนน";\n'
        '// a line comment\n"Member"="สมาชิก" ; \n'
        'bare_key = "value";\n"Same";\n'
        '"Escaped" = "\\U0e01\\u0e02 \\"q\\" \\\\";\n'
    )
    expected = {
        "Points": "คะแนน",
        "Member": "สมาชิก",
        "bare_key": "value",
        "Same": "Same",
        "Escaped": 'กข "q" \\',
    }
    assert parse_strings(source.encode("utf-8")) == expected
    assert parse_strings(b"\xef\xbb\xbf" + source.encode("utf-8")) == expected
    assert parse_strings(b"\xfe\xff" + source.encode("utf-16-be")) == expected
    assert parse_strings(b"\xff\xfe" + source.encode("utf-16-le")) == expected
    assert parse_strings(b"") == {}
    assert parse_strings(b"\xff\xfe") == {}


@pytest.mark.parametrize(
    "bad",
    ['"a" = "b"', '"a" "b";', '"a = "b";', '"a" = ;', "/* open", '"a" = "\\U12";', '= "b";'],
)
def test_parse_refuses_malformed_files(bad: str) -> None:
    with pytest.raises(ValueError, match="line"):
        parse_strings(bad.encode("utf-8"))
