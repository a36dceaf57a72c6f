"""Test settings: the real PostgreSQL and Redis started by the test command; only speed knobs change.

Celery is not eager here: tests that need a task to run start a real worker, and unit tests
that call a task body directly opt in to eager mode themselves.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="test-only-insecure-key")
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Serve static files from the apps and static/ without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Fictional accounts with valid check digits (bank code 999 does not exist).
PAYMENTS_PAYER_ACCOUNT = "KZ429990000000000002"

# Export files of the tests (and of the Celery workers they start) outside the checkout.
EXPORT_ROOT = Path(env.str("EXPORT_ROOT", default=str(Path(tempfile.gettempdir()) / "gfss-test-exports")))
