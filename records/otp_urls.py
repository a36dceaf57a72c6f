"""The second factor's pages, under ``accounts/`` (config/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from records import otp_views

urlpatterns: list[URLPattern] = [
    path("second-factor/", otp_views.otp_verify, name="otp_verify"),
    path("second-factor/setup/", otp_views.otp_setup, name="otp_setup"),
]
