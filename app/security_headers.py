"""Secure response headers on every answer: a Content-Security-Policy with no inline script,
no framing, no MIME sniffing, a strict Referrer-Policy.

A view that sets its own header keeps it (the customer pages send a stricter policy,
app/web/pages.py PAGE_HEADERS). Inline `style=""` attributes are allowed; inline script
and event handlers are not: the dashboard's JavaScript lives in app/static/.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
SECURE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def add_secure_headers(response: Response) -> Response:
    """Set each secure header the view did not set itself."""
    for name, value in SECURE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Send the secure headers on every response of the app."""
    app.after_request(add_secure_headers)
