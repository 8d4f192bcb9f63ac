"""Issuing .pkpass files: the signing identity, per-program static bundles, signed passes."""

from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

from app.config import Settings
from app.links import apple_web_service_url
from app.loyalty.stamps import ART_KIND as STAMP_ART_KIND
from app.loyalty.stamps import StampRow, strip_files
from app.models import Member, Program
from app.wallet import i18n
from app.wallet.apple.certs import (
    CertificateError,
    SigningIdentity,
    create_dev_identity,
    expiry_warning,
    is_development,
    load_identity,
)
from app.wallet.apple.passjson import build_pass_json
from app.wallet.apple.signing import PassSigner, StaticBundle, make_static_bundle
from app.wallet.content import card_content

PKPASS_MIMETYPE = "application/vnd.apple.pkpass"
MAX_BUNDLES = 512
"""Static bundles kept per process (about 200 KB each): the most recently built win."""


def load_signing_identity(settings: Settings, log: logging.Logger) -> SigningIdentity:
    """The configured Pass Type ID identity, or development certificates made on first start."""
    if settings.APPLE_P12:
        identity = load_identity(p12_path=settings.APPLE_P12,
                                 p12_password=settings.APPLE_KEY_PASSWORD or None,
                                 wwdr_path=settings.APPLE_WWDR or None)
    elif settings.APPLE_CERT:
        identity = load_identity(cert_path=settings.APPLE_CERT, key_path=settings.APPLE_KEY,
                                 key_password=settings.APPLE_KEY_PASSWORD or None,
                                 wwdr_path=settings.APPLE_WWDR)
    else:
        from app import startup_lock

        with startup_lock(Path(settings.DATA_DIR)):  # one process makes them, all load them
            paths = create_dev_identity(Path(settings.DATA_DIR) / "dev-certs",
                                        pass_type_id=settings.APPLE_DEV_PASS_TYPE_ID,
                                        team_id=settings.APPLE_DEV_TEAM_ID)
        log.warning("No Apple certificate configured: using development certificates in %s; "
                    "no iPhone will accept these passes.", paths["cert"].parent)
        identity = load_identity(cert_path=paths["cert"], key_path=paths["key"],
                                 wwdr_path=paths["wwdr"])
    _check_expected_ids(identity, settings)
    for warning in (expiry_warning(identity), reachability_warning(identity, settings)):
        if warning:
            log.warning(warning)
    return identity


def reachability_warning(identity: SigningIdentity, settings: Settings) -> str | None:
    """A warning when passes signed for phones point at a URL no phone can reach."""
    if is_development(identity):
        return None
    url = urlsplit(settings.BASE_URL)
    problem = None
    if url.scheme != "https":
        problem = "is not https (devices only call an https web service)"
    elif _is_loopback(url.hostname or ""):
        problem = "is a loopback address (phones cannot reach it)"
    if problem is None:
        return None
    return (f"WALLETPASS_BASE_URL {settings.BASE_URL} {problem}: passes will install but "
            "never update. Set it to the service's public https URL.")


def _is_loopback(host: str) -> bool:
    """Whether a host name or address means this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_expected_ids(identity: SigningIdentity, settings: Settings) -> None:
    """Fail at start-up when the certificate is not for the configured pass type or team."""
    expected = {"WALLETPASS_APPLE_PASS_TYPE_ID": (settings.APPLE_PASS_TYPE_ID,
                                                  identity.pass_type_id, "UID"),
                "WALLETPASS_APPLE_TEAM_ID": (settings.APPLE_TEAM_ID, identity.team_id, "OU")}
    for var, (wanted, actual, field) in expected.items():
        if wanted and wanted != actual:
            raise CertificateError(
                f"{var} is {wanted!r} but the Pass Type ID certificate is for {actual!r} "
                f"(its subject {field}); Wallet rejects passes whose identifiers do not match "
                "the certificate. Fix the setting or use the matching certificate.")


class PassIssuer:
    """Builds signed passes; keys are parsed once and static files bundled once per design."""

    def __init__(self, identity: SigningIdentity, settings: Settings) -> None:
        self.identity = identity
        self.signer = PassSigner(identity)
        self.settings = settings
        self._bundles: dict[tuple[int, int, StampRow | None], StaticBundle] = {}
        self._lock = threading.Lock()

    @property
    def web_service_url(self) -> str:
        """Where devices reach the PassKit web service (they append /v1/... themselves)."""
        return apple_web_service_url(self.settings)

    def pkpass(self, member: Member) -> bytes:
        """The signed .pkpass bytes of a member's current card."""
        program = member.program
        content = card_content(program, member)
        data = build_pass_json(program, member, pass_type_id=self.identity.pass_type_id,
                               team_id=self.identity.team_id,
                               web_service_url=self.web_service_url, content=content)
        return self.signer.build_pkpass(data, self.bundle(program, content.translatable,
                                                          content.stamps))

    def bundle(self, program: Program, texts: list[str],
               stamps: StampRow | None = None) -> StaticBundle:
        """The program's images and pass.strings, built once per design version (and, for
        stamp cards, per stamp count: the strip shows the stamps)."""
        key = (program.id, program.design_version, stamps)
        bundle = self._bundles.get(key)
        if bundle is None:
            files = {img.filename: img.data for img in program.images
                     if img.kind != STAMP_ART_KIND}
            if stamps is not None:
                files.update(strip_files(program, stamps))
            files.update(i18n.pass_strings_files(texts, program.translations or None,
                                                 source_language=program.language or "en"))
            bundle = make_static_bundle(files)
            with self._lock:
                self._bundles = {k: v for k, v in self._bundles.items()
                                 if k[0] != program.id or k[1] == program.design_version}
                self._bundles[key] = bundle
                while len(self._bundles) > MAX_BUNDLES:  # oldest first: dicts keep order
                    self._bundles.pop(next(iter(self._bundles)))
        return bundle
