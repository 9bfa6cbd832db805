"""The TOML config: validation by key and line, precedence, the till's own settings."""

from __future__ import annotations

import pytest

from appliance.config import KEYS, Config, ConfigError, parse_file


def write(tmp_path, text):
    path = tmp_path / "kasir.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_named_with_its_line(tmp_path):
    path = write(
        tmp_path,
        '[store]\nname = "Toko"\nlocale = "fr"\n\n[printer]\nwidth = 40\n'
        "colour = 1\n[bogus]\nx = 1\n[drawer]\npin = 99\n",
    )
    with pytest.raises(ConfigError) as err:
        parse_file(path)
    text = str(err.value)
    assert "line 3: store.locale: 'fr' is not one of id_ID, en" in text
    assert "line 6: printer.width: 40 is not one of 32, 42, 48" in text
    assert "line 7: unknown key printer.colour" in text
    assert "unknown section [bogus]" in text
    assert "line 11: drawer.pin: GPIO 99 is not a Raspberry Pi BCM pin" in text


@pytest.mark.parametrize(
    "text, message",
    [
        ("[store]\nname = 5\n", "store.name: should be text"),
        ("[store]\ncash_rounding = true\n", "should be a whole number"),
        ("[store]\ntimezone = 'Mars/Base'\n", "not a known IANA zone"),
        ("[store]\nnpwp = '123'\n", "not an NPWP"),
        ("[oms]\nurl = 'ftp://x'\n", "should start with https://"),
        ("store = 1\n", "expected a [store] section"),
        ("[store\n", "not valid TOML"),
    ],
)
def test_bad_values(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_file(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load(tmp_path / "none.toml", env={})


def test_precedence_cli_env_till_file_default(tmp_path, store):
    path = write(
        tmp_path, "[store]\nname = 'Dari File'\ncash_rounding = 500\n[printer]\nwidth = 32\n"
    )
    env = {"KASIR_PRINTER_WIDTH": "48"}
    cfg = Config.load(path, env=env, cli={"store.locale": "en"})
    cfg.attach_store()
    assert (cfg["store.name"], cfg.source("store.name")) == ("Dari File", "file")
    assert (cfg["printer.width"], cfg.source("printer.width")) == (48, "environment")
    assert (cfg["store.locale"], cfg.source("store.locale")) == ("en", "command line")
    assert cfg.source("store.address") == "default"
    cfg.set("store.name", "Dari Kasir", staff_id=None)
    cfg.set("store.cash_rounding", 100)
    assert (cfg["store.name"], cfg.source("store.name")) == ("Dari Kasir", "till")
    again = Config.load(path, env=env)
    again.attach_store()
    assert again["store.name"] == "Dari Kasir" and again["store.cash_rounding"] == 100
    again.reset("store.name")
    assert again["store.name"] == "Dari File"
    assert path.read_text().count("Dari File") == 1  # the file is never written


def test_set_validates_and_protects_file_only_keys(store):
    cfg = Config(env={})
    cfg.attach_store()
    with pytest.raises(ConfigError, match=r"printer\.width: 40 is not one of"):
        cfg.set("printer.width", 40)
    with pytest.raises(ConfigError, match="only be set in the config file"):
        cfg.set("oms.url", "https://oms.example")
    with pytest.raises(ConfigError, match="unknown setting"):
        cfg.set("no.such", 1)


def test_bad_environment_value_named():
    with pytest.raises(ConfigError, match="environment KASIR_PRINTER_WIDTH"):
        Config(env={"KASIR_PRINTER_WIDTH": "wide"})


def test_every_key_has_help_and_a_valid_default():
    for name, key in KEYS.items():
        assert key.help, name
        key.validate(key.default)
