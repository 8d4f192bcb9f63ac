"""Dashboard part 2, the rest: members found by any part of their name, e-mail or phone
(through each database's trigram index), the e-mail list upload as plain forms (no
JavaScript) with a progress page that refreshes itself, and each import's own mails."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.mail import tasks
from app.members import search
from app.models import MailDelivery, Member, MemberImport
from app.models.base import utcnow
from tests.conftest import Api
from tests.dashboard_helpers import csrf_of, log_in, new_owner, post
from tests.test_imports import run_imports

ROW = re.compile(r'<a href="/members/(\d+)">')


def owner_with_program(app: Flask, client: FlaskClient) -> tuple[Api, int]:
    """An owner logged in and a cafe program."""
    api = Api(app.test_client(), new_owner(app))
    log_in(client)
    program = api.post("/programs", {"name": "Cafe", "template": "cafe"}).get_json()
    return api, int(program["id"])


def found(client: FlaskClient, query: str) -> set[int]:
    """The member ids the list shows for a search."""
    answer = client.get("/members", query_string={"q": query})
    assert answer.status_code == 200
    return {int(i) for i in ROW.findall(answer.get_data(as_text=True))}


def test_search_finds_any_part_of_name_email_or_phone(app: Flask, client: FlaskClient) -> None:
    api, pid = owner_with_program(app, client)
    people = [("Somchai Jaidee", "somchai@example.test", "+66812345678"),
              ("Nguyễn Thị Lan", "lan.nguyen@example.test", None),
              ("陳大文", "chan@example.test", None),
              ("Ann 50% Off_Club", "ann@shop.example", None)]
    ids = []
    for name, email, phone in people:
        body = {"email": email, "name": name, **({"phone": phone} if phone else {})}
        answer = api.post(f"/programs/{pid}/members", body)
        assert answer.status_code == 201, answer.get_json()
        ids.append(answer.get_json()["id"])
    somchai, lan, chan, ann = ids
    assert found(client, "jaidee") == {somchai}  # the middle of a name, any case
    assert found(client, "JAIDEE") == {somchai}
    assert found(client, "chai") == {somchai}
    assert found(client, "hị La") == {lan}  # non-ASCII, across a space
    assert found(client, "大文") == {chan}  # two characters: the scan, not the index
    assert found(client, "nguyen@") == {lan}  # part of an e-mail
    assert found(client, "shop.example") == {ann}
    assert found(client, "812345") == {somchai}  # part of a phone number
    assert found(client, "50%") == {ann} and found(client, "f_c") == {ann}  # % and _ literal
    assert found(client, "5%o") == set() and found(client, "zzzz") == set()
    with app.app_context():
        serial = db.session.get(Member, chan).serial_number
    assert chan in found(client, serial[:8])  # the start of the card's serial
    # the index follows renames and removals (SQLite's triggers)
    with app.app_context():
        db.session.execute(update(Member).where(Member.id == lan).values(name="Lan Tran"))
        db.session.commit()
    assert found(client, "tran") == {lan} and found(client, "nguyễn thị") == set()


def test_the_trigram_index_is_there_and_used(app: Flask, database: str) -> None:
    with app.app_context():
        if database == "sqlite":
            assert db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE name = :n"), {"n": search.FTS_TABLE}) \
                .first() is not None
            plan = db.session.execute(text(
                f"EXPLAIN QUERY PLAN SELECT rowid FROM {search.FTS_TABLE} "
                f"WHERE {search.FTS_TABLE} MATCH '\"abc\"'")).all()
            assert any("VIRTUAL TABLE INDEX" in str(row) for row in plan), plan
        else:
            index = db.session.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                {"n": search.TRGM_INDEX}).scalar_one()
            assert "gin" in index and "gin_trgm_ops" in index
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(db.session.execute(text(
                "EXPLAIN SELECT id FROM members WHERE name ILIKE '%jaidee%'")).scalars())
            assert search.TRGM_INDEX in plan, plan


def upload(client: FlaskClient, pid: int, body: str, **extra: Any) -> Any:
    """The distribution page's upload form, posted as a browser without JavaScript would."""
    return client.post("/distribution/uploads", data={
        "csrf_token": csrf_of(client, "/distribution"), "program": str(pid),
        "file": (io.BytesIO(body.encode()), "list.csv"), **extra})


def test_an_upload_works_as_plain_forms(app: Flask, client: FlaskClient) -> None:
    api, pid = owner_with_program(app, client)
    api.post(f"/programs/{pid}/members", {"email": "ann@example.test", "name": "Ann"})
    form = client.get("/distribution").get_data(as_text=True)
    assert 'action="/distribution/uploads"' in form and 'enctype="multipart/form-data"' in form
    nothing = upload(client, pid, "")
    assert nothing.status_code == 422 and "The file is empty." in nothing.get_data(as_text=True)
    no_file = client.post("/distribution/uploads", data={
        "csrf_token": csrf_of(client, "/distribution"), "program": str(pid)})
    assert no_file.status_code == 422 and "Choose a CSV file." in no_file.get_data(as_text=True)

    pdf = upload(client, pid, "%PDF-1.4 fake\n")
    assert pdf.status_code == 422 and "not a CSV text file" in pdf.get_data(as_text=True)
    assert "%PDF" not in pdf.get_data(as_text=True)
    nul = upload(client, pid, "email\x00,name\nann@example.test,Ann\n")
    assert nul.status_code == 422 and "not a CSV text file" in nul.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MemberImport)) == 0

    body = "E-mail Address,Full name\nnew1@example.test,New One\nann@example.test,Ann\nbad,X\n"
    stored = upload(client, pid, body)
    assert stored.status_code == 302
    check = stored.location
    page = client.get(check).get_data(as_text=True)
    assert 'id="e-mapping"' in page and "no e-mail column" in page  # map it first
    assert "mapping=" not in page  # no API syntax in the dashboard
    assert '<label for="map-0">E-mail Address</label>' in page

    def send(**data: str) -> Any:
        return client.post(check, data={"csrf_token": csrf_of(client, "/distribution"), **data})

    assert send(**{"map-0": "email", "map-1": "email"}).status_code == 422  # twice: refused
    assert send(**{"map-0": "email", "map-1": "name", "check": "1"}).status_code == 302
    page = client.get(check).get_data(as_text=True)
    assert 'data-r="valid">1<' in page and 'data-r="duplicates">1<' in page
    assert 'data-r="error_count">1<' in page and "e-mapping" not in page
    assert '<option value="name" selected>' in page  # the mapping is kept
    with app.app_context():  # nothing created, nothing queued yet
        assert db.session.scalar(select(MemberImport.status)) == "checked"
        assert db.session.scalars(select(Member.email)).all() == ["ann@example.test"]
    assert "Imports and their mails" not in client.get("/distribution").get_data(True)

    refused = send(**{"map-0": "email", "map-1": "name", "start": "1"})
    assert refused.status_code == 422 and 'id="e-basis"' in refused.get_data(as_text=True)
    started = send(**{"map-0": "email", "map-1": "name", "start": "1",
                      "consent_basis": "Paper card customers who agreed"})
    assert started.status_code == 302 and started.location.endswith("/progress")
    progress = client.get(started.location).get_data(as_text=True)
    assert 'http-equiv="refresh"' in progress and 'data-p="status">Running<' in progress
    assert send(start="1", consent_basis="again").location == started.location  # once only

    run_imports(app)
    progress = client.get(started.location).get_data(as_text=True)
    assert 'data-p="created">1<' in progress and 'data-p="status">Done<' in progress
    assert 'http-equiv="refresh"' in progress  # its welcome mail is on its way
    with app.app_context():
        tasks.send_due_mail()
        db.session.execute(update(MemberImport).values(  # a minute later
            finished_at=utcnow() - timedelta(seconds=61)))
        db.session.commit()
    progress = client.get(started.location).get_data(as_text=True)
    assert 'data-m="sent">1<' in progress and 'http-equiv="refresh"' not in progress
    with app.app_context():
        new = db.session.scalars(select(Member).where(Member.email == "new1@example.test")).one()
        assert new.name == "New One" and new.import_id is not None


def test_the_import_check_speaks_thai(app: Flask, client: FlaskClient) -> None:
    """Row errors, the fields they name and the mapper's field names in the reader's language;
    the API keeps its English messages and answers only row, field and message."""
    api, pid = owner_with_program(app, client)
    post(client, "/language", {"lang": "th", "next": "/"})
    body = "email,birthday,Member no\nnot-an-email,1990-01-01,1\nok@example.test,2999-01-01,2\n"
    page = client.get(upload(client, pid, body).location).get_data(as_text=True)
    assert "#2 · อีเมล: ไม่ใช่อีเมลที่ถูกต้อง" in page
    assert "#3 · วันเกิด: ต้องเป็นวันที่ในอดีต เขียนแบบ YYYY-MM-DD" in page
    assert '<option value="external_id" >หมายเลขลูกค้า</option>' in page
    assert '<option value="email" selected>อีเมล</option>' in page
    assert "not a valid email" not in page
    dry = client.post("/distribution/imports", data={
        "csrf_token": csrf_of(client, "/distribution"), "program": str(pid), "dry_run": "1",
        "file": (io.BytesIO(body.encode()), "list.csv")}).get_json()
    assert [(e["row"], e["field"]) for e in dry["errors"]] == [(2, "อีเมล"), (3, "วันเกิด")]
    assert dry["errors"][0]["message"] == "ไม่ใช่อีเมลที่ถูกต้อง"
    empty = upload(client, pid, "")
    assert empty.status_code == 422 and "ไฟล์ว่างเปล่า" in empty.get_data(as_text=True)
    r = api.client.post(f"/api/v1/programs/{pid}/imports?dry_run=true", data=body.encode(),
                        headers={**api.headers, "Content-Type": "text/csv"})
    errors = r.get_json()["errors"]
    assert [sorted(e) for e in errors] == [["field", "message", "row"]] * 2
    assert errors[0] == {"row": 2, "field": "email",
                         "message": "'email' is not a valid email address."}


def test_each_import_counts_exactly_its_own_welcome_mails(app: Flask,
                                                          client: FlaskClient) -> None:
    api, pid = owner_with_program(app, client)
    ids = []
    for names in (("a1", "a2", "a3"), ("b1",)):  # both queued before either runs
        rows = "".join(f"{n}@example.test,{n}\n" for n in names)
        stored = upload(client, pid, "email,name\n" + rows)
        check = stored.location
        started = client.post(check, data={"csrf_token": csrf_of(client, check),
                                           "map-0": "email", "map-1": "name", "start": "1",
                                           "consent_basis": "Customers who agreed"})
        assert started.status_code == 302
        ids.append(int(check.rsplit("/", 1)[1]))
    run_imports(app)
    api.post(f"/programs/{pid}/members", {"email": "walkin@example.test"})  # not imported
    with app.app_context():
        tasks.send_due_mail()
        db.session.execute(update(MailDelivery).where(MailDelivery.member_id.in_(
            select(Member.id).where(Member.email == "a3@example.test")))
            .values(status="failed"))
        db.session.commit()
    for email in ("a1@example.test", "b1@example.test"):  # later, at the signup page again:
        joined = app.test_client().post(f"/join/{pid}", data={"email": email})
        assert joined.status_code == 200  # their card link is mailed again
    with app.app_context():
        assert tasks.send_due_mail() == 2
    a, b = (client.get(f"/distribution/imports/{i}").get_json() for i in ids)
    assert a["mails"] == {"sent": 2, "failed": 1}, a  # the resends are not the import's
    assert b["mails"] == {"sent": 1}, b
    with app.app_context():
        assert db.session.scalar(select(MailDelivery.status).join(Member).where(
            Member.email == "walkin@example.test")) == "sent"  # sent, but in no import


def test_analytics_in_the_nav_for_owners_and_managers_only(app: Flask,
                                                           client: FlaskClient) -> None:
    from app.dashboard.accounts import add_membership, hash_password
    from app.models import Merchant, User

    new_owner(app)
    log_in(client)
    empty = client.get("/analytics")  # no card yet: said so, in the dashboard's frame
    assert empty.status_code == 200 and "You have no card yet" in empty.get_data(True)
    assert 'href="/analytics" aria-current="page"' in empty.get_data(True)
    api = Api(app.test_client(), new_owner(app, "Second Shop", "second@example.test"))
    with app.app_context():
        merchant = db.session.scalars(select(Merchant).where(
            Merchant.name == "Bean There")).one()
        for email, role in (("boss@example.test", "manager"), ("till@example.test", "cashier")):
            user = User(email=email, password_hash=hash_password("some password 1"))
            db.session.add(user)
            add_membership(user, merchant, role)
        db.session.commit()
    other = api.post("/programs", {"name": "Elsewhere", "template": "cafe"}).get_json()
    manager, cashier = app.test_client(), app.test_client()
    log_in(manager, "boss@example.test", "some password 1")
    log_in(cashier, "till@example.test", "some password 1")
    assert manager.get("/analytics").status_code == 200
    assert manager.get(f"/analytics/programs/{other['id']}").status_code == 404
    assert cashier.get("/analytics").status_code == 403
    assert 'href="/analytics"' not in cashier.get("/").get_data(True)
    assert 'href="/analytics"' in manager.get("/").get_data(True)
