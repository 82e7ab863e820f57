"""Effective configuration: environment first, then an optional TOML file, then defaults.

Settings are a plain, backend-neutral dataclass (STYLE.md rule 6). Django settings and
the warehouse are built from it at run time.

| setting          | environment variable       | default                               |
|------------------|----------------------------|---------------------------------------|
| data directory   | ``UNIONHALL_DATA_DIR``     | ``./unionhall-data``                  |
| app database     | ``DATABASE_URL``           | ``sqlite:///<data dir>/app.sqlite3``  |
| warehouse        | ``UNIONHALL_WAREHOUSE_URL``| ``duckdb:///<data dir>/warehouse.duckdb`` |
| secret key       | ``UNIONHALL_SECRET_KEY``   | generated once into ``<data dir>/secret_key`` |
| worker threads   | ``UNIONHALL_WORKERS``      | ``2``                                 |
| job workers      | ``UNIONHALL_JOB_WORKERS``  | ``threads`` (in `serve`); ``external``: `unionhall worker` processes |
| job heartbeat timeout | ``UNIONHALL_JOB_HEARTBEAT_TIMEOUT`` | ``60`` seconds              |
| debug pages      | ``UNIONHALL_DEBUG``        | off                                   |
| allowed hosts    | ``UNIONHALL_ALLOWED_HOSTS``| ``127.0.0.1,localhost``               |

A config file (TOML, keys as in the first column with ``_`` for spaces, e.g.
``database_url = "postgresql://..."``) is read from ``UNIONHALL_CONFIG`` or, when present,
``<data dir>/unionhall.toml``. The environment wins over the file.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from unionhall.errors import ConfigError

_SQLITE_SCHEMES = {"sqlite"}
_POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}
_WAREHOUSE_SCHEMES = {"duckdb", "postgresql", "postgres"}
JOB_WORKER_MODES = ("threads", "external")


@dataclass(frozen=True)
class Config:
    """The effective configuration of one Union Hall installation."""

    data_dir: Path
    database_url: str
    warehouse_url: str
    secret_key: str
    workers: int = 2
    job_workers: str = "threads"
    job_heartbeat_timeout: float = 60.0
    debug: bool = False
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    config_file: Path | None = None

    @property
    def database_kind(self) -> str:
        """``sqlite`` or ``postgresql``."""
        scheme = urlsplit(self.database_url).scheme
        return "postgresql" if scheme in _POSTGRES_SCHEMES else "sqlite"

    @property
    def warehouse_path(self) -> Path:
        """Path of the embedded DuckDB file.

        As with SQLAlchemy URLs, ``duckdb:////abs/path`` is absolute and
        ``duckdb:///rel/path`` relative to the working directory.
        """
        return Path(urlsplit(self.warehouse_url).path[1:])

    def masked(self) -> dict[str, str]:
        """The configuration as strings, with passwords and the secret key hidden."""
        out = {k: str(v) for k, v in asdict(self).items()}
        out["database_url"] = mask_url(self.database_url)
        out["warehouse_url"] = mask_url(self.warehouse_url)
        out["secret_key"] = "********"  # noqa: S105 - the mask, not a secret
        out["allowed_hosts"] = ",".join(self.allowed_hosts)
        out["database_kind"] = self.database_kind
        return out


def mask_url(url: str) -> str:
    """Replace the password in a URL with ``****``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _read_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist: create it or unset UNIONHALL_CONFIG"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}): fix the file") from None


def _check_database_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme in _SQLITE_SCHEMES:
        if not parts.path or parts.path == "/":
            raise ConfigError(
                f"DATABASE_URL {url!r} names no SQLite file: use sqlite:////absolute/path/app.sqlite3"
            )
        return
    if parts.scheme in _POSTGRES_SCHEMES:
        try:
            port = parts.port
        except ValueError:
            port = -1
        if not parts.hostname and "host=" not in parts.query:
            raise ConfigError(
                f"DATABASE_URL {mask_url(url)!r} names no host: use postgresql://USER@HOST:5432/DBNAME"
            )
        if port == -1 or not parts.path.strip("/"):
            raise ConfigError(
                f"DATABASE_URL {mask_url(url)!r} is malformed (port or database name): "
                "use postgresql://USER@HOST:5432/DBNAME"
            )
        return
    raise ConfigError(
        f"DATABASE_URL {mask_url(url)!r} is not a database URL Union Hall can use: "
        "use postgresql://USER:PASSWORD@HOST:5432/DBNAME or sqlite:////path/app.sqlite3, "
        "or unset it for the embedded default"
    )


def _check_warehouse_url(url: str) -> None:
    from unionhall.warehouse.backends import parse_warehouse_url

    if urlsplit(url).scheme not in _WAREHOUSE_SCHEMES:
        raise ConfigError(
            f"UNIONHALL_WAREHOUSE_URL {url!r} is not supported: use duckdb:////path/warehouse.duckdb, "
            "postgresql://USER@HOST:5432/DBNAME?schema=warehouse, or unset it for the embedded default"
        )
    parse_warehouse_url(url)


def _ensure_writable_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ConfigError(
            f"data directory {path} is not writable ({reason}): "
            "set UNIONHALL_DATA_DIR to a directory you can write, or fix its permissions"
        ) from None


def _secret_key(data_dir: Path) -> str:
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _flag(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def load_config(environ: dict[str, str] | None = None, *, create_dirs: bool = True) -> Config:
    """Build the effective configuration.

    Raises ConfigError with a one-line message when a value is unusable. With
    ``create_dirs`` the data directory is created (and checked for writability) and a
    secret key is generated on first use.
    """
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(env.get("UNIONHALL_DATA_DIR", "./unionhall-data")).expanduser().resolve()

    file_values: dict[str, object] = {}
    config_file: Path | None = None
    if env.get("UNIONHALL_CONFIG"):
        config_file = Path(env["UNIONHALL_CONFIG"]).expanduser().resolve()
        file_values = _read_file(config_file)
    elif (data_dir / "unionhall.toml").is_file():
        config_file = data_dir / "unionhall.toml"
        file_values = _read_file(config_file)
    if "data_dir" in file_values and "UNIONHALL_DATA_DIR" not in env:
        data_dir = Path(str(file_values["data_dir"])).expanduser().resolve()

    def pick(env_name: str, key: str, default: str) -> str:
        if env.get(env_name):
            return env[env_name]
        if key in file_values:
            return str(file_values[key])
        return default

    database_url = pick("DATABASE_URL", "database_url", f"sqlite:///{data_dir / 'app.sqlite3'}")
    warehouse_url = pick(
        "UNIONHALL_WAREHOUSE_URL", "warehouse_url", f"duckdb:///{data_dir / 'warehouse.duckdb'}"
    )
    _check_database_url(database_url)
    _check_warehouse_url(warehouse_url)

    workers_raw = pick("UNIONHALL_WORKERS", "workers", "2")
    if not workers_raw.isdigit() or not 1 <= int(workers_raw) <= 64:
        raise ConfigError(
            f"UNIONHALL_WORKERS={workers_raw!r} is not a whole number from 1 to 64: fix it or unset it"
        )
    job_workers = pick("UNIONHALL_JOB_WORKERS", "job_workers", "threads").strip().lower()
    if job_workers not in JOB_WORKER_MODES:
        raise ConfigError(
            f"UNIONHALL_JOB_WORKERS={job_workers!r} is not one of {', '.join(JOB_WORKER_MODES)}: "
            "use threads (jobs run inside `unionhall serve`) or external (`unionhall worker` "
            "processes run them), or unset it"
        )
    timeout_raw = pick("UNIONHALL_JOB_HEARTBEAT_TIMEOUT", "job_heartbeat_timeout", "60")
    try:
        heartbeat_timeout = float(timeout_raw)
    except ValueError:
        heartbeat_timeout = -1.0
    if not 1 <= heartbeat_timeout <= 86_400:
        raise ConfigError(
            f"UNIONHALL_JOB_HEARTBEAT_TIMEOUT={timeout_raw!r} is not a number of seconds from 1 "
            "to 86400: fix it or unset it"
        )
    hosts = tuple(
        h.strip()
        for h in pick("UNIONHALL_ALLOWED_HOSTS", "allowed_hosts", "127.0.0.1,localhost").split(",")
        if h.strip()
    )

    if create_dirs:
        _ensure_writable_dir(data_dir)
        warehouse_dir = Path(urlsplit(warehouse_url).path[1:]).resolve().parent
        if urlsplit(warehouse_url).scheme == "duckdb" and warehouse_dir != data_dir:
            _ensure_writable_dir(warehouse_dir)
    secret = env.get("UNIONHALL_SECRET_KEY") or str(file_values.get("secret_key", ""))
    if not secret:
        secret = _secret_key(data_dir) if create_dirs else "not-configured"

    return Config(
        data_dir=data_dir,
        database_url=database_url,
        warehouse_url=warehouse_url,
        secret_key=secret,
        workers=int(workers_raw),
        job_workers=job_workers,
        job_heartbeat_timeout=heartbeat_timeout,
        debug=_flag(pick("UNIONHALL_DEBUG", "debug", "0")),
        allowed_hosts=hosts,
        config_file=config_file,
    )


_current: Config | None = None


def get_config() -> Config:
    """The process-wide configuration, loaded once."""
    global _current
    if _current is None:
        _current = load_config()
    return _current
