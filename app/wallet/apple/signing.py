"""Build signed .pkpass archives quickly: manifest, detached CMS signature and ZIP.

A pass build is dominated by one RSA signature (about a quarter of a
millisecond), so everything else is arranged to cost next to nothing:

* A program's images and ``<lang>.lproj/pass.strings`` files never change
  between its passes. :func:`make_static_bundle` hashes them once and lays
  them out once as finished ZIP bytes (local headers + data at the start of
  the archive, and their central-directory records), so each pass only adds
  ``pass.json``, ``manifest.json`` and ``signature``.
* The signature is a CMS (PKCS#7) SignedData, DER encoded, detached (no
  eContent), with both the signer and the WWDR certificate embedded and one
  SignerInfo (issuerAndSerialNumber, sha256, rsaEncryption). Its signed
  attributes are contentType (id-data), signingTime and messageDigest (the
  SHA-256 of the exact manifest bytes: binary, no CRLF conversion). The RSA
  signature covers the attributes encoded as a ``SET OF`` (tag 0x31); the
  SignerInfo stores the same bytes under ``[0] IMPLICIT`` (tag 0xA0). Every
  constant DER piece is computed once per :class:`PassSigner`, so a pass costs
  one ``private_key.sign`` plus a few byte joins. The output is byte for byte
  what ``cryptography``'s ``PKCS7SignatureBuilder`` gives with
  ``DetachedSignature``, ``Binary`` and ``NoCapabilities``.
* The ZIP is written directly with ``struct`` and ``zlib.crc32``: stored
  dynamic entries, a fixed DOS timestamp (1980-01-01), no ZIP64.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from .certs import SigningIdentity, SigningKey

RESERVED_NAMES = frozenset({"pass.json", "manifest.json", "signature"})

# --- DER ----------------------------------------------------------------------


def _der_length(size: int) -> bytes:
    """Encode a DER length."""
    if size < 0x80:
        return bytes((size,))
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    """Encode one DER element from its tag and content."""
    return bytes((tag,)) + _der_length(len(content)) + content


def _oid(dotted: str) -> bytes:
    """Encode an OBJECT IDENTIFIER from its dotted form."""
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray((arcs[0] * 40 + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _der_children(data: bytes) -> Iterator[bytes]:
    """Yield each complete TLV inside a constructed element's content."""
    pos = 0
    while pos < len(data):
        start = pos
        size = data[pos + 1]
        pos += 2
        if size & 0x80:
            count = size & 0x7F
            size = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        pos += size
        yield data[start:pos]


def _der_content(element: bytes) -> bytes:
    """Return the content octets of one TLV."""
    size = element[1]
    offset = 2 + (size & 0x7F if size & 0x80 else 0)
    return element[offset:]


OID_DATA = _oid("1.2.840.113549.1.7.1")
OID_SIGNED_DATA = _oid("1.2.840.113549.1.7.2")
OID_CONTENT_TYPE = _oid("1.2.840.113549.1.9.3")
OID_MESSAGE_DIGEST = _oid("1.2.840.113549.1.9.4")
OID_SIGNING_TIME = _oid("1.2.840.113549.1.9.5")
_NULL = b"\x05\x00"
_SHA256_ALG = _tlv(0x30, _oid("2.16.840.1.101.3.4.2.1") + _NULL)
_RSA_ALG = _tlv(0x30, _oid("1.2.840.113549.1.1.1") + _NULL)
_ECDSA_SHA256_ALG = _tlv(0x30, _oid("1.2.840.10045.4.3.2"))
_VERSION_1 = b"\x02\x01\x01"
_ATTR_CONTENT_TYPE = _tlv(0x30, OID_CONTENT_TYPE + _tlv(0x31, OID_DATA))
# messageDigest attribute up to its 32 digest bytes (strip a zero placeholder)
_ATTR_DIGEST_PREFIX = _tlv(0x30, OID_MESSAGE_DIGEST + _tlv(0x31, _tlv(0x04, bytes(32))))[:-32]


def _signing_time_attr(moment: dt.datetime) -> bytes:
    """Encode the signingTime attribute (UTCTime 1950-2049, else GeneralizedTime)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(dt.UTC)
    if 1950 <= moment.year < 2050:
        value = _tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    else:
        value = _tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())
    return _tlv(0x30, OID_SIGNING_TIME + _tlv(0x31, value))


def _issuer_and_serial(cert_der: bytes) -> bytes:
    """Return IssuerAndSerialNumber, copying the certificate's own issuer and serial bytes."""
    tbs = next(_der_children(_der_content(cert_der)))
    fields = list(_der_children(_der_content(tbs)))
    if fields[0][0] == 0xA0:  # explicit [0] version
        fields = fields[1:]
    serial, _signature_alg, issuer = fields[0], fields[1], fields[2]
    return _tlv(0x30, issuer + serial)


# --- ZIP ----------------------------------------------------------------------

_LOCAL_HEAD = struct.Struct("<IHHHHH")  # signature, version needed, flags, method, time, date
_CENTRAL_HEAD = struct.Struct("<IHHHHHH")  # the same, after a "version made by"
_SIZES = struct.Struct("<III")  # crc-32, compressed size, uncompressed size
_CENTRAL_TAIL = struct.Struct("<HHHHHI")  # name length, extra, comment, disk, attributes
_OFFSET = struct.Struct("<I")
_END = struct.Struct("<IHHHHIIH")
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00
_MADE_BY = (3 << 8) | 20  # Unix, ZIP 2.0
_FILE_MODE = 0o100644 << 16
_UTF8_FLAG = 0x0800
_STORED, _DEFLATED = 0, 8
_MAX_ZIP = 0xFFFF_0000


class _ZipName:
    """The constant header bytes of ZIP entries with one name and method."""

    __slots__ = ("central_head", "central_tail", "local_head", "local_tail", "name")

    def __init__(self, name: str, method: int = _STORED) -> None:
        """Precompute everything in both headers except CRC, sizes and offset."""
        self.name = name.encode()
        flags = 0 if name.isascii() else _UTF8_FLAG
        common = (flags, method, _DOS_TIME, _DOS_DATE)
        self.local_head = _LOCAL_HEAD.pack(0x04034B50, 20, *common)
        self.local_tail = struct.pack("<HH", len(self.name), 0) + self.name
        self.central_head = _CENTRAL_HEAD.pack(0x02014B50, _MADE_BY, 20, *common)
        self.central_tail = _CENTRAL_TAIL.pack(len(self.name), 0, 0, 0, 0, _FILE_MODE)

    def entry(
        self, data: bytes, offset: int, crc: int | None = None, size: int | None = None
    ) -> tuple[bytes, bytes]:
        """Return (local header + data, central record) for this name at `offset`."""
        crc = zlib.crc32(data) if crc is None else crc
        sizes = _SIZES.pack(crc, len(data), len(data) if size is None else size)
        local = b"".join((self.local_head, sizes, self.local_tail, data))
        central = b"".join(
            (self.central_head, sizes, self.central_tail, _OFFSET.pack(offset), self.name)
        )
        return local, central


_PASS_JSON_NAME = _ZipName("pass.json")
_MANIFEST_NAME = _ZipName("manifest.json")
_SIGNATURE_NAME = _ZipName("signature")


def _static_entry(name: str, data: bytes, offset: int) -> tuple[bytes, bytes]:
    """Zip one static file, deflated when that makes it smaller."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(data) + packer.flush()
    if len(packed) < len(data):
        return _ZipName(name, _DEFLATED).entry(packed, offset, zlib.crc32(data), len(data))
    return _ZipName(name).entry(data, offset)


# --- static files -----------------------------------------------------------------


@dataclass(frozen=True)
class StaticBundle:
    """A program's unchanging pass files, hashed and laid out as ZIP bytes once."""

    digests: tuple[tuple[str, str], ...]
    manifest_head: bytes
    local_bytes: bytes
    central_bytes: bytes

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the static files, in archive order."""
        return tuple(name for name, _ in self.digests)

    @property
    def manifest(self) -> dict[str, str]:
        """Manifest entries (name to hex SHA-1) of the static files."""
        return dict(self.digests)


def make_static_bundle(files: Mapping[str, bytes]) -> StaticBundle:
    """Hash and pre-zip a program's images and pass.strings files once."""
    digests, heads, locals_, centrals = [], [], [], []
    offset = 0
    for name in sorted(files):
        data = _check_static_file(name, files[name])
        digest = hashlib.sha1(data).hexdigest()
        digests.append((name, digest))
        heads.append(json.dumps(name, ensure_ascii=False) + f':"{digest}",')
        local, central = _static_entry(name, data, offset)
        locals_.append(local)
        centrals.append(central)
        offset += len(local)
    if offset > _MAX_ZIP or len(digests) > 0xFFF0:
        raise ValueError("static pass files are too large for a pass archive")
    return StaticBundle(
        digests=tuple(digests),
        manifest_head=("{" + "".join(heads)).encode(),
        local_bytes=b"".join(locals_),
        central_bytes=b"".join(centrals),
    )


def _check_static_file(name: object, data: object) -> bytes:
    """Reject reserved, unsafe or non-string names and non-bytes content."""
    if not isinstance(name, str):
        raise TypeError(f"pass file names must be strings, not {type(name).__name__}")
    parts = name.split("/")
    if (
        name.lower() in RESERVED_NAMES
        or not name
        or "\\" in name
        or "\x00" in name
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ValueError(f"invalid or reserved pass file name: {name!r}")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"pass file {name!r} must be bytes, not {type(data).__name__}")
    return bytes(data)


# --- signer ------------------------------------------------------------------


_PASS_JSON = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
)
_PAD = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_ECDSA = ec.ECDSA(hashes.SHA256())


def encode_pass_json(pass_json: Mapping[str, Any]) -> bytes:
    """The exact pass.json bytes a .pkpass carries (compact UTF-8 JSON)."""
    return _PASS_JSON.encode(pass_json).encode()


def _signing_function(key: SigningKey) -> Callable[[bytes], bytes]:
    """Return data -> signature: PKCS#1 v1.5 for RSA, ECDSA for EC, both over SHA-256."""
    if isinstance(key, rsa.RSAPrivateKey):
        return functools.partial(key.sign, padding=_PAD, algorithm=_SHA256)
    return functools.partial(key.sign, signature_algorithm=_ECDSA)


class PassSigner:
    """Signs manifests and builds .pkpass archives for one signing identity."""

    def __init__(self, identity: SigningIdentity) -> None:
        """Precompute every constant DER piece of the signature."""
        self.identity = identity
        self._sign = _signing_function(identity.private_key)
        der = serialization.Encoding.DER
        cert_der = identity.certificate.public_bytes(der)
        wwdr_der = identity.wwdr.public_bytes(der)
        self._signed_data_head = (
            _VERSION_1
            + _tlv(0x31, _SHA256_ALG)
            + _tlv(0x30, OID_DATA)
            + _tlv(0xA0, b"".join(sorted((cert_der, wwdr_der))))  # DER SET OF order
        )
        self._signer_head = _VERSION_1 + _issuer_and_serial(cert_der) + _SHA256_ALG
        is_rsa = isinstance(identity.private_key, rsa.RSAPrivateKey)
        self._signature_alg = _RSA_ALG if is_rsa else _ECDSA_SHA256_ALG
        self._time_cache: tuple[int, bytes] = (-1, b"")
        self._layouts: dict[tuple[int, int], tuple[bytes, bytes]] = {}

    def sign_manifest(self, manifest: bytes, signing_time: dt.datetime | None = None) -> bytes:
        """Return the detached CMS signature (DER) of the exact manifest bytes."""
        time_attr = self._now_attr() if signing_time is None else _signing_time_attr(signing_time)
        digest_attr = _ATTR_DIGEST_PREFIX + hashlib.sha256(manifest).digest()
        attrs = b"".join(sorted((_ATTR_CONTENT_TYPE, time_attr, digest_attr)))
        signature = self._sign(b"\x31" + _der_length(len(attrs)) + attrs)
        layout = self._layouts.get((len(attrs), len(signature)))
        if layout is None:
            layout = self._layout(len(attrs), len(signature))
        return b"".join((layout[0], attrs, layout[1], signature))

    def _layout(self, attrs_len: int, sig_len: int) -> tuple[bytes, bytes]:
        """Return the DER bytes before the attributes and between them and the signature.

        Every header length follows from these two sizes alone, so the layout is
        computed once per size pair (in practice once) and then reused.
        """
        middle = self._signature_alg + b"\x04" + _der_length(sig_len)
        whole = self._assemble(bytes(attrs_len), bytes(sig_len))
        head = whole[: len(whole) - sig_len - len(middle) - attrs_len]
        self._layouts[attrs_len, sig_len] = head, middle
        return head, middle

    def _assemble(self, attrs: bytes, signature: bytes) -> bytes:
        """Encode ContentInfo(SignedData) around signed attributes and a signature."""
        signer_info = _tlv(
            0x30,
            self._signer_head + _tlv(0xA0, attrs) + self._signature_alg + _tlv(0x04, signature),
        )
        signed_data = _tlv(0x30, self._signed_data_head + _tlv(0x31, signer_info))
        return _tlv(0x30, OID_SIGNED_DATA + _tlv(0xA0, signed_data))

    def _now_attr(self) -> bytes:
        """Return the signingTime attribute for the current second, cached per second."""
        second = int(time.time())
        cached_second, attr = self._time_cache
        if cached_second != second:
            attr = _signing_time_attr(dt.datetime.fromtimestamp(second, dt.UTC))
            self._time_cache = (second, attr)
        return attr

    def build_pkpass(self, pass_json: dict[str, Any], bundle: StaticBundle) -> bytes:
        """Serialize pass.json, write manifest and signature, and return the .pkpass ZIP."""
        self._check_identifiers(pass_json)
        pass_bytes = encode_pass_json(pass_json)
        manifest = b"".join((
            bundle.manifest_head,
            b'"pass.json":"',
            hashlib.sha1(pass_bytes).hexdigest().encode(),
            b'"}',
        ))  # fmt: skip
        signature = self.sign_manifest(manifest)
        return _finish_zip(bundle, pass_bytes, manifest, signature)

    def _check_identifiers(self, pass_json: Mapping[str, Any]) -> None:
        """Fail early when pass.json names another pass type or team than the certificate."""
        identity = self.identity
        if (
            pass_json.get("passTypeIdentifier") != identity.pass_type_id
            or pass_json.get("teamIdentifier") != identity.team_id
        ):
            raise ValueError(
                "pass.json passTypeIdentifier/teamIdentifier "
                f"({pass_json.get('passTypeIdentifier')!r}/{pass_json.get('teamIdentifier')!r}) "
                f"do not match the signing certificate "
                f"({identity.pass_type_id!r}/{identity.team_id!r}); Wallet would reject the pass"
            )


def _finish_zip(bundle: StaticBundle, pass_bytes: bytes, manifest: bytes, sig: bytes) -> bytes:
    """Append the three per-pass entries to the static ones and close the archive."""
    offset = len(bundle.local_bytes)
    pass_local, pass_central = _PASS_JSON_NAME.entry(pass_bytes, offset)
    offset += len(pass_local)
    manifest_local, manifest_central = _MANIFEST_NAME.entry(manifest, offset)
    offset += len(manifest_local)
    sig_local, sig_central = _SIGNATURE_NAME.entry(sig, offset)
    offset += len(sig_local)
    central = b"".join((bundle.central_bytes, pass_central, manifest_central, sig_central))
    count = len(bundle.digests) + 3
    end = _END.pack(0x06054B50, 0, 0, count, count, len(central), offset, 0)
    return b"".join((bundle.local_bytes, pass_local, manifest_local, sig_local, central, end))


def sign_manifest_reference(identity: SigningIdentity, manifest_bytes: bytes) -> bytes:
    """Sign with cryptography's PKCS7SignatureBuilder (the slower reference path)."""
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest_bytes)
        .add_signer(identity.certificate, identity.private_key, hashes.SHA256())
        .add_certificate(identity.wwdr)
        .sign(serialization.Encoding.DER, options)
    )
