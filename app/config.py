"""Settings: one object, every key documented, each overridable by a WALLETPASS_ variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "WALLETPASS_"


APP_NAME = "walletpass"
DATA_DIR_DEFAULT_DOC = "$XDG_DATA_HOME/walletpass (else ~/.local/share/walletpass)"


def user_data_dir() -> Path:
    """The per-user data folder: $XDG_DATA_HOME/walletpass, else ~/.local/share/walletpass."""
    base = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(base):  # the XDG spec says to ignore a relative value
        base = str(Path.home() / ".local" / "share")
    return Path(base) / APP_NAME


def legacy_data_dir() -> Path | None:
    """./data of the working directory, when it holds a database and the new home does not.

    Before the per-user default the data folder was ./data of whatever folder the command
    ran in; an install with its data there keeps finding it (and is told how to move it).
    """
    old = Path.cwd() / "data"
    if (old / "walletpass.db").is_file() and not (user_data_dir() / "walletpass.db").exists():
        return old
    return None


def legacy_data_notice(data_dir: str) -> str | None:
    """One line telling how to move data found in the old place, when that is in use."""
    old = legacy_data_dir()
    if old is None or Path(data_dir) != old or PREFIX + "DATA_DIR" in os.environ:
        return None
    return (f"Using the data in {old} (the old default); move it to the new default with "
            f"`mkdir -p {user_data_dir().parent} && mv {old} {user_data_dir()}`, or set "
            f"{PREFIX}DATA_DIR={old}.")


def _default_data_dir() -> str:
    """The data folder used when WALLETPASS_DATA_DIR is not set (not the working directory)."""
    return str(legacy_data_dir() or user_data_dir())


@dataclass
class Settings:
    """Every setting the service reads, with its default and meaning.

    Each field can be set by the environment variable ``WALLETPASS_<NAME>``
    (for example ``WALLETPASS_BASE_URL``) or by the ``test_config`` mapping
    passed to ``create_app``.
    """

    DATA_DIR: str = field(
        default_factory=_default_data_dir,
        metadata={"doc": "Folder for the SQLite database, development certificates and "
                         "the stored secret key."},
    )
    DATABASE_URL: str = field(
        default="",
        metadata={"doc": "Any SQLAlchemy URL. Default: SQLite file walletpass.db in DATA_DIR."},
    )
    BASE_URL: str = field(
        default="http://127.0.0.1:5000",
        metadata={"doc": "Public URL of the service; passes use BASE_URL + /wallet as "
                         "webServiceURL."},
    )
    SECRET_KEY: str = field(
        default="",
        metadata={"doc": "Flask secret key. Default: a random key stored in DATA_DIR/secret_key."},
    )
    APPLE_CERT: str = field(
        default="", metadata={"doc": "PEM file of the Pass Type ID certificate."}
    )
    APPLE_KEY: str = field(default="", metadata={"doc": "PEM file of its private key."})
    APPLE_KEY_PASSWORD: str = field(
        default="", metadata={"doc": "Password of the private key or .p12, if any."}
    )
    APPLE_WWDR: str = field(
        default="", metadata={"doc": "PEM file of Apple's WWDR intermediate (G4) that issued it."}
    )
    APPLE_P12: str = field(
        default="",
        metadata={"doc": "A .p12 holding certificate and key (instead of APPLE_CERT/APPLE_KEY)."},
    )
    APPLE_PASS_TYPE_ID: str = field(
        default="",
        metadata={"doc": "Optional: the pass type id you expect; start-up fails if the "
                         "certificate's UID differs."},
    )
    APPLE_TEAM_ID: str = field(
        default="",
        metadata={"doc": "Optional: the team id you expect; start-up fails if the "
                         "certificate's OU differs."},
    )
    APPLE_DEV_PASS_TYPE_ID: str = field(
        default="pass.example.walletpass.dev",
        metadata={"doc": "Pass type id of the development certificate made when none is set."},
    )
    APPLE_DEV_TEAM_ID: str = field(
        default="DEVTEAM000",
        metadata={"doc": "Team id of the development certificate made when none is set."},
    )
    APNS_URL: str = field(
        default="https://api.push.apple.com",
        metadata={"doc": "APNs endpoint (HTTP/2) used to tell devices a pass changed."},
    )
    APNS_CA_FILE: str = field(
        default="",
        metadata={"doc": "Extra CA certificates (PEM) to trust for APNS_URL, for a local "
                         "stand-in."},
    )
    APNS_CONCURRENCY: int = field(
        default=1000,
        metadata={"doc": "Most APNs requests in flight at once (multiplexed as HTTP/2 streams)."},
    )
    APNS_CONNECTIONS: int = field(
        default=1,
        metadata={"doc": "Long-lived HTTP/2 connections to APNS_URL per worker process."},
    )
    APNS_TIMEOUT: float = field(
        default=15.0,
        metadata={"doc": "Seconds one APNs request may take (connecting included) before it is "
                         "retried later."},
    )
    PUSH_BATCH_SIZE: int = field(
        default=2000,
        metadata={"doc": "Registrations a push sweep claims and sends per database round."},
    )
    PUSH_LEASE_SECONDS: float = field(
        default=120.0,
        metadata={"doc": "How long a claimed push stays reserved for its worker; after a crash "
                         "it is sent again once this has passed."},
    )
    PUSH_COALESCE_SECONDS: float = field(
        default=2.0,
        metadata={"doc": "After a push to a device, further changes wait this long and go out "
                         "as one push (bursts of earns coalesce)."},
    )
    PUSH_RETRY_MAX_SECONDS: float = field(
        default=900.0,
        metadata={"doc": "Longest back-off between retries after APNs answers 429, 5xx or "
                         "cannot be reached."},
    )
    GOOGLE_SERVICE_ACCOUNT_FILE: str = field(
        default="",
        metadata={"doc": "JSON key file of the Google Cloud service account that issues Google "
                         "Wallet cards (its token_uri is honoured). Empty: Google Wallet is off."},
    )
    GOOGLE_ISSUER_ID: str = field(
        default="", metadata={"doc": "Google Wallet issuer id (from the Google Pay & Wallet "
                                     "console). Empty: Google Wallet is off."}
    )
    GOOGLE_API_URL: str = field(
        default="https://walletobjects.googleapis.com/walletobjects/v1",
        metadata={"doc": "Google Wallet REST API base URL."},
    )
    GOOGLE_TIMEOUT: float = field(
        default=10.0,
        metadata={"doc": "Seconds one Google Wallet API or token request may take before it is "
                         "retried later."},
    )
    GOOGLE_ROOT_KEYS_URL: str = field(
        default="https://pay.google.com/gp/m/issuer/keys",
        metadata={"doc": "Where Google's root keys that sign save/delete callbacks are fetched "
                         "(cached for an hour)."},
    )
    GOOGLE_ROOT_KEYS_FILE: str = field(
        default="",
        metadata={"doc": "A file holding Google's root keys document, used instead of "
                         "GOOGLE_ROOT_KEYS_URL when set."},
    )
    GOOGLE_RATE_LIMIT: float = field(
        default=20.0,
        metadata={"doc": "Google Wallet API calls per second for the whole deployment (every "
                         "process shares it through the database); Google allows 20."},
    )
    GOOGLE_BATCH_SIZE: int = field(
        default=20,
        metadata={"doc": "Google objects and classes a Google update sweep claims per round."},
    )
    STALE_MINUTES: int = field(
        default=60,
        metadata={"doc": "Default N of /programs/{id}/stale-members: devices that have not "
                         "fetched the latest pass within N minutes of the change."},
    )
    WALLET_MAX_BODY: int = field(
        default=16 * 1024,
        metadata={"doc": "Largest request body the PassKit web service accepts, in bytes."},
    )
    WEBHOOK_ALLOW_PRIVATE: bool = field(
        default=False,
        metadata={"doc": "Allow webhook URLs on loopback/private addresses (tests, trusted "
                         "networks)."},
    )
    SMTP_URL: str = field(
        default="",
        metadata={"doc": "Where mail goes: smtp://host:25, smtp://user:password@host:587?"
                         "starttls=true or smtps://user:password@host:465. Empty: each "
                         "message is written as an .eml file to DATA_DIR/mail instead."},
    )
    SMTP_TIMEOUT: float = field(
        default=15.0,
        metadata={"doc": "Seconds any one SMTP step (connect, TLS, each command) may take "
                         "before the mail is retried later."},
    )
    SMTP_CA_FILE: str = field(
        default="",
        metadata={"doc": "Extra CA certificates (PEM) to trust for the SMTP server's TLS "
                         "certificate, for a server with a private CA."},
    )
    MAIL_FROM: str = field(
        default="",
        metadata={"doc": "The service's sender address (the From name is the program's); "
                         "Reply-To is the merchant's e-mail. Default: no-reply@ the host of "
                         "BASE_URL."},
    )
    MAIL_RATE: float = field(
        default=10.0,
        metadata={"doc": "Most mails sent per second, shared by every worker process "
                         "(through the database)."},
    )
    CELERY_BROKER_URL: str = field(
        default="",
        metadata={"doc": "Celery broker (e.g. redis://...). Empty: jobs run in the web process."},
    )
    WORKER_POLL_SECONDS: float = field(
        default=1.0,
        metadata={"doc": "How often the embedded worker looks for pending work."},
    )
    EMBEDDED_WORKER: bool = field(
        default=True,
        metadata={"doc": "Run background jobs in a thread of `walletpass serve` when no broker."},
    )
    MAX_CONTENT_LENGTH: int = field(
        default=12 * 1024 * 1024,
        metadata={"doc": "Largest request body accepted, in bytes (image uploads included)."},
    )
    MAX_JSON_BYTES: int = field(
        default=256 * 1024, metadata={"doc": "Largest JSON request body accepted, in bytes."}
    )
    IMPORT_MAX_BYTES: int = field(
        default=50 * 1024 * 1024,
        metadata={"doc": "Largest e-mail list (CSV) an import accepts, in bytes; it is "
                         "streamed to disk and the database, never held in memory."},
    )
    IMPORT_CHUNK_ROWS: int = field(
        default=1000,
        metadata={"doc": "CSV rows an import enrolls per committed chunk (a crashed import "
                         "resumes after its last chunk)."},
    )
    DEFAULT_TIMEZONE: str = field(
        default="UTC",
        metadata={"doc": "Time zone (IANA name, e.g. Asia/Bangkok) of new programs when "
                         "none is given; dates people see (expiry days, birthdays) are "
                         "in the program's zone."},
    )
    SIGNUP_RATE_LIMIT: int = field(
        default=10,
        metadata={"doc": "Signup posts one client address may make to one program per 10 "
                         "minutes (then a polite 429 page)."},
    )
    API_RATE_LIMIT: int = field(
        default=6000,
        metadata={"doc": "API requests one key may make per minute (fixed window), then 429 "
                         "with Retry-After; 0 turns the limit off. Counted in Redis when "
                         "CELERY_BROKER_URL is a redis:// URL, else per web process."},
    )
    TRUSTED_PROXIES: int = field(
        default=0,
        metadata={"doc": "Reverse proxies in front of the service whose X-Forwarded-For "
                         "and X-Forwarded-Proto are believed (signup rate limits count "
                         "client addresses)."},
    )
    OPEN_SIGNUP: bool = field(
        default=False,
        metadata={"doc": "Let anyone sign up for a new merchant account on the dashboard. "
                         "Off: owners come from `walletpass create-merchant` or an "
                         "invitation."},
    )
    LOGIN_MAX_FAILURES: int = field(
        default=10,
        metadata={"doc": "Failed dashboard logins allowed per account, and per address, "
                         "within LOGIN_WINDOW_MINUTES; more are refused until it passes."},
    )
    LOGIN_WINDOW_MINUTES: int = field(
        default=15,
        metadata={"doc": "The window of LOGIN_MAX_FAILURES, in minutes."},
    )
    LOG_LEVEL: str = field(default="INFO", metadata={"doc": "Logging level."})
    LOG_FORMAT: str = field(
        default="text",
        metadata={"doc": "Log lines as readable `text`, or `json`: one JSON object per line "
                         "(time, level, logger, message, request_id and extras). "
                         "`walletpass up` uses json unless this is set."},
    )
    METRICS_TOKEN: str = field(
        default="",
        metadata={"doc": "When set, /metrics answers only requests with `Authorization: "
                         "Bearer <this token>`. Empty: /metrics is open (keep it off the "
                         "public network)."},
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from defaults overridden by WALLETPASS_* environment variables."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name)
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, f.type)
        return cls(**values)

    def finalize(self) -> None:
        """Fill in settings derived from others (database URL, trailing slashes)."""
        self.BASE_URL = self.BASE_URL.rstrip("/")
        self.GOOGLE_API_URL = self.GOOGLE_API_URL.rstrip("/")
        try:
            ZoneInfo(self.DEFAULT_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{PREFIX}DEFAULT_TIMEZONE must be an IANA time zone name such "
                             f"as Asia/Bangkok, got {self.DEFAULT_TIMEZONE!r}") from None
        if not self.DATABASE_URL:
            db_path = Path(self.DATA_DIR) / "walletpass.db"
            self.DATABASE_URL = f"sqlite:///{db_path}"

    @classmethod
    def documentation(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) of every setting, for `walletpass settings`."""
        rows = []
        for f in fields(cls):
            default = DATA_DIR_DEFAULT_DOC if f.name == "DATA_DIR" else str(f.default)
            rows.append((PREFIX + f.name, default, f.metadata.get("doc", "")))
        return rows


def _coerce(name: str, raw: str, annotation: Any) -> Any:
    """Turn an environment string into the setting's type, with a clear error."""
    kind = str(annotation)
    try:
        if kind == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ValueError(f"{PREFIX}{name} must be a {kind}, got {raw!r}") from None
    return raw
