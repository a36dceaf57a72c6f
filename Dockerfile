# syntax=docker/dockerfile:1
#
# Production image: gunicorn serves config.wsgi:application on port 8000. The same image runs
# the Celery worker and beat and the one-shot migrate job (see docker-compose.yml).
#
#   docker build -t gfss-records .
#
# Settings come from the environment at run time (see .env.production.example); nothing
# secret is baked into the image.

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    WEB_CONCURRENCY=3

# An unprivileged user runs every process; the code stays root-owned and read-only for it.
# Its home is writable: gunicorn puts its control socket in ~/.gunicorn.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first (pinned by the lock file), so code changes do not reinstall them.
# pyproject.toml declares no packages ([tool.setuptools] packages = []): installing "."
# installs only the dependencies; the application runs from /app.
COPY pyproject.toml requirements.lock ./
RUN pip install -c requirements.lock .

# The application, directory by directory: the checkout's .env, .local (embedded
# PostgreSQL data), virtualenvs, tests and docs never enter the image.
COPY manage.py ./
COPY config ./config
COPY records ./records
COPY contributions ./contributions
COPY payments ./payments
COPY standards ./standards
COPY templates ./templates
COPY static ./static
# templates/ and locale/ may still be empty, and Git keeps no empty folder, so a plain COPY
# would fail on a fresh clone: they are copied from a bind mount of the context when present.
RUN --mount=type=bind,target=/context \
    for folder in templates locale; do \
        mkdir -p "/app/$folder"; \
        if [ -d "/context/$folder" ]; then cp -R "/context/$folder/." "/app/$folder/"; fi; \
    done

# Static files are collected at build time and served by WhiteNoise. The values below only
# satisfy the production settings' start-up checks for this one command; they are not kept
# in the image (RUN-local variables, not ENV) and no database is contacted.
RUN DJANGO_SECRET_KEY="build-only-collectstatic-key-9f3Kq2Lx7Vb1Zt5Nw8Rc4Hy6Jm0Pd" \
    AUDIT_CHAIN_KEY="build-only-audit-chain-key-4Tg8Wm2Qz6Xc" \
    DJANGO_ALLOWED_HOSTS="localhost" \
    DATABASE_URL="postgres://build:build@localhost:5432/build" \
    CELERY_BROKER_URL="redis://localhost:6379/0" \
    DJANGO_CACHE_URL="redis://localhost:6379/1" \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown app:app /app/media

USER app

EXPOSE 8000

# Workers: WEB_CONCURRENCY (read by gunicorn); more options through GUNICORN_CMD_ARGS. A request
# may take up to 120 s: an admin export of EXPORT_MAX_ROWS rows is built in the request.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--worker-tmp-dir", "/dev/shm", "--timeout", "120"]
