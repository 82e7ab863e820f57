"""`unionhall demo`: one command from nothing to a running, populated Union Hall."""

from __future__ import annotations

import json
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


def demo_admin_ensure(cfg: Config) -> DemoLogin:
    """Create (or reset) the demo administrator and return its login."""
    from django.contrib.auth import get_user_model

    from unionhall.access.demo import demo_password

    password = demo_password(cfg.data_dir / "demo-logins", DEMO_ADMIN)
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


@dataclass(frozen=True)
class DemoSize:
    """Size of the synthetic state the demo generates (state-sized by default)."""

    voters: int = 200_000
    members: int = 30_000
    seed: int = 7


def synth_dir(cfg: Config) -> Path:
    return cfg.data_dir / "synth"


def demo_prepare(
    cfg: Config,
    *,
    run_job: Callable[[str, dict[str, object]], int],
    say: Callable[[str], None],
    size: DemoSize | None = None,
) -> DemoResult:
    """Migrate both stores, generate the synthetic state once, load it, create the logins.

    `run_job(kind, params) -> job id` runs one job in the foreground (the CLI passes its
    progress-bar runner) and raises if the job fails. Every step is idempotent: a second
    run reuses the generated files and the imports are no-ops.
    """
    from unionhall.cli._runtime import migrate_app_database

    size = size or DemoSize()
    result = DemoResult()
    say(f"data directory: {cfg.data_dir}")
    migrate_app_database()
    result.steps.append("app database migrated")
    result.job_ids.append(run_job("warehouse.migrate", {}))
    result.steps.append("warehouse migrated")

    state = synth_dir(cfg)
    manifest_path = state / "manifest.json"
    if manifest_path.is_file():
        say(f"reusing the synthetic state in {state}")
    else:
        say(f"generating a synthetic state ({size.voters:,} voters, {size.members:,} members) in {state}")
        result.job_ids.append(
            run_job("synth.generate", {"out": str(state), "voters": size.voters,
                                       "members": size.members, "seed": size.seed})
        )
    manifest = json.loads(manifest_path.read_text())
    result.steps.append("synthetic state ready")

    election_files = [
        *[("field.import_address_points", p) for p in ["address_points_synth.csv"] if (state / p).is_file()],
        ("elections.import_voterfile", "ncvoter_synth.txt"),
        ("elections.import_history", "ncvhis_synth.txt"),
        *[("elections.import_polling_places", p) for p in sorted(manifest["files"]) if p.startswith("polling_place_")],
        *[("elections.import_absentee", p) for p in manifest["absentee_files"]],
    ]
    for kind, name in election_files:
        say(f"loading {name}")
        result.job_ids.append(run_job(kind, {"path": str(state / name)}))
    result.steps.append("voter file and election data loaded")

    for f in manifest["member_files"]:
        say(f"importing {f['path']} for {f['affiliate']}")
        result.job_ids.append(
            run_job("ingest.import_members", {"path": str(state / f["path"]), "source": f["affiliate"]})
        )
    result.steps.append("member lists imported")

    say("matching members to the voter file and across affiliates")
    result.job_ids.append(run_job("identity.match", {}))
    result.steps.append("identity matched")

    result.logins.append(demo_admin_ensure(cfg))
    result.logins.extend(_demo_governance(cfg, manifest, say))
    from unionhall.field.demo import demo_field_ensure

    demo_field_ensure(say=say)
    result.steps.append("field program: a script, a list and its turfs")
    from unionhall.exports.demo import demo_exports_ensure

    demo_exports_ensure(say=say)
    result.steps.append("exports: a vendor, a written export and one waiting for approval")
    from unionhall.analytics.demo import demo_analytics_ensure

    demo_analytics_ensure(say=say)
    result.steps.append("analytics: a turnout model scoring everyone, imputed race and age")
    return result


def _demo_governance(cfg: Config, manifest: dict[str, object], say: Callable[[str], None]) -> list[DemoLogin]:
    """Committees from the loaded state: the affiliates of its member files, its largest
    counties as CLCs, each affiliate's largest local."""
    from unionhall.access.demo import demo_governance_ensure
    from unionhall.warehouse import get_warehouse

    cur = get_warehouse().cursor()
    counties = [r[0] for r in cur.execute(
        "SELECT county FROM person WHERE county IS NOT NULL AND state = 'NC' "
        "GROUP BY county ORDER BY count(*) DESC, county LIMIT 4").fetchall()]
    top_locals = dict(cur.execute(
        "SELECT source, arg_max(local, n) FROM (SELECT source, local, count(*) AS n FROM member_record "
        "WHERE coalesce(local, '') <> '' GROUP BY ALL) GROUP BY source").fetchall())
    files = manifest["member_files"]
    assert isinstance(files, list)
    logins = demo_governance_ensure(
        affiliates=[f["affiliate"] for f in files], counties=counties, locals_by_affiliate=top_locals,
        state="NC", password_store=cfg.data_dir / "demo-logins", say=say,
    )
    return [DemoLogin(x["username"], x["password"], f"{x['role']} @ {x['committee']}") for x in logins]
