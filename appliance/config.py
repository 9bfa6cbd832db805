"""The till's configuration: one TOML file, overridden by what was changed on the till.

    >>> cfg = Config.load("/boot/firmware/kasir.toml", cli={"till.data_dir": "/tmp/k"})
    >>> cfg["store.locale"], cfg.source("store.locale")          # doctest: +SKIP
    ('id_ID', 'file')

Precedence, highest first: command-line options, environment variables (`KASIR_PRINTER_TYPE`
for `printer.type`), settings changed on the till (the store's `setting` table), the file,
the built-in default. The till never writes the file: it sits on the SD card's FAT boot
partition, where a write during a power cut can spoil the card.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from retail.ids import iso, utcnow
from retail.money import Currency

from .hw.settings import HW_KEYS
from .settings_schema import CORE_KEYS, Key

KEYS: dict[str, Key] = {key.name: key for key in [*CORE_KEYS, *HW_KEYS]}
SECTIONS = sorted({key.section for key in KEYS.values()})
DEFAULT_CONFIG_PATHS = ("/boot/firmware/kasir.toml", "/etc/kasir/kasir.toml")


class ConfigError(ValueError):
    """A key or value in the config that Kasir cannot use; the message names it."""


def _line_of(text: str, section: str, key: str) -> int | None:
    """The line where `key` is set inside `[section]`, for error messages a person can act on."""
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.\-]+)\s*\]", stripped)
        if header:
            current = header.group(1)
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
        if current is None and section == "" and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


def parse_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a config file into flat `section.key` values. Every problem in the file
    is reported at once, each with its key and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    problems: list[str] = []

    def where(section: str, key: str) -> str:
        line = _line_of(text, section, key)
        return f"{path}" + (f" line {line}" if line else "")

    for section, table in data.items():
        if not isinstance(table, dict):
            problems.append(f"{where('', section)}: {section}: expected a [{section}] section")
            continue
        if section not in SECTIONS:
            problems.append(f"{path}: unknown section [{section}] (known: {', '.join(SECTIONS)})")
            continue
        for key, value in table.items():
            name = f"{section}.{key}"
            spec = KEYS.get(name)
            if spec is None:
                known = ", ".join(k.split(".", 1)[1] for k in KEYS if k.startswith(section + "."))
                problems.append(f"{where(section, key)}: unknown key {name} (known: {known})")
                continue
            try:
                values[name] = spec.validate(value)
            except ValueError as exc:
                problems.append(f"{where(section, key)}: {name}: {exc}")
    if problems:
        raise ConfigError("\n".join(problems))
    return values


class Config(Mapping):
    """Read-only view of the effective configuration; `set()` writes the till's settings."""

    def __init__(
        self,
        file_values: dict[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        cli: dict[str, Any] | None = None,
        path: Path | None = None,
    ):
        self.path = path
        self.file_values = dict(file_values or {})
        self.cli_values: dict[str, Any] = {}
        self.env_values: dict[str, Any] = {}
        self._till_values: dict[str, Any] = {}
        problems = []
        for name, value in (cli or {}).items():
            if value is None:
                continue
            try:
                spec = self._spec(name)
                self.cli_values[name] = spec.validate(
                    spec.from_text(value)
                    if isinstance(value, str) and spec.type is not str
                    else value
                )
            except ValueError as exc:
                problems.append(f"command line: {name}: {exc}")
        for spec in KEYS.values():
            if env and spec.env in env:
                try:
                    self.env_values[spec.name] = spec.validate(spec.from_text(env[spec.env]))
                except ValueError as exc:
                    problems.append(f"environment {spec.env}: {exc}")
        if problems:
            raise ConfigError("\n".join(problems))

    @classmethod
    def load(
        cls,
        path: str | os.PathLike | None = None,
        *,
        cli: dict[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Config:
        """Load `path`, or the first default path that exists, or no file at all."""
        env = os.environ if env is None else env
        chosen: Path | None = None
        if path is not None:
            chosen = Path(path)
        elif env.get("KASIR_CONFIG"):
            chosen = Path(env["KASIR_CONFIG"])
        else:
            chosen = next((Path(p) for p in DEFAULT_CONFIG_PATHS if Path(p).exists()), None)
        file_values = parse_file(chosen) if chosen is not None else {}
        return cls(file_values, env=env, cli=cli, path=chosen)

    @staticmethod
    def _spec(name: str) -> Key:
        try:
            return KEYS[name]
        except KeyError:
            raise ConfigError(f"unknown setting {name}") from None

    # -- the till's own settings (the store's `setting` table) ---------------------------------

    def attach_store(self) -> None:
        """Read settings changed on the till; call after the store is open."""
        from .store.models import Setting

        self._till_values = {}
        for row in Setting.select():
            if row.key in KEYS:
                try:
                    self._till_values[row.key] = KEYS[row.key].validate(json.loads(row.value))
                except ValueError:
                    # A value this release no longer accepts: fall back to the file.
                    continue

    def set(self, name: str, value: Any, staff_id: str | None = None) -> None:
        """Change a setting on the till (stored in its database, never in the file)."""
        from .store.models import Setting

        spec = self._spec(name)
        if not spec.editable_on_till:
            raise ConfigError(f"{name} can only be set in the config file")
        try:
            value = spec.validate(value)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
        Setting.replace(
            key=name, value=json.dumps(value), changed_at=iso(utcnow()), changed_by=staff_id
        ).execute()
        self._till_values[name] = value

    def reset(self, name: str) -> None:
        """Forget the till's own value, so the file's (or the default) applies again."""
        from .store.models import Setting

        Setting.delete().where(Setting.key == name).execute()
        self._till_values.pop(name, None)

    # -- reading -------------------------------------------------------------------------------

    def source(self, name: str) -> str:
        self._spec(name)
        for label, values in (
            ("command line", self.cli_values),
            ("environment", self.env_values),
            ("till", self._till_values),
            ("file", self.file_values),
        ):
            if name in values:
                return label
        return "default"

    def __getitem__(self, name: str) -> Any:
        spec = self._spec(name)
        for values in (self.cli_values, self.env_values, self._till_values, self.file_values):
            if name in values:
                return values[name]
        return spec.default

    def __iter__(self):
        return iter(KEYS)

    def __len__(self) -> int:
        return len(KEYS)

    def section(self, section: str) -> dict[str, Any]:
        return {
            name.split(".", 1)[1]: self[name] for name in KEYS if name.startswith(section + ".")
        }

    @property
    def currency(self) -> Currency:
        return Currency(
            self["store.currency"], self["store.currency_exponent"], self["store.currency_symbol"]
        )

    @property
    def locale(self) -> str:
        return self["store.locale"]
