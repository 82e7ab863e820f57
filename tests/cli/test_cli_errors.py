"""Bad input and bad environments: one line naming the problem and the fix, a non-zero
exit code, and no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import free_port, run_cli


def _one_line_error(result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode != 0, result
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert "\n" not in err, f"expected one line, got:\n{err}"
    assert err.startswith("unionhall: ")
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    return err


def test_malformed_database_url(tmp_path: Path) -> None:
    r = run_cli("migrate", env={"UNIONHALL_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres//nope"})
    _one_line_error(r, "DATABASE_URL", "use postgresql://")
    assert r.returncode == 3


def test_postgres_unreachable(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    r = run_cli(
        "migrate",
        env={"UNIONHALL_DATA_DIR": str(tmp_path), "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/test"},
    )
    _one_line_error(r, "cannot reach PostgreSQL", f"127.0.0.1:{port}", "fix DATABASE_URL")


def test_unwritable_data_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = run_cli("config", env={"UNIONHALL_DATA_DIR": str(blocker / "data")})
    _one_line_error(r, "not writable", "UNIONHALL_DATA_DIR")


def test_port_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        r = run_cli("serve", "--port", str(port), env={"UNIONHALL_DATA_DIR": str(tmp_path)})
    _one_line_error(r, f"port {port}", "already in use", "--port")


def test_warehouse_locked_by_another_process(tmp_path: Path) -> None:
    from unionhall.warehouse import Warehouse

    holder = Warehouse(tmp_path / "warehouse.duckdb")
    try:
        r = run_cli("migrate", env={"UNIONHALL_DATA_DIR": str(tmp_path)})
    finally:
        holder.close()
    _one_line_error(r, "warehouse", "in use by", "stop that process")
    assert r.returncode == 4
    # and nothing was half done: the app database was not migrated either
    import sqlite3

    with sqlite3.connect(tmp_path / "app.sqlite3") as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "django_migrations" not in tables


def test_unknown_option() -> None:
    r = run_cli("serve", "--bogus")
    err = _one_line_error(r, "--bogus", "unionhall serve --help")
    assert r.returncode == 2
    assert "No such option" in err


def test_unknown_command() -> None:
    r = run_cli("frobnicate")
    _one_line_error(r, "frobnicate", "--help")


def test_every_command_has_help() -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    for cmd in ["config", "migrate", "serve", "demo", "token", "jobs"]:
        assert cmd in top.stdout
        r = run_cli(cmd, "--help")
        assert r.returncode == 0, r.stderr
        assert "Usage" in r.stdout
