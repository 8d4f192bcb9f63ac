"""Issuing .pkpass files: the signing identity, per-program static bundles, signed passes."""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from app.config import Settings
from app.links import apple_web_service_url
from app.metrics import PASS_BUILDS, timed
from app.models import Member
from app.startup import startup_lock
from app.wallet.apple.certs import (
    CertificateError,
    SigningIdentity,
    create_dev_identity,
    expiry_warning,
    is_development,
    load_identity,
)
from app.wallet.apple.passjson import build_pass_json, pass_strings
from app.wallet.apple.signing import PassSigner, StaticBundle, make_static_bundle
from app.wallet.content import CardContent, card_content
from app.wallet.snapshot import CardSnapshot, load_design_files, load_snapshot
from app.wallet.stamps import ART_FILENAME, StampRow, strip_files

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
    """Builds signed passes; keys are parsed once and static files bundled once per design.

    `design_files(program_id)` gives a design's stored image files (filename -> bytes); it
    is called only when a design version's bundle is first built.
    """

    def __init__(self, identity: SigningIdentity, settings: Settings,
                 design_files: Callable[[int], dict[str, bytes]] = load_design_files) -> None:
        self.identity = identity
        self.signer = PassSigner(identity)
        self.settings = settings
        self.design_files = design_files
        self._bundles: dict[tuple[int, int, StampRow | None], StaticBundle] = {}
        self._lock = threading.Lock()

    @property
    def web_service_url(self) -> str:
        """Where devices reach the PassKit web service (they append /v1/... themselves)."""
        return apple_web_service_url(self.settings)

    def pkpass(self, member: Member) -> bytes:
        """The signed .pkpass bytes of a member's current card."""
        return self.pkpass_of(load_snapshot(member))

    def pkpass_of(self, snapshot: CardSnapshot) -> bytes:
        """The signed .pkpass bytes of the card a snapshot describes (counted and timed)."""
        with timed(PASS_BUILDS.observe):
            return self._build(snapshot)

    def _build(self, snapshot: CardSnapshot) -> bytes:
        """Build and sign the pass of a snapshot."""
        content = card_content(snapshot)
        data = build_pass_json(content, auth_token=snapshot.member.auth_token,
                               pass_type_id=self.identity.pass_type_id,
                               team_id=self.identity.team_id,
                               web_service_url=self.web_service_url)
        return self.signer.build_pkpass(data, self.bundle(content))

    def bundle(self, content: CardContent) -> StaticBundle:
        """The design's images and pass.strings, built once per design version (and, for
        stamp cards, per stamp count: the strip shows the stamps)."""
        stamps = content.style.stamps
        key = (content.program_id, content.design_version, stamps.row if stamps else None)
        bundle = self._bundles.get(key)
        if bundle is None:
            files = dict(self.design_files(content.program_id))
            art = files.pop(ART_FILENAME, None)
            if stamps is not None:
                files.update(strip_files(stamps.background_color, stamps.foreground_color,
                                         art, stamps.row))
            files.update(pass_strings(content))
            bundle = make_static_bundle(files)
            with self._lock:
                self._bundles = {k: v for k, v in self._bundles.items()
                                 if k[0] != content.program_id
                                 or k[1] == content.design_version}
                self._bundles[key] = bundle
                while len(self._bundles) > MAX_BUNDLES:  # oldest first: dicts keep order
                    self._bundles.pop(next(iter(self._bundles)))
        return bundle
