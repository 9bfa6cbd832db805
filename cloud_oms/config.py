"""OMS settings, read from the environment.

    $ DATABASE_URL=postgresql://kasir@db:5432/kasir KASIR_OMS_SECRET=... kasir-oms serve

    >>> settings = Settings.from_env({"DATABASE_URL": "sqlite:///x.sqlite3"})
    >>> settings.database_url
    'sqlite:///x.sqlite3'

Variables
- `DATABASE_URL`: `sqlite:///path` (default `sqlite:///./kasir-oms.sqlite3`) or
  `postgresql://user:password@host:port/name`.
- `KASIR_OMS_SECRET`: signs staff sign-in tokens. When unset, a random secret is generated
  once and kept in the database, so every worker on that database shares it.
- `KASIR_OMS_BASE_URL`: the public address customers' links point at.
- `KASIR_OMS_THREADS`: worker threads per process (each holds at most one database connection).
- `KASIR_OMS_ENROL_LIMIT` failed enrolments per client address per
  `KASIR_OMS_ENROL_WINDOW` seconds (defaults 10 per 600).
- `KASIR_OMS_USER_TOKEN_TTL`: staff token lifetime in seconds (default 8 hours).
- `KASIR_OMS_STALE_AFTER`: seconds without a heartbeat before a till counts as not seen lately.
- `KASIR_OMS_DATA_DIR`: the OMS's own files; till release bundles go in its `releases/`
  (`kasir-oms release add`). Default: the SQLite database's directory; with PostgreSQL it has
  no default and must be set (every OMS machine needs the same files there).
- `SMTP_HOST`, `SMTP_PORT`, `SMTP_USER`, `SMTP_PASSWORD`, `SMTP_FROM`, `SMTP_STARTTLS`: mail.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./kasir-oms.sqlite3"


class ConfigError(ValueError):
    pass


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not true or false")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    threads: int = 16
    enrol_limit: int = 10
    enrol_window_s: int = 600
    user_token_ttl_s: int = 8 * 3600
    stale_after_s: int = 900
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "kasir@localhost"
    smtp_starttls: bool = True
    data_dir: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        secret = env.get("KASIR_OMS_SECRET") or None
        if secret is not None and len(secret) < 32:
            raise ConfigError("KASIR_OMS_SECRET must be at least 32 characters")
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            secret=secret,
            base_url=(env.get("KASIR_OMS_BASE_URL") or cls.base_url).rstrip("/"),
            threads=_int(env, "KASIR_OMS_THREADS", cls.threads),
            enrol_limit=_int(env, "KASIR_OMS_ENROL_LIMIT", cls.enrol_limit),
            enrol_window_s=_int(env, "KASIR_OMS_ENROL_WINDOW", cls.enrol_window_s),
            user_token_ttl_s=_int(env, "KASIR_OMS_USER_TOKEN_TTL", cls.user_token_ttl_s),
            stale_after_s=_int(env, "KASIR_OMS_STALE_AFTER", cls.stale_after_s),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_int(env, "SMTP_PORT", cls.smtp_port),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_from=env.get("SMTP_FROM") or cls.smtp_from,
            smtp_starttls=_bool(env, "SMTP_STARTTLS", True),
            data_dir=env.get("KASIR_OMS_DATA_DIR") or None,
        )

    def files_dir(self) -> Path:
        """Where the OMS keeps files of its own: `KASIR_OMS_DATA_DIR`, else the directory of
        the SQLite database. PostgreSQL has no file to sit next to, and guessing (the working
        directory) would let `kasir-oms release add` and the web service disagree."""
        if self.data_dir:
            return Path(self.data_dir).absolute()
        url = self.database_url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return Path(url[len("sqlite:///") :]).absolute().parent
        raise ConfigError(
            "KASIR_OMS_DATA_DIR is not set: with this database the OMS has no default "
            "directory for its files (release bundles); set it, e.g. /var/lib/kasir-oms"
        )
