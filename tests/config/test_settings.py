"""Settings: production refuses to start without a secret, ``check --deploy`` is clean, kk formats."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import formats, translation

from config.embedded import socket_url

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "q8Zk3-vV0x_2mLr9WbT7cYh1NsPu4JdE6aGoFiKjXyQwRzSt5HlMnBvC",
    "AUDIT_CHAIN_KEY": "Vb7-Jq2mXz9cWk4LpT8rHs1DnGf6YuAe",
    "DJANGO_ALLOWED_HOSTS": "records.example.kz",
    "DATABASE_URL": "postgres://gfss:secret@db.example.kz:5432/gfss",
    "CELERY_BROKER_URL": "redis://redis.example.kz:6379/0",
    "DJANGO_CACHE_URL": "redis://redis.example.kz:6379/1",
    "STATE_CORPORATION_ACCOUNT": "KZ429990000000000002",  # fictional, valid check digits
    "PAYMENTS_PAYER_ACCOUNT": "KZ699990000000000001",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "EMBEDDED_"))}
    clean["EMBEDDED_PGDATA"] = ""  # never start the quick-start server from a test
    clean["DJANGO_ENV_FILE"] = ""  # nor read the quick start's .env
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_a_weak_secret_key() -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "at least 50" in result.stderr


@pytest.mark.parametrize(
    "key",
    [None, "short", PRODUCTION_ENV["DJANGO_SECRET_KEY"]],
    ids=["missing", "short", "the-secret-key"],
)
def test_production_refuses_to_start_without_an_audit_chain_key_of_its_own(key: str | None) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "AUDIT_CHAIN_KEY"}
    if key is not None:
        env["AUDIT_CHAIN_KEY"] = key
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "AUDIT_CHAIN_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_ALLOWED_HOSTS"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_when_configured_as_the_readme_says() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_shares_one_cache_between_processes() -> None:
    """The API's throttle counts live in the cache: one per process would multiply the rates."""
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = run_manage("shell", "-c", show, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "django.core.cache.backends.redis.RedisCache"
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_CACHE_URL"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_CACHE_URL" in result.stderr
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_CACHE_URL": "locmem://"})
    assert result.returncode != 0
    assert "must be a Redis URL" in result.stderr


def test_trusted_proxies_are_addresses_or_networks() -> None:
    show = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    env = {**PRODUCTION_ENV, "DJANGO_TRUSTED_PROXIES": "10.0.0.5,172.16.0.0/12"}
    result = run_manage("shell", "-c", show, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "['10.0.0.5', '172.16.0.0/12']"
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_TRUSTED_PROXIES": "nginx"})
    assert result.returncode != 0
    assert "'nginx' is not an address or a network" in result.stderr


def test_time_zone_and_languages() -> None:
    assert settings.TIME_ZONE == "Asia/Almaty"
    assert settings.USE_TZ is True
    assert [code for code, _ in settings.LANGUAGES] == ["kk", "ru", "en"]


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_dates_and_numbers_in_kazakh_and_russian(language: str) -> None:
    with translation.override(language):
        assert formats.date_format(date(2026, 3, 21), "SHORT_DATE_FORMAT") == "21.03.2026"
        assert "%d.%m.%Y" in formats.get_format("DATE_INPUT_FORMATS")
        assert formats.number_format(Decimal("1234567.89"), decimal_pos=2, use_l10n=True, force_grouping=True) in (
            "1\xa0234\xa0567,89",
        )


def test_a_kazakh_clerk_can_type_a_day_month_year_date() -> None:
    from django import forms

    class Form(forms.Form):
        received = forms.DateField()

    with translation.override("kk"):
        form = Form(data={"received": "21.03.2026"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["received"] == date(2026, 3, 21)


def test_embedded_socket_url_is_understood_by_django_environ() -> None:
    import environ

    url = socket_url("postgresql://postgres:@/postgres?host=/run/pg sock", "gfss")
    config = environ.Env.db_url_config(url)
    assert config["NAME"] == "gfss"
    assert config["USER"] == "postgres"
    assert config["OPTIONS"]["host"] == "/run/pg sock"
