"""The Apple Wallet signing identity: Pass Type ID certificate, its key and Apple's WWDR.

Loading checks everything Apple would reject later (wrong WWDR, expired or
mismatched files, a subject without UID/OU) up front, with messages that name
the file and the problem but never key material or passwords.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DEV_FILES = {
    "root": "dev-root.pem",
    "wwdr": "dev-wwdr.pem",
    "cert": "pass-cert.pem",
    "key": "pass-key.pem",
}
_DEV_ORG = "walletpass development"


class CertificateError(Exception):
    """A signing file is missing, unreadable or unusable; the message says which and why."""


@dataclass(frozen=True)
class SigningIdentity:
    """A checked Pass Type ID certificate with its private key and WWDR intermediate."""

    certificate: x509.Certificate
    private_key: SigningKey
    wwdr: x509.Certificate
    pass_type_id: str
    team_id: str
    not_after: dt.datetime


# --- loading ----------------------------------------------------------------


def load_identity(
    *,
    cert_path: str | Path | None = None,
    key_path: str | Path | None = None,
    key_password: str | None = None,
    wwdr_path: str | Path | None = None,
    p12_path: str | Path | None = None,
    p12_password: str | None = None,
    now: dt.datetime | None = None,
) -> SigningIdentity:
    """Load and check a signing identity from PEM/DER files or a .p12 bundle.

    Empty strings count as "not given", so unset settings can be passed as they are.
    """
    now = _utc(now)
    cert, key, extra, cert_label = _load_sources(
        cert_path or None, key_path or None, key_password, p12_path or None, p12_password
    )
    wwdr = _choose_wwdr(cert, extra, wwdr_path or None)
    _check_key_matches(cert, key, cert_label)
    _check_validity(cert, cert_label, now)
    pass_type_id, team_id = _subject_ids(cert, cert_label)
    _check_issuer(cert, wwdr, cert_label)
    _check_validity(wwdr, "Apple WWDR intermediate certificate", now)
    return SigningIdentity(
        certificate=cert,
        private_key=key,
        wwdr=wwdr,
        pass_type_id=pass_type_id,
        team_id=team_id,
        not_after=cert.not_valid_after_utc,
    )


def _load_sources(
    cert_path: str | Path | None,
    key_path: str | Path | None,
    key_password: str | None,
    p12_path: str | Path | None,
    p12_password: str | None,
) -> tuple[x509.Certificate, SigningKey, list[x509.Certificate], str]:
    """Read certificate, key and any extra certificates from a .p12 or a PEM pair."""
    if p12_path is not None:
        cert, key, extra = _load_p12(Path(p12_path), p12_password)
        return cert, key, extra, f"certificate in {p12_path}"
    if cert_path is None and key_path is None:
        raise CertificateError(
            "no signing certificate configured: give a .p12 file, or a certificate file "
            "and its private key file"
        )
    if cert_path is None or key_path is None:
        given, missing = (
            ("certificate", "private key") if key_path is None else ("private key", "certificate")
        )
        raise CertificateError(f"a {given} file is configured but no {missing} file")
    cert = _load_certificate(Path(cert_path), "Pass Type ID certificate")
    key = _load_private_key(Path(key_path), key_password)
    return cert, key, [], f"certificate {cert_path}"


WWDR_URL = "https://www.apple.com/certificateauthority/"
"""Where Apple publishes the WWDR intermediate certificates."""


@dataclass(frozen=True)
class Expiry:
    """A certificate of the identity that expires soon: `which` is "pass_type_id" (the
    merchant's certificate) or "wwdr" (Apple's intermediate)."""

    which: str
    pass_type_id: str
    end: dt.datetime
    days_left: int


def expiring(
    identity: SigningIdentity, now: dt.datetime | None = None, days: int = 30
) -> Expiry | None:
    """The first certificate of the identity that expires within `days`, else None."""
    now = _utc(now)
    limit = now + dt.timedelta(days=days)
    for which, cert in (("pass_type_id", identity.certificate), ("wwdr", identity.wwdr)):
        end = cert.not_valid_after_utc
        if end <= limit:
            return Expiry(which, identity.pass_type_id, end, max(0, (end - now).days))
    return None


def expiry_warning(
    identity: SigningIdentity, now: dt.datetime | None = None, days: int = 30
) -> str | None:
    """Return a warning if the certificate or the WWDR expires within `days`, else None."""
    found = expiring(identity, now, days)
    if found is None:
        return None
    if found.which == "wwdr":
        label = "Apple WWDR intermediate certificate"
        advice = f"download its successor from {WWDR_URL}"
    else:
        label = f"Pass Type ID certificate for {found.pass_type_id}"
        advice = "renew it in the Apple Developer portal"
    return (
        f"{label} expires on {found.end:%Y-%m-%d} (in {found.days_left} "
        f"{'day' if found.days_left == 1 else 'days'}): {advice} before "
        "then, or passes can no longer be signed or pushed"
    )


def _utc(now: dt.datetime | None) -> dt.datetime:
    """Return `now` as an aware UTC datetime (the current time if None)."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=dt.UTC)
    return now.astimezone(dt.UTC)


def _read(path: Path, what: str) -> bytes:
    """Read a whole file, turning OS errors into a CertificateError."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(f"{what} file {path} does not exist") from None
    except OSError as exc:
        raise CertificateError(f"{what} file {path} cannot be read: {exc.strerror}") from None


def _load_certificate(path: Path, what: str) -> x509.Certificate:
    """Load one X.509 certificate from a PEM or DER file."""
    data = _read(path, what)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError(
            f"{what} file {path} is not a PEM or DER X.509 certificate"
        ) from None


def _load_private_key(path: Path, password: str | None) -> SigningKey:
    """Load a PEM or DER private key, telling a wrong password from a bad file."""
    data = _read(path, "private key")
    load = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    try:
        key = load(data, None)
    except TypeError:  # encrypted
        if password is None:
            raise CertificateError(
                f"private key file {path} is encrypted: set its password"
            ) from None
        try:
            key = load(data, password.encode())
        except (ValueError, TypeError):
            raise CertificateError(
                f"private key file {path} could not be decrypted: wrong key password"
            ) from None
    except ValueError:
        raise CertificateError(f"private key file {path} is not a PEM or DER private key") from None
    return _check_key_type(key, f"private key file {path}")


def _check_key_type(key: object, label: str) -> SigningKey:
    """Accept RSA and EC keys, the kinds Apple issues and CMS signing supports here."""
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(
            f"{label} holds a {type(key).__name__}; an RSA or EC key is expected"
        )
    return key


def _load_p12(
    path: Path, password: str | None
) -> tuple[x509.Certificate, SigningKey, list[x509.Certificate]]:
    """Open a .p12 and return its certificate, key and extra certificates."""
    data = _read(path, "PKCS#12")
    secret = password.encode() if password is not None else None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        if _looks_like_pfx(data):
            raise CertificateError(
                f"PKCS#12 file {path} could not be opened: wrong password"
            ) from None
        raise CertificateError(f"file {path} is not a PKCS#12 (.p12) file") from None
    if cert is None or key is None:
        missing = "certificate" if cert is None else "private key"
        raise CertificateError(f"PKCS#12 file {path} holds no {missing}")
    return cert, _check_key_type(key, f"PKCS#12 file {path}"), list(extra)


def _looks_like_pfx(data: bytes) -> bool:
    """Tell whether bytes start like a DER PFX (SEQUENCE holding INTEGER 3)."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    first = data[1]
    offset = 2 if first < 0x80 else 2 + (first & 0x7F)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def _choose_wwdr(
    cert: x509.Certificate, extra: list[x509.Certificate], wwdr_path: str | Path | None
) -> x509.Certificate:
    """Pick the WWDR: an explicit file wins, else the p12's certificate that issued ours."""
    if wwdr_path is not None:
        return _load_certificate(Path(wwdr_path), "Apple WWDR intermediate certificate")
    for candidate in extra:
        if candidate.subject == cert.issuer:
            return candidate
    if extra:
        return extra[0]  # let the issuer check explain the mismatch
    raise CertificateError(
        "Apple WWDR intermediate certificate is missing: configure its file "
        "(AppleWWDRCAG4.cer from https://www.apple.com/certificateauthority/)"
    )


def _check_key_matches(cert: x509.Certificate, key: SigningKey, label: str) -> None:
    """Fail unless the private key belongs to the certificate's public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise CertificateError(f"the private key does not match the {label}")


def _check_validity(cert: x509.Certificate, label: str, now: dt.datetime) -> None:
    """Fail if the certificate is expired or not yet valid at `now`."""
    if now > cert.not_valid_after_utc:
        raise CertificateError(f"{label} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if now < cert.not_valid_before_utc:
        raise CertificateError(
            f"{label} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )


def _subject_ids(cert: x509.Certificate, label: str) -> tuple[str, str]:
    """Return (pass type id, team id) from the subject's UID and OU."""
    uid = cert.subject.get_attributes_for_oid(NameOID.USER_ID)
    ou = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    if not uid or not ou:
        missing = "UID (pass type identifier)" if not uid else "OU (team identifier)"
        raise CertificateError(
            f"{label} is not a Pass Type ID certificate: its subject has no {missing}"
        )
    return str(uid[0].value), str(ou[0].value)


def _check_issuer(cert: x509.Certificate, wwdr: x509.Certificate, label: str) -> None:
    """Fail unless the WWDR certificate's name and key actually issued the certificate."""
    problem = (
        f"the WWDR certificate ({wwdr.subject.rfc4514_string()}) is not the issuer of the "
        f"{label} (issued by {cert.issuer.rfc4514_string()})"
    )
    if cert.issuer != wwdr.subject:
        raise CertificateError(problem)
    try:
        cert.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(problem + ": the signature does not verify") from None


# --- development identity -----------------------------------------------------


def is_development(identity: SigningIdentity) -> bool:
    """Whether an identity comes from a development chain (its WWDR is ours, not Apple's)."""
    orgs = identity.wwdr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(attr.value == _DEV_ORG for attr in orgs)


def create_dev_identity(
    directory: Path,
    pass_type_id: str = "pass.example.walletpass.dev",
    team_id: str = "DEVTEAM000",
    days: int = 825,
) -> dict[str, Path]:
    """Write an untrusted development chain shaped like Apple's; keep existing files."""
    directory = Path(directory)
    paths = {role: directory / name for role, name in DEV_FILES.items()}
    present = [p.name for p in paths.values() if p.exists()]
    if len(present) == len(paths):
        return paths
    if present:
        raise CertificateError(
            f"{directory} already holds {', '.join(present)} but not the whole development "
            "identity; move those files away first (nothing was overwritten)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    files = _dev_chain(pass_type_id, team_id, days)
    for role, data in files.items():
        _write_new(paths[role], data, 0o600 if role == "key" else 0o644)
    return paths


def _dev_chain(pass_type_id: str, team_id: str, days: int) -> dict[str, bytes]:
    """Build root, WWDR-like intermediate and leaf; return their PEMs and the leaf key."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_end = now + dt.timedelta(days=max(days + 1, 3650))
    root_key, wwdr_key, leaf_key = (_new_rsa() for _ in range(3))
    root_name = _name(x509.NameAttribute(NameOID.COMMON_NAME, "walletpass Development Root CA"))
    root = _ca_cert(root_name, root_name, root_key, root_key, now, ca_end, path_length=None)
    wwdr_name = _name(
        x509.NameAttribute(NameOID.COMMON_NAME, "walletpass Development WWDR"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DEV"),
    )
    wwdr = _ca_cert(wwdr_name, root_name, wwdr_key, root_key, now, ca_end, path_length=0)
    leaf = _leaf_cert(pass_type_id, team_id, leaf_key, wwdr, wwdr_key, now, days)
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "root": root.public_bytes(pem),
        "wwdr": wwdr.public_bytes(pem),
        "cert": leaf.public_bytes(pem),
        "key": key_pem,
    }


def _new_rsa() -> rsa.RSAPrivateKey:
    """Generate an RSA-2048 key, the size Apple issues."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*attrs: x509.NameAttribute) -> x509.Name:
    """Build a name ending in the development organization."""
    return x509.Name([*attrs, x509.NameAttribute(NameOID.ORGANIZATION_NAME, _DEV_ORG)])


def _ca_cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey,
    start: dt.datetime,
    end: dt.datetime,
    path_length: int | None,
) -> x509.Certificate:
    """Sign a CA certificate (root when subject == issuer)."""
    usage = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    builder = (
        _base_builder(subject, issuer, key, issuer_key, start, end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _leaf_cert(
    pass_type_id: str,
    team_id: str,
    key: rsa.RSAPrivateKey,
    wwdr: x509.Certificate,
    wwdr_key: rsa.RSAPrivateKey,
    start: dt.datetime,
    days: int,
) -> x509.Certificate:
    """Sign a Pass Type ID-shaped leaf usable for CMS signing and TLS client auth."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.USER_ID, pass_type_id),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_id}"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _DEV_ORG),
    ])  # fmt: skip
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    eku = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    )
    end = start + dt.timedelta(days=days)
    builder = (
        _base_builder(subject, wwdr.subject, key, wwdr_key, start, end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(eku, critical=False)
    )
    return builder.sign(wwdr_key, hashes.SHA256())


def _base_builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey,
    start: dt.datetime,
    end: dt.datetime,
) -> x509.CertificateBuilder:
    """Start a certificate with names, validity, serial and key identifiers."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create a file that must not exist yet, with the given permission bits."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # the umask may have narrowed or the file system widened it
