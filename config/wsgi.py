"""WSGI entry point (gunicorn in production).

Runs the settings ``DJANGO_SETTINGS_MODULE`` names; without it, production (``config.bootstrap``).
"""

from __future__ import annotations

from config.bootstrap import bootstrap

bootstrap()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
