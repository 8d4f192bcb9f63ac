"""Each program has a time zone; the days people see (expiry days, birthdays) are its days."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from app.extensions import db
from app.jobs import run_sweep_now
from app.models import LedgerEntry
from app.models.base import utcnow
from tests.conftest import Api, new_api_key

AHEAD, BEHIND = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14 and UTC-11: 25 h apart


def test_programs_take_the_default_time_zone_or_their_own(make_app: Any) -> None:
    app = make_app(DEFAULT_TIMEZONE="Asia/Bangkok")
    api = Api(app.test_client(), new_api_key(app))
    made = api.post("/programs", {"name": "A", "template": "cafe"}).get_json()
    assert made["timezone"] == "Asia/Bangkok"
    own = api.post("/programs", {"name": "B", "template": "cafe", "timezone": "Europe/Paris"})
    assert own.status_code == 201 and own.get_json()["timezone"] == "Europe/Paris"
    moved = api.patch(f"/programs/{made['id']}", {"timezone": "America/New_York"}).get_json()
    assert moved["timezone"] == "America/New_York"
    assert moved["design_version"] == made["design_version"] + 1  # card dates move too


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "UTC+7", 7])
def test_unknown_time_zones_are_refused(api: Api, zone: Any) -> None:
    resp = api.post("/programs", {"name": "A", "template": "cafe", "timezone": zone})
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["details"]["fields"][0]["field"] == "timezone"
    assert api.get("/programs").get_json() == {"programs": []}


def test_a_bad_default_time_zone_stops_start_up(make_app: Any) -> None:
    with pytest.raises(ValueError, match="WALLETPASS_DEFAULT_TIMEZONE"):
        make_app(DEFAULT_TIMEZONE="Nowhere/Special")


def _enroll(api: Api, program_id: int, email: str, **extra: Any) -> dict[str, Any]:
    """Enroll a member and return it."""
    resp = api.post(f"/programs/{program_id}/members", {"email": email, **extra})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def test_expiring_points_are_grouped_by_the_programs_day(app: Flask,
                                                         client: FlaskClient) -> None:
    api = Api(client, new_api_key(app))
    program = api.post("/programs", {"name": "A", "template": "cafe",
                                     "timezone": AHEAD}).get_json()
    api.patch(f"/programs/{program['id']}/rules", {"expiry_days": 365})
    member = _enroll(api, program["id"], "ann@example.test")
    api.post(f"/members/{member['id']}/earn", {"points": 10})
    when = datetime.combine(utcnow().date() + timedelta(days=5), time(12), ZoneInfo("UTC"))
    with app.app_context():  # noon UTC is 02:00 the next day on Kiritimati
        db.session.execute(update(LedgerEntry).values(expires_at=when))
        db.session.commit()
    expiring = api.get(f"/members/{member['id']}").get_json()["expiring_points"]
    local_day = when.astimezone(ZoneInfo(AHEAD)).date()
    assert local_day == when.date() + timedelta(days=1)
    assert expiring == [{"points": 10, "expires_at": local_day.isoformat()}]


def test_birthday_bonuses_come_on_the_programs_day(app: Flask, client: FlaskClient) -> None:
    api = Api(client, new_api_key(app))
    today_ahead = utcnow().astimezone(ZoneInfo(AHEAD)).date()
    born = today_ahead.replace(year=1992).isoformat()  # a leap year: 29 February exists
    members = {}
    for zone in (AHEAD, BEHIND):
        program = api.post("/programs", {"name": zone, "template": "cafe",
                                         "timezone": zone}).get_json()
        api.patch(f"/programs/{program['id']}/rules", {"birthday_bonus": 40})
        members[zone] = _enroll(api, program["id"], "ann@example.test", birthday=born)
    with app.app_context():
        assert run_sweep_now("loyalty_birthdays") == 1
        assert run_sweep_now("loyalty_birthdays") == 0
    points = {z: api.get(f"/members/{m['id']}").get_json()["points"]
              for z, m in members.items()}
    assert points == {AHEAD: 40, BEHIND: 0}  # it is not yet that day in Pago Pago
