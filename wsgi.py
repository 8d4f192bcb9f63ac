"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from app import create_app

app = create_app()

if not app.config["SETTINGS"].CELERY_BROKER_URL:
    app.logger.warning("No WALLETPASS_CELERY_BROKER_URL: background jobs (pushes, webhooks, "
                       "expiry) run only if `walletpass worker` runs beside this server.")
