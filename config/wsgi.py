"""WSGI entry point (gunicorn in production)."""

from __future__ import annotations

from config.bootstrap import bootstrap

bootstrap(default_settings="config.settings.production")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
