"""Loads the Celery app in every process (web, commands, workers), so shared tasks bind to it.

Importing it bootstraps the process (``config.celery``): settings from ``DJANGO_SETTINGS_MODULE``,
production when nothing names them.
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
