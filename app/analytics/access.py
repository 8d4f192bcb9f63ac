"""Who may see a program's analytics: the one hook to replace.

Every chart route (SVG, CSV) asks `require_analytics_access(program_id)` for the program,
and nothing else decides access (the page itself is the dashboard's, behind its own login
and roles). Without a dashboard the check is the API's: ``Authorization: Bearer <api key>``
of the merchant that owns the program.

The dashboard installs its own check once, in its set-up::

    from app.analytics.access import use_access_check
    use_access_check(app, dashboard_check)

where ``dashboard_check(program_id) -> Program`` loads the program of the signed-in
merchant and raises (Unauthorized, or a 403) for anyone else, cashiers included.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g

from app.models import Program
from app.programs.operations import get_program

AccessCheck = Callable[[int], Program]
EXTENSION = "walletpass.analytics_access"


def api_key_access(program_id: int) -> Program:
    """The program, if the request carries an API key of the merchant that owns it."""
    from app.api import authenticate

    authenticate()
    return get_program(g.merchant, program_id)


def use_access_check(app: Flask, check: AccessCheck) -> None:
    """Replace the access check of the analytics routes (the dashboard's session and roles)."""
    app.extensions[EXTENSION] = check


def require_analytics_access(program_id: int) -> Program:
    """The program whose analytics this request may see; raises when it may not."""
    check: AccessCheck = current_app.extensions.get(EXTENSION, api_key_access)
    return check(program_id)
