"""CSV e-mail list imports of 10,000 and 100,000 rows: rows per second and peak memory.

Run ``python -m bench.bench_import [--sizes 10000,100000] [--databases sqlite,postgresql]
[--no-trace]``.

Each (database, size) runs in a fresh subprocess on a fresh migrated database: it writes
a generated CSV (email, name, birthday, phone, external_id, language; 2% of rows repeat an
earlier e-mail, 1% have a bad one) to a file, uploads it through the API (the file is the
streamed request body) and runs the imports sweep to the end, as the worker does. It
prints the upload time, the import time and rows per second (whole rows of the file over
upload + import), the process's peak RSS and its growth during the upload and import, and,
in a second run under tracemalloc (skip with --no-trace), the peak of Python memory
allocated during the upload and import; then the time of one page of the members list
(50 members, mid-list) and of a search by name over all of them (best of 3, 200s). The
last lines give the ratio of the largest size's peaks to the smallest's (target: within
1.5 x) and whether 100,000 rows took under 30 s. PostgreSQL is a throwaway server
(tests/pg.py) with fsync off.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.bench_earn import database, make_app

TARGET_SECONDS = 30.0
TARGET_RATIO = 1.5


def write_csv(path: Path, rows: int) -> int:
    """A customer list of `rows` data rows; returns how many distinct valid e-mails it has."""
    rng = random.Random(rows)
    langs = ["en", "th", "zh-Hant", "ms", "vi", ""]
    valid: list[int] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,birthday,phone,external_id,language\r\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.02 and valid:
                email = f"customer{rng.choice(valid)}@example.com"  # a repeat
            elif roll < 0.03:
                email = f"customer{i}-at-example.com"  # invalid
            else:
                email = f"customer{i}@example.com"
                valid.append(i)
            birthday = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
            phone = f"+66 8{rng.randint(1, 9)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            out.write(f"{email},Customer {i},{birthday},{phone},C{i:07},"
                      f"{langs[i % len(langs)]}\r\n")
    return len(valid)


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one(url: str, rows: int, tmp: Path, trace: bool) -> dict[str, Any]:
    """Import one generated file (in this process) and measure it."""
    from app.distribution import imports
    from app.jobs import import_sweeps, run_sweep_now
    from tests.conftest import Api, new_api_key

    logging.disable(logging.WARNING)
    app = make_app(url, tmp)
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "Bench", "template": "cafe"}).get_json()
    csv_path = tmp / "list.csv"
    expected = write_csv(csv_path, rows)
    import_sweeps()
    base_rss = rss_mb()
    if trace:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    with csv_path.open("rb") as body:
        answer = api.client.post(
            f"/api/v1/programs/{program['id']}/imports?consent_basis=Bench+customers",
            input_stream=body, content_length=csv_path.stat().st_size,
            headers={**api.headers, "Content-Type": "text/csv"})
    assert answer.status_code == 202, answer.get_json()
    uploaded = time.perf_counter()
    with app.app_context():
        run_sweep_now(imports.SWEEP)
    finished, cpu = time.perf_counter(), time.process_time() - cpu_started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    status = api.get(f"/imports/{answer.get_json()['id']}").get_json()
    assert status["status"] == "done" and status["created"] == expected, status
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pid = program["id"]
    list_ms = _best_ms(lambda: api.get(f"/programs/{pid}/members?limit=50&after={rows // 2}"))
    search_ms = _best_ms(lambda: api.get(f"/programs/{pid}/members?q=Customer+{rows - 7}"))
    return {"list_ms": list_ms, "search_ms": search_ms, "rows": rows,
            "created": status["created"], "upload_s": uploaded - started,
            "import_s": finished - uploaded, "total_s": finished - started, "cpu_s": cpu,
            "rows_per_s": rows / (finished - started), "peak_rss_mb": peak_rss,
            "rss_growth_mb": peak_rss - base_rss, "traced_peak_mb": traced}


def _best_ms(call: Any, rounds: int = 3) -> float:
    """The best of a few timings of a call, in ms (it must answer 200)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        assert call().status_code == 200
        best = min(best, time.perf_counter() - started)
    return best * 1000


def run_child(kind: str, rows: int, trace: bool) -> dict[str, Any]:
    """Measure one size on a fresh database of this kind, in a subprocess."""
    args = [sys.executable, "-m", "bench.bench_import", "--child", kind, "--rows", str(rows)]
    if trace:
        args.append("--trace")
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@contextmanager
def child_database(kind: str, tmp: Path) -> Any:
    """A database for a child run."""
    with database(kind, tmp) as url:
        yield url


def main() -> None:
    """Parse arguments and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--trace", action="store_true")
    opts = parser.parse_args()
    if opts.child:
        with tempfile.TemporaryDirectory() as tmp, child_database(opts.child, Path(tmp)) as url:
            print(json.dumps(one(url, opts.rows, Path(tmp), opts.trace)))
        return
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(f"{'database':<11}{'rows':>8}{'upload s':>10}{'import s':>10}{'rows/s':>9}"
          f"{'peak RSS MB':>13}{'RSS growth':>12}{'traced peak MB':>16}"
          f"{'list ms':>9}{'search ms':>11}")
    for kind in opts.databases.split(","):
        results = []
        for rows in sizes:
            got = run_child(kind, rows, trace=False)
            if not opts.no_trace:
                got["traced_peak_mb"] = run_child(kind, rows, trace=True)["traced_peak_mb"]
            results.append(got)
            traced = f"{got['traced_peak_mb']:.1f}" if got["traced_peak_mb"] else "-"
            print(f"{kind:<11}{rows:>8}{got['upload_s']:>10.2f}{got['import_s']:>10.2f}"
                  f"{got['rows_per_s']:>9.0f}{got['peak_rss_mb']:>13.1f}"
                  f"{got['rss_growth_mb']:>12.1f}{traced:>16}{got['list_ms']:>9.1f}"
                  f"{got['search_ms']:>11.1f}", flush=True)
        _verdict(kind, results)


def _verdict(kind: str, results: list[dict[str, Any]]) -> None:
    """Ratios of the largest size's peaks to the smallest's, and the 30 s target."""
    small, large = results[0], results[-1]
    rss = large["peak_rss_mb"] / small["peak_rss_mb"]
    line = f"{kind}: peak RSS {large['rows']} / {small['rows']} rows = {rss:.2f} x"
    if small["traced_peak_mb"] and large["traced_peak_mb"]:
        traced = large["traced_peak_mb"] / small["traced_peak_mb"]
        line += f"; traced peak {traced:.2f} x"
        line += " (target <= 1.5 x: " + ("met" if max(rss, traced) <= TARGET_RATIO
                                         else "MISSED") + ")"
    for got in results:
        if got["rows"] == 100_000:
            line += (f"; 100,000 rows in {got['total_s']:.1f} s (target < 30 s: "
                     f"{'met' if got['total_s'] < TARGET_SECONDS else 'MISSED'})")
    print(line, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("WALLETPASS_LOG_LEVEL", "WARNING")
    main()
