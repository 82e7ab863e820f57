from __future__ import annotations

from pathlib import Path

import pytest

from unionhall.config import load_config, mask_url
from unionhall.errors import ConfigError


def test_defaults_put_both_stores_in_the_data_directory(tmp_path: Path) -> None:
    cfg = load_config({"UNIONHALL_DATA_DIR": str(tmp_path / "d")})
    assert cfg.data_dir == tmp_path / "d"
    assert cfg.database_kind == "sqlite"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'd' / 'app.sqlite3'}"
    assert cfg.warehouse_path == tmp_path / "d" / "warehouse.duckdb"
    assert (tmp_path / "d" / "secret_key").is_file()
    # the generated key is stable across loads
    assert load_config({"UNIONHALL_DATA_DIR": str(tmp_path / "d")}).secret_key == cfg.secret_key


def test_environment_wins_over_config_file(tmp_path: Path) -> None:
    (tmp_path / "unionhall.toml").write_text(
        'database_url = "postgresql://u:pw@db.example:5432/uh"\nworkers = 5\n'
    )
    env = {"UNIONHALL_DATA_DIR": str(tmp_path)}
    cfg = load_config(env)
    assert cfg.database_kind == "postgresql"
    assert cfg.workers == 5
    assert cfg.config_file == tmp_path / "unionhall.toml"
    cfg2 = load_config({**env, "UNIONHALL_WORKERS": "3"})
    assert cfg2.workers == 3


def test_masked_hides_password_and_secret(tmp_path: Path) -> None:
    cfg = load_config(
        {"UNIONHALL_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u:s3cret@h:5432/db"}
    )
    masked = cfg.masked()
    assert "s3cret" not in str(masked)
    assert masked["database_url"] == "postgresql://u:****@h:5432/db"
    assert masked["secret_key"] == "********"
    assert mask_url("sqlite:////x.db") == "sqlite:////x.db"


@pytest.mark.parametrize(
    "url",
    ["foo", "mysql://u@h/db", "postgresql://", "postgresql://u@h:notaport/db", "postgresql://u@h:5432/", "sqlite://"],
)
def test_malformed_database_url_is_a_config_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL") as info:
        load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "DATABASE_URL": url})
    assert "\n" not in str(info.value)


def test_unwritable_data_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="not writable.*UNIONHALL_DATA_DIR"):
        load_config({"UNIONHALL_DATA_DIR": str(blocker / "data")})


def test_bad_worker_count_and_warehouse_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="UNIONHALL_WORKERS"):
        load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "UNIONHALL_WORKERS": "lots"})
    with pytest.raises(ConfigError, match="UNIONHALL_WAREHOUSE_URL"):
        load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "UNIONHALL_WAREHOUSE_URL": "spark://x"})


def test_broken_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config({"UNIONHALL_DATA_DIR": str(tmp_path), "UNIONHALL_CONFIG": str(bad)})
