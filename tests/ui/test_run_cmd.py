"""`kasir run`: the options, the demo store of --simulate, and the reasons it will not start."""

from __future__ import annotations

import argparse

import pytest

from appliance import run_cmd, staff
from appliance.config import Config
from appliance.store.db import store_path


def args(**values) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    return parser.parse_args([f"--{k}" if v is True else f"--{k}={v}" for k, v in values.items()])


def test_the_options():
    parsed = args(simulate=True, size="1024x600")
    assert (parsed.simulate, parsed.windowed, parsed.size) == (True, False, "1024x600")


def test_simulate_sets_up_the_demo_store_in_an_empty_data_dir(tmp_path, capsys):
    data = tmp_path / "demo"
    config = Config(env={}, cli={"till.data_dir": str(data)})
    app, database = run_cmd.prepare(args(simulate=True, size="800x480"), config, data)
    try:
        assert store_path(data).exists()
        assert staff.first_manager().name == "Manager"
        assert "Manager PIN (shown once, write it down):" in capsys.readouterr().out
        assert app.till.simulate and app.till.data_dir == data
        from appliance import catalog

        assert len(catalog.search("", limit=500)) > 150
    finally:
        database.close()


def test_without_simulate_an_empty_data_dir_is_refused_with_the_way_out(tmp_path):
    config = Config(env={}, cli={"till.data_dir": str(tmp_path)})
    with pytest.raises(run_cmd.RunError, match=r"no till store in .*: run `kasir init` first"):
        run_cmd.prepare(args(), config, tmp_path)
    assert run_cmd.run(args(), config, tmp_path) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("800", "--size '800': write WIDTHxHEIGHT, e.g. 800x480"),
        ("80x48", "--size '80x48': width and height should be 200 to 10000 pixels"),
    ],
)
def test_a_bad_size_is_refused_by_name(text, reason):
    with pytest.raises(ValueError) as caught:
        run_cmd.parse_size(text)
    assert str(caught.value) == reason


def test_the_app_and_its_login_screen_load_without_the_wire_schema(tmp_path):
    """pydantic and the wire schema cost ~100 ms of a cold start (bench/ui_start.py): the till
    loads them when it first talks to the OMS or writes an event, not before its login frame."""
    import subprocess
    import sys

    probe = (
        "import sys, appliance.app, appliance.screens.login, appliance.oms_link; "
        "print(sorted(m for m in ('retail.schema', 'pydantic') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={
            "KIVY_NO_ARGS": "1",
            "KIVY_NO_CONSOLELOG": "1",
            "KIVY_HOME": str(tmp_path),
            "PATH": "/usr/bin:/bin",
        },
        check=True,
    )
    assert found.stdout.strip() == "[]", found.stderr[-2000:]
