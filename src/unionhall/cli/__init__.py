"""The `unionhall` command line (Typer + Rich). Commands only parse, call, and print."""

from __future__ import annotations

import json as jsonlib
import os
import sys
from typing import Annotated, Any

import click
import typer

from unionhall.cli._runtime import (
    err_console,
    migrate_app_database,
    out_console,
    run_job_foreground,
    setup_django,
)
from unionhall.errors import UserError

app = typer.Typer(
    name="unionhall",
    help="Union Hall: member data and field programs for unions and labor federations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")]


@app.command()
def config(
    json: Annotated[bool, typer.Option("--json", help="Print as one JSON object.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Also check both stores answer.")] = False,
) -> None:
    """Print the effective configuration (secrets masked)."""
    from unionhall.config import get_config

    cfg = get_config()
    values: dict[str, Any] = cfg.masked()
    if check:
        setup_django()
        from unionhall.warehouse import open_warehouse

        open_warehouse()
        from unionhall.web.selectors import health_check

        values["health"] = health_check()
    if json:
        print(jsonlib.dumps(values, indent=2))
        return
    for key, value in values.items():
        out_console.print(f"[bold]{key:>15}[/bold]  {value}")


@app.command()
def migrate() -> None:
    """Create or update the app database and the warehouse (re-running is a no-op)."""
    setup_django()
    from unionhall.warehouse import open_warehouse

    wh = open_warehouse()  # first, so a locked warehouse changes nothing
    migrate_app_database(verbose=True)
    applied = wh.migrate()
    out_console.print(f"warehouse: {len(applied)} migration(s) applied" + (
        ": " + ", ".join(applied) if applied else " (up to date)"))


@app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=64, help="Background job threads.")
    ] = None,
) -> None:
    """Serve the web app with background job workers (one process owns the warehouse).

    With UNIONHALL_JOB_WORKERS=external it starts no job threads: `unionhall worker` runs them."""
    from unionhall.cli.serve import serve as do_serve

    do_serve(host=host, port=port, workers=workers)


@app.command()
def worker(
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=64, help="Worker threads in this process.")
    ] = 1,
    no_warehouse: Annotated[
        bool,
        typer.Option(
            "--no-warehouse",
            help="Run only jobs that do not use the warehouse (leave the warehouse to another process).",
        ),
    ] = False,
) -> None:
    """Run queued jobs in this process, separate from the web process (UNIONHALL_JOB_WORKERS=external).

    Several workers on several machines may run at once: each job is claimed by one.
    SIGTERM or Ctrl+C stops after the running job(s)."""
    from unionhall.cli.worker import worker as do_worker

    do_worker(threads=threads, no_warehouse=no_warehouse)


@app.command()
def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Prepare everything, then exit instead of serving.")
    ] = False,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    voters: Annotated[int, typer.Option("--voters", min=100, help="Voters in the synthetic state.")] = 200_000,
    members: Annotated[int, typer.Option("--members", min=10, help="Union members in it.")] = 30_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic state.")] = 7,
) -> None:
    """Set up a demo installation: generate and load a synthetic state, print the logins, serve it.

    The state is generated once into the data directory and reused by later runs."""
    from unionhall.cli.serve import check_port_free

    if not no_serve:
        check_port_free(host, port)
    cfg = setup_django()
    from unionhall.demo import DemoSize, demo_prepare
    from unionhall.warehouse import open_warehouse

    open_warehouse()

    def run_job(kind: str, params: dict[str, Any]) -> int:
        return int(run_job_foreground(kind, params).pk)

    size = DemoSize(voters=voters, members=members, seed=seed)
    result = demo_prepare(cfg, run_job=run_job, say=err_console.print, size=size)
    out_console.print("\n[bold]Demo logins[/bold]")
    for login in result.logins:
        out_console.print(
            f"  username [bold]{login.username:<28}[/bold] password [bold]{login.password}[/bold]  {login.role}",
            highlight=False,
        )
    if no_serve:
        out_console.print(f"\nReady. Start the app with: unionhall serve --host {host} --port {port}")
        return
    from unionhall.cli.serve import serve as do_serve

    do_serve(host=host, port=port)


@app.command()
def token(username: Annotated[str, typer.Argument(help="The user to issue an API token for.")]) -> None:
    """Print the API token of a user (created on first use)."""
    setup_django()
    from django.contrib.auth import get_user_model

    from unionhall.access.services import api_token_issue

    try:
        user = get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise UserError(f"no user named {username!r}: check the spelling or create the user first") from None
    key, _ = api_token_issue(user=user)
    print(key)


jobs_app = typer.Typer(help="List and run background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list(limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """Show the most recent jobs."""
    setup_django()
    from rich.table import Table

    from unionhall.jobs.models import Job

    table = Table("id", "kind", "status", "progress", "message", "created")
    for job in Job.objects.all()[:limit]:
        table.add_row(str(job.pk), job.kind, job.status, f"{job.progress}%", job.message or job.error[:60],
                      job.created_at.strftime("%Y-%m-%d %H:%M"))
    out_console.print(table)


@jobs_app.command("kinds")
def jobs_kinds() -> None:
    """List the registered job kinds."""
    setup_django(check_database=False)
    from unionhall.jobs.registry import job_kinds

    for spec in job_kinds():
        out_console.print(f"{spec.kind:<28} {spec.title}")


warehouse_app = typer.Typer(help="Move the warehouse between engines.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")


@warehouse_app.command("copy")
def warehouse_copy(
    target: Annotated[str, typer.Argument(help="The new, empty warehouse: postgresql://…?schema=NAME or duckdb:///path.")],
    source: Annotated[str | None, typer.Option("--from", help="The warehouse to copy (default: the configured one).")] = None,
) -> None:
    """Copy every table of the warehouse into a new one on another engine (e.g. the
    embedded DuckDB file into PostgreSQL), in one transaction, counts reconciled."""
    setup_django()
    from unionhall.access.models import AuditEvent
    from unionhall.access.services import command_line_actor
    from unionhall.warehouse import Warehouse, open_warehouse
    from unionhall.warehouse.transfer import copy_warehouse

    src = Warehouse(source) if source else open_warehouse()
    dst = Warehouse(target)
    report = copy_warehouse(src, dst)
    AuditEvent.objects.create(actor_name=command_line_actor(), action=AuditEvent.Action.WAREHOUSE_COPY,
                              detail={"from": src.url.label, "to": dst.url.label, "rows": report.total})
    for name, n in report.rows.items():
        out_console.print(f"{name:<32} {n:>12,}")
    if report.skipped:
        err_console.print(f"not copied (no migration makes them): {', '.join(report.skipped)}")
    out_console.print(f"copied {report.total:,} rows in {len(report.rows)} tables to {dst.url.label}; "
                      f"use it with UNIONHALL_WAREHOUSE_URL={target}")


@warehouse_app.command("snapshot")
def warehouse_snapshot(
    directory: Annotated[str, typer.Argument(help="Where to write the Parquet snapshot (a new directory).")],
) -> None:
    """Write the warehouse as Parquet for Spark (open it as spark:///DIRECTORY)."""
    from pathlib import Path

    setup_django()
    from unionhall.warehouse import open_warehouse

    out = Path(directory).resolve()
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty: snapshot into a new directory")
    wh = open_warehouse()
    wh.snapshot_for_spark(out)
    out_console.print(f"snapshot of {wh.url.label} written to {out}; open it with UNIONHALL_WAREHOUSE_URL=spark:///{out}")


import_app = typer.Typer(help="Import files: member lists, voter files, election data.", no_args_is_help=True)
app.add_typer(import_app, name="import")

# Capability command modules: each has `register(app, import_app)`.
CAPABILITY_CLI_MODULES = (
    "unionhall.synth.cli",
    "unionhall.access.cli",
    "unionhall.ingest.cli",
    "unionhall.elections.cli",
    "unionhall.identity.cli",
    "unionhall.field.cli",
    "unionhall.exports.cli",
    "unionhall.analytics.cli",
)


def _register_capability_commands() -> None:
    import importlib

    for name in CAPABILITY_CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app, import_app)


_register_capability_commands()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, meaningful exit codes, no tracebacks."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="unionhall", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError:
        # click >= 8.2 raises this after printing the help of a bare group
        sys.exit(0)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "unionhall"
        err_console.print(
            f"unionhall: {exc.format_message()} (run '{where} --help' for the options)",
            markup=False, highlight=False, soft_wrap=True,
        )
        sys.exit(2)
    except click.ClickException as exc:
        err_console.print(
            f"unionhall: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    except UserError as exc:
        err_console.print(f"unionhall: {exc.message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        err_console.print("unionhall: interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("UNIONHALL_DEBUG"):
            raise
        err_console.print(
            f"unionhall: internal error ({type(exc).__name__}: {exc}); "
            "re-run with UNIONHALL_DEBUG=1 for the traceback and report it",
            markup=False, highlight=False, soft_wrap=True,
        )
        sys.exit(70)
    sys.exit(rv if isinstance(rv, int) else 0)
