"""A throwaway PostgreSQL server on loopback for the test suite."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.net import free_port, wait_port


def find_bindir() -> Path | None:
    """The folder holding initdb/pg_ctl of the newest installed PostgreSQL, if any."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key)
    for path in reversed(candidates):
        if (Path(path) / "initdb").exists():
            return Path(path)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def _version_key(path: str) -> float:
    """Sort key for /usr/lib/postgresql/<version>/bin paths."""
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


class PostgresServer:
    """initdb + pg_ctl start on a free loopback port; stop() removes everything."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # commits survive an immediate stop (synchronous_commit on)
        self.running = False
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="walletpass-pg-"))
        self.datadir = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        """Run a PostgreSQL tool, as the postgres user when we are root."""
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        """Start the server; returns a SQLAlchemy URL of its 'postgres' database."""
        self._run("initdb", "-D", str(self.datadir), "-A", "trust", "-U", self.user,
                  "--no-sync", "-E", "UTF8")
        self.resume()
        return self.url("postgres")

    def halt(self, mode: str = "immediate") -> None:
        """Stop the server (files kept, so resume() brings it back on the same port)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def resume(self) -> None:
        """Start the server on its port (again, after halt())."""
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                f"-c synchronous_commit={'on' if self.durable else 'off'} "
                "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.datadir), "-o", opts, "-l",
                  str(self.root / "log"), "-w", "-t", "60", "start")
        wait_port(self.port, "PostgreSQL", timeout=60)
        self.running = True

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database on this server."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server (unless halted) and delete its files."""
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
