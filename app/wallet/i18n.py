"""Card languages, built-in translations and Apple's `pass.strings` localization files.

Model: pass.json carries every text in the program's source language (English by
default). Each `<lang>.lproj/pass.strings` maps those exact source texts to their
translation; Wallet swaps them in on a phone set to that language and shows the
pass.json text everywhere else.

Merchant overrides use the shape of design.json's "translations":
`{language: {source text: translation}}`; they win over the built-in texts. Language keys may
be any tag normalize_language understands ("zh-TW", "th-TH", ...).

Texts containing `%@` are change messages: Wallet substitutes the new value there,
so every translation must keep exactly as many `%@` as the source (one, in practice)
and no other `%` directive (write a literal percent sign as `%%`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from app import i18n as catalogs
from app.i18n import pgettext_noop

LANGUAGES: tuple[str, ...] = ("en", "th", "zh-Hant", "vi", "ms")
DEFAULT_LANGUAGE = "en"

Overrides = Mapping[str, Mapping[str, str]]

# The built-in card texts are the gettext catalogs' entries under the context "card"
# (app/translations). zh-Hant is written for Taiwan and Hong Kong readers alike; Malay is
# Bahasa Malaysia.
CARD_CONTEXT = "card"
CARD_TEXTS = (
    pgettext_noop("card", "About"), pgettext_noop("card", "Add to Apple Wallet"),
    pgettext_noop("card", "Add to Google Wallet"), pgettext_noop("card", "Address"),
    pgettext_noop("card", "Balance"), pgettext_noop("card", "Email"),
    pgettext_noop("card", "Expires"), pgettext_noop("card", "Join"),
    pgettext_noop("card", "Member"), pgettext_noop("card", "Member ID"),
    pgettext_noop("card", "Member since"), pgettext_noop("card", "Name"),
    pgettext_noop("card", "New reward available: %@"), pgettext_noop("card", "Next reward"),
    pgettext_noop("card", "Opening hours"), pgettext_noop("card", "Perks"),
    pgettext_noop("card", "Phone"), pgettext_noop("card", "Points"),
    pgettext_noop("card", "Points expiring"), pgettext_noop("card", "Referral code"),
    pgettext_noop("card", "Rewards"), pgettext_noop("card", "Show this card at checkout"),
    pgettext_noop("card", "Stamps"), pgettext_noop("card", "Terms and conditions"),
    pgettext_noop("card", "Tier"), pgettext_noop("card", "Visit us"),
    pgettext_noop("card", "Visits"), pgettext_noop("card", "Washes"),
    pgettext_noop("card", "Website"), pgettext_noop("card", "You now have %@ points"),
    pgettext_noop("card", "You now have %@ stamps"),
    pgettext_noop("card", "You now have %@ washes"),
    pgettext_noop("card", "Your balance is now %@"), pgettext_noop("card", "Your loyalty card"),
    pgettext_noop("card", "Your tier is now %@"),
)
"""The card vocabulary (labels and change messages) as written in English, marked for the
catalogs: a card text equal to one of them shows translated on phones in those languages."""


def builtin() -> dict[str, dict[str, str]]:
    """Every built-in card text (English) with its translation in each other language."""
    prefix = CARD_CONTEXT + "\x04"
    english = getattr(catalogs.translations(DEFAULT_LANGUAGE), "_catalog", {})
    texts = [key[len(prefix):] for key in english if isinstance(key, str)
             and key.startswith(prefix)]
    return {text: {lang: found for lang in LANGUAGES if lang != DEFAULT_LANGUAGE
                   if (found := catalogs.translated(lang, text, CARD_CONTEXT)) is not None}
            for text in texts}

_TAG_SPLIT = re.compile(r"[-_]")
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}
_DIRECTIVE = re.compile(r"%(.?)", re.DOTALL)
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def normalize_language(tag: str) -> str | None:
    """Map a BCP 47 / POSIX tag ('zh-TW', 'th_TH', 'en-US') to one of LANGUAGES, or None."""
    if not isinstance(tag, str):
        return None
    parts = [p.lower() for p in _TAG_SPLIT.split(tag.strip().split(".")[0]) if p]
    if not parts or not all(p.isalnum() for p in parts):
        return None
    primary, rest = parts[0], set(parts[1:])
    if primary == "zh":
        if "hans" in rest:
            return None
        if "hant" in rest or rest & _TRADITIONAL_REGIONS:
            return "zh-Hant"
        return None  # bare "zh", zh-CN, zh-SG: Simplified Chinese, which we do not ship
    if primary in ("en", "th", "vi", "ms"):
        return primary
    return None


def best_language(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick the best of LANGUAGES for an HTTP Accept-Language header, else `default`."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        lang = normalize_language(tag)
        if lang and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else default


def validate_overrides(overrides: Overrides | None) -> dict[str, dict[str, str]]:
    """Check merchant translations and return them keyed by normalized language."""
    clean: dict[str, dict[str, str]] = {}
    for tag, table in (overrides or {}).items():
        lang = normalize_language(tag)
        if lang is None:
            raise ValueError(
                f"Unsupported translation language {tag!r}; use one of: {', '.join(LANGUAGES)}."
            )
        if not isinstance(table, Mapping):
            raise ValueError(f"Translations for {tag!r} must map source texts to translations.")
        merged = clean.setdefault(lang, {})
        for source, translation in table.items():
            if not isinstance(source, str) or not isinstance(translation, str):
                raise ValueError(f"Translations for {tag!r} must be strings.")
            check_placeholders(source, translation, lang)
            if translation.strip():
                merged[source] = translation
    return clean


def check_placeholders(source: str, translation: str, lang: str = "") -> None:
    """Raise ValueError when a change-message translation loses or adds `%@` placeholders."""
    expected = _directives(source).count("@")
    if expected == 0:
        return
    where = f" ({lang})" if lang else ""
    directives = _directives(translation)
    if directives.count("@") != expected:
        raise ValueError(
            f"The translation{where} of {source!r} must contain %@ exactly {expected} time(s), "
            f"where the new value goes; got {translation!r}."
        )
    if any(d not in ("@", "%") for d in directives):
        raise ValueError(
            f"The translation{where} of {source!r} contains a '%' directive other than %@; "
            f"write a literal percent sign as %%. Got {translation!r}."
        )


def _directives(text: str) -> list[str]:
    """The character after each format '%', read left to right ('%%' is one literal '%')."""
    return _DIRECTIVE.findall(text)


def translate(text: str, lang: str, overrides: Overrides | None = None) -> str:
    """Translate a source text into `lang`: merchant override, then built-in, else unchanged."""
    found = _lookup(text, normalize_language(lang) or "", validate_overrides(overrides))
    return text if found is None else found


def _lookup(text: str, lang: str, overrides: dict[str, dict[str, str]]) -> str | None:
    """The translation of `text` in `lang`, or None when nobody translated it."""
    if text in overrides.get(lang, {}):
        return overrides[lang][text]
    if catalogs.translated(DEFAULT_LANGUAGE, text, CARD_CONTEXT) is None:
        return None
    return text if lang == "en" else catalogs.translated(lang, text, CARD_CONTEXT)


def pass_strings_files(
    texts: Iterable[str],
    overrides: Overrides | None = None,
    source_language: str = DEFAULT_LANGUAGE,
) -> dict[str, bytes]:
    """Build `<lang>.lproj/pass.strings` for every language in LANGUAGES."""
    source = normalize_language(source_language)
    if source is None:
        raise ValueError(
            f"Unsupported source language {source_language!r}; use one of: {', '.join(LANGUAGES)}."
        )
    clean = validate_overrides(overrides)
    unique = [t for t in dict.fromkeys(texts) if t]
    files: dict[str, bytes] = {}
    for lang in LANGUAGES:
        mapping: dict[str, str] = {}
        for text in unique:
            value = _lookup(text, lang, clean)
            if value is None and lang == source:
                value = text
            if value is not None:
                mapping[text] = value
        files[f"{lang}.lproj/pass.strings"] = encode_strings(mapping)
    return files


def _escape(value: str) -> str:
    """Escape a string for a double-quoted .strings literal."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\U{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def encode_strings(mapping: Mapping[str, str]) -> bytes:
    """Encode `"key" = "value";` lines as UTF-16 little-endian with a byte-order mark."""
    lines = [f'"{_escape(key)}" = "{_escape(value)}";\n' for key, value in mapping.items()]
    return b"\xff\xfe" + "".join(lines).encode("utf-16-le")


def _decode_text(data: bytes) -> str:
    """Decode .strings bytes by their BOM (UTF-16 LE/BE, UTF-8), defaulting to UTF-8."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    return data.decode("utf-8")


def parse_strings(data: bytes) -> dict[str, str]:
    """Parse a .strings file (the inverse of encode_strings); ValueError when malformed."""
    return _StringsParser(_decode_text(data)).parse()


class _StringsParser:
    """A small reader for the old-style plist `"key" = "value";` format, with comments."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> dict[str, str]:
        """Read every entry until the end of the text."""
        result: dict[str, str] = {}
        while self._skip_blank():
            key = self._token()
            self._skip_blank()
            if self._peek() == ";":  # `"key";` is shorthand for `"key" = "key";`
                self.pos += 1
                result[key] = key
                continue
            self._expect("=")
            self._skip_blank()
            value = self._token()
            self._skip_blank()
            self._expect(";")
            result[key] = value
        return result

    def _peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _fail(self, what: str) -> ValueError:
        line = self.text.count("\n", 0, self.pos) + 1
        return ValueError(f"Malformed .strings file at line {line}: {what}.")

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            raise self._fail(f"expected {char!r}")
        self.pos += 1

    def _skip_blank(self) -> bool:
        """Skip whitespace and comments; False at the end of the text."""
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self._fail("unterminated comment")
                self.pos = end + 2
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            else:
                return True
        return False

    def _token(self) -> str:
        """A quoted string, or a bare word of letters, digits and `_.-/:`."""
        if self._peek() == '"':
            return self._quoted()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_.-/:$"
        ):
            self.pos += 1
        if start == self.pos:
            raise self._fail("expected a quoted string")
        return self.text[start : self.pos]

    def _quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                out.append(self._escape_sequence())
            else:
                out.append(ch)
                self.pos += 1
        raise self._fail("unterminated string")

    def _escape_sequence(self) -> str:
        code = self.text[self.pos + 1 : self.pos + 2]
        if code in ("U", "u"):
            digits = self.text[self.pos + 2 : self.pos + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self._fail("bad \\U escape")
            self.pos += 6
            return chr(int(digits, 16))
        if not code:
            raise self._fail("unterminated string")
        self.pos += 2
        return _UNESCAPES.get(code, code)
