"""Settings from the environment: defaults, and refusals that name the variable."""

from __future__ import annotations

import pytest

from cloud_oms.config import DEFAULT_DATABASE_URL, ConfigError, Settings
from cloud_oms.db import DatabaseUrlError, open_database


def test_defaults_and_overrides():
    assert Settings.from_env({}).database_url == DEFAULT_DATABASE_URL
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://kasir@db/kasir",
            "KASIR_OMS_THREADS": "4",
            "KASIR_OMS_BASE_URL": "https://toko.example/",
            "SMTP_STARTTLS": "no",
        }
    )
    assert settings.database_url == "postgresql://kasir@db/kasir"
    assert settings.threads == 4 and settings.base_url == "https://toko.example"
    assert settings.smtp_starttls is False and settings.secret is None


@pytest.mark.parametrize(
    "env, message",
    [
        ({"KASIR_OMS_SECRET": "short"}, "KASIR_OMS_SECRET must be at least 32 characters"),
        ({"KASIR_OMS_THREADS": "many"}, "KASIR_OMS_THREADS='many' is not a whole number"),
        ({"KASIR_OMS_ENROL_LIMIT": "0"}, "KASIR_OMS_ENROL_LIMIT=0 must be at least 1"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS='maybe' is not true or false"),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://x/y", "scheme 'mysql' is not sqlite or postgresql"),
        ("sqlite://relative", "expected sqlite:///path/to/file"),
        ("sqlite:////no/such/dir/x.sqlite3", "directory /no/such/dir missing"),
    ],
)
def test_bad_database_urls(url, message):
    with pytest.raises(DatabaseUrlError, match=message):
        open_database(url)
