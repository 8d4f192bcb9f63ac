"""The production set on one machine: gunicorn, Celery workers and one Celery beat, supervised.

`walletpass up` starts them as child processes (each in its own process group), and stops
all of them when one dies (exit status 1) or when it gets SIGINT/SIGTERM (exit status 0).
Every wait is bounded: a child that ignores SIGTERM for STOP_SECONDS is killed. The
children log JSON lines (unless WALLETPASS_LOG_FORMAT says otherwise) and share one fresh
Prometheus folder, DATA_DIR/metrics, so a scrape of any web process counts them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from app.cli_i18n import t
from app.i18n import gettext_noop

STOP_SECONDS = 15.0
POLL_SECONDS = 0.2
REQUIRED = ("WALLETPASS_DATABASE_URL", "WALLETPASS_CELERY_BROKER_URL")
METRICS_FOLDER = "metrics"
"""Under the data folder: the Prometheus files every child writes (emptied at each start)."""


@dataclass(frozen=True)
class Child:
    """One process of the set: a name for messages and its command line."""

    name: str
    argv: list[str]


def missing_settings(environ: dict[str, str]) -> list[str]:
    """The required settings not given in the environment (PostgreSQL and Redis URLs)."""
    return [name for name in REQUIRED if not environ.get(name, "").strip()]


def check_urls(database_url: str, broker_url: str) -> str | None:
    """A message (English, marked for the catalogs) when the database is not PostgreSQL or
    the broker not Redis, else None."""
    if not database_url.startswith("postgresql"):
        return gettext_noop("WALLETPASS_DATABASE_URL must be a PostgreSQL URL "
                            "(postgresql+psycopg://...).")
    if not broker_url.startswith(("redis://", "rediss://")):
        return gettext_noop("WALLETPASS_CELERY_BROKER_URL must be a Redis URL "
                            "(redis://host:6379/0).")
    return None


WEB_WORKERS = 2
"""gunicorn processes by default: one per core of a small machine."""
WEB_THREADS = 4
"""Threads per gunicorn process (gthread): a request waiting on PostgreSQL leaves the
process's core to another."""


def web_command(bind: str, workers: int = WEB_WORKERS, threads: int = WEB_THREADS,
                app: str = "wsgi:app") -> list[str]:
    """gunicorn's command line: `workers` processes of `threads` threads each, keep-alive."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads",
            str(threads), "--worker-class", "gthread", "--keep-alive", "30", "--bind", bind,
            "--graceful-timeout", "10", app]


def children(data_dir: Path, bind: str, web: tuple[int, int],
             celery_workers: int) -> list[Child]:
    """The command lines of the set: gunicorn (web: processes, threads each), the Celery
    workers and exactly one beat."""
    python = sys.executable
    server = Child("web", web_command(bind, *web))
    workers = [Child(f"worker{i}", [python, "-m", "celery", "-A", "app.celery_app", "worker",
                                    "--loglevel", "INFO", "--concurrency", "1",
                                    "--hostname", f"worker{i}@%h"])
               for i in range(1, celery_workers + 1)]
    beat = Child("beat", [python, "-m", "celery", "-A", "app.celery_app", "beat",
                          "--loglevel", "INFO",
                          "--schedule", str(data_dir / "celerybeat-schedule")])
    return [server, *workers, beat]


def child_environment(data_dir: Path | None) -> dict[str, str]:
    """The children's environment: this one, plus JSON logs (unless a format is set) and a
    fresh metrics folder shared by all of them (when a data folder is given)."""
    env = dict(os.environ)
    env.setdefault("WALLETPASS_LOG_FORMAT", "json")
    if data_dir is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_dir(data_dir))
    return env


def fresh_metrics_dir(data_dir: Path) -> Path:
    """DATA_DIR/metrics, emptied: counts of an earlier run would add to this one's."""
    folder = data_dir / METRICS_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Supervisor:
    """Runs the children; if one exits, stops the others."""

    def __init__(self, specs: list[Child], cwd: Path, data_dir: Path | None = None) -> None:
        self.specs, self.cwd, self.data_dir = specs, cwd, data_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def start(self) -> None:
        """Start every child in its own process group, importing this code tree."""
        env = {**child_environment(self.data_dir), "PYTHONPATH": _pythonpath(self.cwd)}
        for spec in self.specs:
            self.procs[spec.name] = subprocess.Popen(spec.argv, cwd=self.cwd, env=env,
                                                     start_new_session=True)

    def wait(self) -> str | None:
        """Block until a child exits (returns its name) or a stop is asked (returns None)."""
        while not self.stopping:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    return name
            time.sleep(POLL_SECONDS)
        return None

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM every child's group; SIGKILL whatever is still alive after the timeout."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(5)

    def request_stop(self, *_: object) -> None:
        """Signal handler: ask wait() to return."""
        self.stopping = True


def run(specs: list[Child], cwd: Path, data_dir: Path | None = None) -> int:
    """Start the set, supervise it, stop it; 0 after a requested stop, 1 if a child died."""
    sup = Supervisor(specs, cwd, data_dir)
    previous = {sig: signal.signal(sig, sup.request_stop)
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sup.start()
        dead = sup.wait()
        if dead is not None:
            code = sup.procs[dead].returncode
            print(t("walletpass up: {child} exited with status {code}; stopping the others.",
                    child=dead, code=code), file=sys.stderr)
        return 0 if dead is None else 1
    finally:
        sup.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send a signal to a child's process group, if it still exists."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _pythonpath(root: Path) -> str:
    """PYTHONPATH with the code tree first, so children import this very `app`."""
    rest = os.environ.get("PYTHONPATH", "")
    return f"{root}{os.pathsep}{rest}" if rest else str(root)
