"""Committees, agreements and approved users from spreadsheets, through the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.conftest import run_cli


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_committees_agreements_and_users_from_files(tmp_path: Path) -> None:
    env = {"UNIONHALL_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("migrate", env=env).returncode == 0
    committees = _csv(tmp_path / "committees.csv", [
        ["Name", "Kind", "Parent", "State", "Counties", "Source", "Local"],
        ["AFL-CIO", "national", "", "", "", "", ""],
        ["North Carolina AFL-CIO", "state_federation", "AFL-CIO", "NC", "", "", ""],
        ["Triangle CLC", "clc", "North Carolina AFL-CIO", "NC", "Wake;Durham", "", ""],
        ["Nurses United", "affiliate", "", "", "", "Nurses United", ""],
        ["Nurses Local 1", "local", "Nurses United", "", "", "", "1"],
    ])
    r = run_cli("committees", "import", str(committees), "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"committees_created": 5, "committees_updated": 0}
    again = run_cli("committees", "import", str(committees), "--json", env=env)
    assert json.loads(again.stdout) == {"committees_created": 0, "committees_updated": 5}

    agreements = _csv(tmp_path / "agreements.csv", [
        ["affiliate", "grantee", "fields", "covers_descendants"],
        ["Nurses United", "North Carolina AFL-CIO", "name;address", "yes"],
    ])
    assert json.loads(run_cli("committees", "import", str(agreements), "--json", env=env).stdout) == {"agreements": 1}

    users = _csv(tmp_path / "users.csv", [
        ["username", "email", "first_name", "last_name", "sponsor", "expires_on", "roles"],
        ["tanya", "t@example.org", "Tanya", "Ruiz", "Triangle CLC", "2027-12-31", "organizer@Triangle CLC; analyst@Nurses United"],
        ["marc", "m@example.org", "Marc", "Oh", "Nurses Local 1", "", "canvasser@Nurses Local 1"],
    ])
    out = run_cli("users", "import", str(users), env=env)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["username"] for r in rows] == ["tanya", "marc"]
    assert all(r["created"] == "yes" and len(r["one_time_password"]) >= 12 for r in rows)


def test_bad_rows_name_file_row_and_column_and_create_nothing(tmp_path: Path) -> None:
    env = {"UNIONHALL_DATA_DIR": str(tmp_path / "data")}
    assert run_cli("migrate", env=env).returncode == 0
    bad = _csv(tmp_path / "committees.csv", [
        ["name", "kind", "parent"],
        ["AFL-CIO", "national", ""],
        ["Somewhere CLC", "council", "AFL-CIO"],
    ])
    r = run_cli("committees", "import", str(bad), env=env)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "committees.csv: row 3, column kind: 'council' is not one of" in r.stderr
    ok = _csv(tmp_path / "ok.csv", [["name", "kind"], ["AFL-CIO", "national"]])
    counts = json.loads(run_cli("committees", "import", str(ok), "--json", env=env).stdout)
    assert counts == {"committees_created": 1, "committees_updated": 0}  # the failed file created nothing
    users = _csv(tmp_path / "users.csv", [["username", "roles"], ["zed", "boss@AFL-CIO"]])
    r = run_cli("users", "import", str(users), env=env)
    assert "users.csv: row 2, column roles: 'boss@AFL-CIO' is not ROLE@COMMITTEE" in r.stderr
