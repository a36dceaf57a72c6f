"""Static checks of the production container setup: docker-compose.yml, Dockerfile, .env.production.example.

Nothing is started (no Docker engine, no database): the files are parsed and checked against each
other and against the project's settings, URLs and modules, so a renamed module, setting or URL
breaks a test here instead of a deployment.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.production.example"
SETTINGS_DIR = ROOT / "config" / "settings"

APP_SERVICES = ["migrate", "web", "worker", "beat"]
LONG_RUNNING_APP_SERVICES = ["web", "worker", "beat"]
ALL_SERVICES = ["db", "redis", *APP_SERVICES]
PRODUCTION_SETTINGS = "config.settings.production"
WSGI_TARGET = "config.wsgi:application"
BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

ENV_CALL = re.compile(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"")
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)[^}]*\}")


# --- Loading ----------------------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def services() -> dict[str, Any]:
    result = compose()["services"]
    assert isinstance(result, dict)
    return result


def service(name: str) -> dict[str, Any]:
    result = services()[name]
    assert isinstance(result, dict), f"service {name} is not a mapping"
    return result


def command(name: str) -> list[str]:
    """The service's command as an argument list (Compose accepts a string or a list)."""
    raw = service(name).get("command")
    assert raw, f"service {name} has no command"
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def environment(name: str) -> dict[str, str]:
    raw = service(name).get("environment") or {}
    if isinstance(raw, list):
        return dict(str(item).partition("=")[::2] for item in raw)
    return {str(key): str(value) for key, value in raw.items()}


def interpolated(value: str) -> str:
    """``value`` as Compose would pass it once ``${VAR...}`` is substituted (with a URL-safe stand-in)."""
    return INTERPOLATION.sub("interpolated", value)


def healthcheck_text(name: str) -> str:
    test = (service(name).get("healthcheck") or {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def option_value(args: list[str], *flags: str) -> str:
    """The value after the first of ``flags`` in ``args`` (``-Q x`` or ``--queues=x``)."""
    for index, arg in enumerate(args):
        if arg in flags:
            assert index + 1 < len(args), f"{arg} has no value in {args}"
            return args[index + 1]
        for flag in flags:
            if flag.startswith("--") and arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"none of {flags} in {args}")


def env_example_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def env_example_values() -> dict[str, str]:
    """Active (uncommented) ``KEY=value`` lines of the example file."""
    values: dict[str, str] = {}
    for line in env_example_lines():
        match = re.match(r"([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match[1]] = match[2]
    return values


def env_example_names() -> set[str]:
    """Every variable the example names, including documented-but-commented ``# KEY=value`` lines."""
    return {match[1] for line in env_example_lines() if (match := re.match(r"#?\s*([A-Z][A-Z0-9_]*)=", line.strip()))}


def settings_source(*names: str) -> str:
    files = [SETTINGS_DIR / f"{name}.py" for name in names] if names else sorted(SETTINGS_DIR.glob("*.py"))
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def env_names_read(source: str) -> set[str]:
    return set(ENV_CALL.findall(source))


def required_env_names(source: str) -> set[str]:
    """Variables read through ``env.*("NAME")`` with no ``default=``: the process fails without them."""
    required = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not any(keyword.arg == "default" for keyword in node.keywords)
            and len(node.args) < 3  # env.str(name, cast, default) would be positional
        ):
            required.add(node.args[0].value)
    return required


def production_setting(name: str) -> Any:
    """A literal assigned in production.py (that module cannot be imported without real secrets)."""
    tree = ast.parse(settings_source("production"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned a literal in config/settings/production.py")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            instruction, _, arguments = stripped.partition(" ")
            result.append((instruction.upper(), arguments.strip()))
    return result


def dockerfile_cmd() -> list[str]:
    cmds = [arguments for instruction, arguments in dockerfile_instructions() if instruction == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    cmd = cmds[-1]
    parsed = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


# --- Services ---------------------------------------------------------------------------------


def test_all_services_exist() -> None:
    missing = set(ALL_SERVICES) - set(services())
    assert not missing, f"docker-compose.yml lacks services {sorted(missing)}"


@pytest.mark.parametrize("name", ["db", "redis", "web", "worker", "beat"])
def test_service_has_healthcheck(name: str) -> None:
    healthcheck = service(name).get("healthcheck")
    assert isinstance(healthcheck, dict), f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name}'s healthcheck is disabled"
    test = healthcheck.get("test")
    assert test, f"{name}'s healthcheck has no test"
    assert test not in (["NONE"], "NONE")
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}'s healthcheck test must start with CMD or CMD-SHELL"
        assert len(test) > 1


def test_migrate_is_one_shot() -> None:
    migrate = service("migrate")
    assert command("migrate") == [
        "sh",
        "-c",
        "python manage.py migrate --noinput && python manage.py setup_periodic_tasks",
    ]
    assert str(migrate.get("restart", "no")) == "no", "a restarting migrate job would never complete"


def test_db_is_postgres_18_with_persistent_data() -> None:
    db = service("db")
    assert str(db["image"]).split(":")[0] in {"postgres", "docker.io/library/postgres"}
    assert str(db["image"]).split(":")[1].startswith("18")
    targets = [str(volume).split(":")[1] for volume in db.get("volumes", []) if isinstance(volume, str)]
    # PostgreSQL 18+ images keep PGDATA under /var/lib/postgresql/18/docker and refuse a .../data mount.
    assert "/var/lib/postgresql" in targets
    volume_names = {str(volume).split(":")[0] for volume in db.get("volumes", [])}
    assert volume_names & set(compose().get("volumes") or {}), "db data must live in a named volume"
    db_env = environment("db")
    assert "${POSTGRES_PASSWORD" in db_env["POSTGRES_PASSWORD"], "the db password must come from the environment"
    assert "pg_isready" in healthcheck_text("db")


def test_redis_never_evicts_and_persists() -> None:
    args = command("redis")
    assert service("redis")["image"].split(":")[1].startswith("7")
    assert "noeviction" in args
    assert option_value(args, "--maxmemory-policy") == "noeviction"
    assert option_value(args, "--appendonly") == "yes"
    assert "redis-cli ping" in healthcheck_text("redis")


def test_web_runs_gunicorn_on_the_wsgi_application() -> None:
    args = command("web")
    assert args[0] == "gunicorn"
    assert WSGI_TARGET in args
    assert option_value(args, "--bind", "-b") == "0.0.0.0:8000"
    assert WSGI_TARGET.replace(":", ".") == settings.WSGI_APPLICATION


def test_worker_command() -> None:
    args = command("worker")
    assert args[:4] == ["celery", "-A", "config", "worker"]
    queues = option_value(args, "-Q", "--queues").split(",")
    assert set(queues) == {"default", "orders"}
    assert settings.CELERY_TASK_DEFAULT_QUEUE in queues, "the worker must consume the default queue"
    assert option_value(args, "-c", "--concurrency") == "2"


def test_worker_healthcheck_pings_its_own_node() -> None:
    text = healthcheck_text("worker")
    assert "celery -A config inspect ping" in text
    # celery@$HOSTNAME is the worker's default node name; a custom -n would need the same name here.
    assert "celery@$$HOSTNAME" in text
    assert not {"-n", "--hostname"} & set(command("worker"))


def test_beat_uses_the_database_scheduler() -> None:
    args = command("beat")
    assert args[:4] == ["celery", "-A", "config", "beat"]
    assert option_value(args, "-S", "--scheduler") == BEAT_SCHEDULER
    assert settings.CELERY_BEAT_SCHEDULER == BEAT_SCHEDULER


def test_modules_named_in_commands_exist() -> None:
    # Checked as files rather than imported: importing config.wsgi would start the production bootstrap.
    wsgi_module = WSGI_TARGET.split(":")[0]
    assert (ROOT / (wsgi_module.replace(".", "/") + ".py")).is_file()
    assert re.search(r"^application = ", (ROOT / "config" / "wsgi.py").read_text(encoding="utf-8"), re.MULTILINE)
    # "celery -A config" loads config.celery and takes its "app".
    celery_source = (ROOT / "config" / "celery.py").read_text(encoding="utf-8")
    assert re.search(r"^app = Celery\(", celery_source, re.MULTILINE)
    module_name, _, attribute = BEAT_SCHEDULER.partition(":")
    scheduler = getattr(importlib.import_module(module_name), attribute)
    assert scheduler.__name__ == "DatabaseScheduler"


# --- Application services: image, settings, connections ---------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_builds_the_dockerfile(name: str) -> None:
    build = service(name).get("build")
    assert build is not None, f"{name} does not build the image"
    context, dockerfile = (
        (build, "Dockerfile")
        if isinstance(build, str)
        else (build.get("context", "."), build.get("dockerfile", "Dockerfile"))
    )
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_settings(name: str) -> None:
    env_file = service(name).get("env_file")
    env_files = (
        [env_file] if isinstance(env_file, str) else [e if isinstance(e, str) else e["path"] for e in env_file or []]
    )
    assert ".env.production" in env_files

    env = environment(name)
    assert env["DJANGO_SETTINGS_MODULE"] == PRODUCTION_SETTINGS

    database = urlsplit(interpolated(env["DATABASE_URL"]))
    assert database.scheme in {"postgres", "postgresql"}
    assert database.hostname == "db"
    assert database.port in {None, 5432}
    db_env = environment("db")
    assert database.username == db_env["POSTGRES_USER"]
    assert database.path == "/" + db_env["POSTGRES_DB"]
    assert "${POSTGRES_PASSWORD" in env["DATABASE_URL"], "the URL must carry the db service's password"

    broker = urlsplit(interpolated(env["CELERY_BROKER_URL"]))
    assert broker.scheme == "redis"
    assert broker.hostname == "redis"
    assert {"db", "redis"} <= set(services())


@pytest.mark.parametrize("name", LONG_RUNNING_APP_SERVICES)
def test_long_running_services_wait_for_migrations(name: str) -> None:
    depends_on = service(name).get("depends_on")
    assert isinstance(depends_on, dict), f"{name} needs depends_on with conditions"
    conditions = {dependency: spec.get("condition") for dependency, spec in depends_on.items()}
    assert conditions == {
        "db": "service_healthy",
        "redis": "service_healthy",
        "migrate": "service_completed_successfully",
    }


def test_migrate_waits_for_a_healthy_database() -> None:
    depends_on = service("migrate").get("depends_on")
    assert isinstance(depends_on, dict)
    assert depends_on["db"]["condition"] == "service_healthy"
    assert "migrate" not in depends_on


def test_dependencies_have_healthchecks_when_waited_on_as_healthy() -> None:
    for name, spec in services().items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services(), f"{name} depends on unknown service {dependency}"
            if condition.get("condition") == "service_healthy":
                assert service(dependency).get("healthcheck"), f"{name} waits for {dependency} to be healthy"


# --- Web health check ---------------------------------------------------------------------------


def test_web_healthcheck_path_is_served_and_exempt_from_the_https_redirect() -> None:
    text = healthcheck_text("web")
    assert "urllib.request" in text, "python:3.11-slim has no curl; the check must use urllib"
    match = re.search(r"http://localhost:8000(/[^'\"\s]*)", text)
    assert match, f"no http://localhost:8000/... URL in the web healthcheck: {text}"
    path = match[1]
    assert path == "/healthz"
    assert resolve(path).url_name == "healthz"
    # SecurityMiddleware matches SECURE_REDIRECT_EXEMPT against the path without its leading slash.
    exempt = production_setting("SECURE_REDIRECT_EXEMPT")
    assert any(re.search(pattern, path.lstrip("/")) for pattern in exempt)


def test_healthcheck_host_is_allowed_by_the_example() -> None:
    hosts = env_example_values()["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "localhost" in [host.strip() for host in hosts], "the web health check sends Host: localhost"


# --- .env.production.example ---------------------------------------------------------------------


def test_every_example_variable_is_read() -> None:
    read_by_settings = env_names_read(settings_source())
    interpolated_by_compose = set(INTERPOLATION.findall(COMPOSE_FILE.read_text(encoding="utf-8")))
    unread = env_example_names() - read_by_settings - interpolated_by_compose
    assert not unread, f".env.production.example names variables nothing reads: {sorted(unread)}"
    for name in env_example_names() - interpolated_by_compose:
        assert name in settings_source(), name


def test_example_documents_every_variable_production_reads() -> None:
    names = env_names_read(settings_source("base", "production"))
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"} <= names  # the regex still finds calls
    missing = names - env_example_names()
    assert not missing, f".env.production.example lacks {sorted(missing)}"


def test_example_sets_every_required_variable() -> None:
    required = required_env_names(settings_source("production"))
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"} <= required
    values = env_example_values()
    for name in required:
        assert values.get(name), f"{name} is required by production settings but not set in the example"


def test_example_variables_have_comments() -> None:
    lines = env_example_lines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert index > 0
            assert lines[index - 1].startswith("#"), f"{line.split('=')[0]} has no comment above it"


def test_example_secrets_are_placeholders() -> None:
    values = env_example_values()
    assert values["DJANGO_SECRET_KEY"].startswith("change-me")
    # Too short on purpose: an unedited copy fails production's 50-character check instead of going live.
    assert len(values["DJANGO_SECRET_KEY"]) < 50
    assert values["POSTGRES_PASSWORD"].startswith("change-me")
    assert "$" not in "".join(values.values()), "Compose would substitute $ in env files"


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_and_compose_agree_on_the_wsgi_module() -> None:
    cmd = dockerfile_cmd()
    assert cmd[0] == "gunicorn"
    assert WSGI_TARGET in cmd
    assert option_value(cmd, "--bind", "-b") == "0.0.0.0:8000"
    web = command("web")
    assert [arg for arg in cmd if ":application" in arg] == [arg for arg in web if ":application" in arg]
    entrypoints = [arguments for instruction, arguments in dockerfile_instructions() if instruction == "ENTRYPOINT"]
    assert not entrypoints, "an ENTRYPOINT would prefix every compose command"


def test_dockerfile_image_basics() -> None:
    instructions = dockerfile_instructions()
    froms = [arguments for instruction, arguments in instructions if instruction == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim"
    env_text = " ".join(arguments for instruction, arguments in instructions if instruction == "ENV")
    assert f"DJANGO_SETTINGS_MODULE={PRODUCTION_SETTINGS}" in env_text
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    runs = [arguments for instruction, arguments in instructions if instruction == "RUN"]
    assert any("pip install -c requirements.lock ." in run for run in runs)
    assert any("manage.py collectstatic --noinput" in run for run in runs)
    assert dockerfile_instructions().index(("USER", users[-1])) > max(
        index for index, (instruction, _) in enumerate(instructions) if instruction == "RUN"
    ), "USER must come after the last RUN, so the processes do not run as root"


def test_dockerfile_collectstatic_env_satisfies_production_settings() -> None:
    run = next(arguments for instruction, arguments in dockerfile_instructions() if "collectstatic" in arguments)
    variables = dict(re.findall(r"\b([A-Z][A-Z0-9_]*)=\"?([^\"\s]+)\"?", run))
    secret = variables["DJANGO_SECRET_KEY"]
    assert len(secret) >= 50
    assert len(set(secret)) >= 5
    assert variables["DJANGO_ALLOWED_HOSTS"]
    assert urlsplit(variables["DATABASE_URL"]).scheme in {"postgres", "postgresql"}
    missing = required_env_names(settings_source("production")) - set(variables)
    assert not missing, f"collectstatic runs the production settings, which require {sorted(missing)}"


def test_dockerfile_copies_the_application() -> None:
    copied: set[str] = set()
    for instruction, arguments in dockerfile_instructions():
        if instruction == "COPY":
            parts = [part for part in arguments.split() if not part.startswith("--")]
            copied.update(part.rstrip("/") for part in parts[:-1])
        elif instruction == "RUN" and "--mount=type=bind" in arguments:
            # Folders that may be missing from a fresh clone are copied from a bind mount when present.
            for folders in re.findall(r"for folder in ([^;]+);", arguments):
                copied.update(folders.split())
    assert "." not in copied, "COPY . would put the checkout's .env and .local data into the image"
    needed = {"pyproject.toml", "requirements.lock", "manage.py", "config"}
    # The project-level folders the settings read files from: templates, static, locale.
    template_dirs = settings.TEMPLATES[0]["DIRS"]
    assert isinstance(template_dirs, list)
    for folder in [*template_dirs, *settings.STATICFILES_DIRS, *settings.LOCALE_PATHS]:
        needed.add(Path(str(folder)).relative_to(ROOT).parts[0])  # locale/vendor comes with locale
    local_apps = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    assert {"records", "contributions", "payments", "standards"} <= local_apps
    missing = (needed | local_apps) - copied
    assert not missing, f"the Dockerfile does not COPY {sorted(missing)}"
