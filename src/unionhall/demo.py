"""`unionhall demo`: one command from nothing to a running, populated Union Hall."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from unionhall.config import Config

DEMO_ADMIN = "admin"


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str


@dataclass
class DemoResult:
    logins: list[DemoLogin] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    job_ids: list[int] = field(default_factory=list)


def _demo_password(cfg: Config, username: str) -> str:
    """A random password kept in the data directory, so re-runs print the same login."""
    store = cfg.data_dir / "demo-logins"
    store.mkdir(exist_ok=True)
    path = store / username
    if path.is_file():
        return path.read_text().strip()
    password = "uh-" + secrets.token_urlsafe(12)
    path.write_text(password)
    path.chmod(0o600)
    return password


def demo_admin_ensure(cfg: Config) -> DemoLogin:
    """Create (or reset) the demo administrator and return its login."""
    from django.contrib.auth import get_user_model

    password = _demo_password(cfg, DEMO_ADMIN)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username=DEMO_ADMIN,
        defaults={"first_name": "Demo", "last_name": "Administrator", "email": "admin@example.org"},
    )
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()
    return DemoLogin(DEMO_ADMIN, password, "administrator")


def demo_prepare(
    cfg: Config,
    *,
    run_job: Callable[[str, dict[str, object]], int],
    say: Callable[[str], None],
    synth_dir: Path | None = None,
) -> DemoResult:
    """Migrate both stores, create the demo logins, and load the demo data.

    `run_job(kind, params) -> job id` runs one job in the foreground (the CLI passes its
    progress-bar runner).
    """
    from unionhall.cli._runtime import migrate_app_database

    result = DemoResult()
    say(f"data directory: {cfg.data_dir}")
    migrate_app_database()
    result.steps.append("app database migrated")
    result.job_ids.append(run_job("warehouse.migrate", {}))
    result.steps.append("warehouse migrated")
    result.logins.append(demo_admin_ensure(cfg))
    return result
