"""Building the devices from the config, and the example config that documents every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.config import KEYS, Config, ConfigError, parse_file
from appliance.hw.base import HardwareError
from appliance.hw.devices import build_devices, build_drawer, build_printer, build_scanner
from appliance.hw.drawer import GpioDrawer, PrinterDrawer, SimDrawer
from appliance.hw.printer import FilePrinter, NetworkPrinter, SerialPrinter, SimPrinter, UsbPrinter
from appliance.hw.scanner import SerialScanner, SimScanner, WedgeScanner

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "kasir.example.toml"


def config(tmp_path, **values) -> Config:
    base = {"till.data_dir": str(tmp_path)}
    base.update({name.replace("__", "."): value for name, value in values.items()})
    return Config(file_values=base, env={})


def test_each_type_builds_its_driver(tmp_path):
    cases = [
        ({"printer__type": "serial"}, "printer", SerialPrinter),
        ({"printer__type": "usb"}, "printer", UsbPrinter),
        ({"printer__type": "network", "printer__host": "10.0.0.9"}, "printer", NetworkPrinter),
        ({"printer__type": "file"}, "printer", FilePrinter),
        ({"printer__type": "sim"}, "printer", SimPrinter),
        ({"scanner__type": "serial"}, "scanner", SerialScanner),
        ({"scanner__type": "wedge"}, "scanner", WedgeScanner),
        ({"scanner__type": "sim"}, "scanner", SimScanner),
        ({"drawer__type": "gpio"}, "drawer", GpioDrawer),
        ({"drawer__type": "printer"}, "drawer", PrinterDrawer),
        ({"drawer__type": "sim"}, "drawer", SimDrawer),
    ]
    for values, device, expected in cases:
        built = getattr(build_devices(config(tmp_path, **values)), device)
        assert type(built) is expected, (values, built)


def test_settings_reach_the_drivers(tmp_path):
    cfg = config(
        tmp_path,
        scanner__type="serial",
        scanner__port="/dev/serial/by-id/scanner",
        scanner__baud=115200,
        scanner__aim_ids=True,
        printer__type="network",
        printer__host="10.0.0.9",
        printer__tcp_port=9101,
        printer__width=32,
        printer__profile="POS-5890",
        drawer__type="gpio",
        drawer__pin=23,
        drawer__sensor_pin=24,
        drawer__pulse_ms=80,
        drawer__left_open_seconds=45,
    )
    devices = build_devices(cfg)
    assert (devices.scanner.port, devices.scanner.baud) == ("/dev/serial/by-id/scanner", 115200)
    assert devices.scanner.cleaner.aim_ids
    assert devices.printer.describe() == "10.0.0.9:9101"
    assert (devices.renderer.columns, devices.renderer.profile) == (32, "POS-5890")
    assert (devices.drawer.pin, devices.drawer.sensor_pin) == (23, 24)
    assert (devices.drawer.pulse_ms, devices.drawer.left_open_after) == (80, 45.0)


def test_simulate_picks_the_twins(tmp_path):
    cfg = config(
        tmp_path,
        printer__type="network",
        printer__host="10.0.0.9",
        scanner__type="serial",
        drawer__type="gpio",
    )
    devices = build_devices(cfg, simulate=True)
    assert isinstance(devices.printer, SimPrinter)
    assert devices.printer.directory == tmp_path / "sim-printer"
    assert isinstance(devices.scanner, SimScanner) and isinstance(devices.drawer, SimDrawer)
    with devices:
        assert devices.printer.status.ok and devices.drawer.status.ok
    assert devices.printer.closed and devices.drawer.closed and devices.scanner.closed


def test_missing_settings_are_named(tmp_path):
    with pytest.raises(HardwareError, match=r"printer.host is empty"):
        build_printer(
            config(tmp_path, printer__type="network").section("printer"), data_dir=tmp_path
        )
    with pytest.raises(HardwareError, match=r"printer.usb_vendor and printer.usb_product"):
        build_printer(
            config(tmp_path, printer__type="usb", printer__usb_vendor="").section("printer"),
            data_dir=tmp_path,
        )
    with pytest.raises(HardwareError, match=r"printer.path is empty"):
        build_printer(
            config(tmp_path, printer__type="file", printer__path="").section("printer"),
            data_dir=tmp_path,
        )
    with pytest.raises(HardwareError, match=r'drawer.type = "printer" needs a printer'):
        build_drawer(config(tmp_path, drawer__type="printer").section("drawer"))
    with pytest.raises(HardwareError, match=r"drawer.sensor_pin: GPIO 17 is also drawer.pin"):
        build_drawer(config(tmp_path, drawer__type="gpio", drawer__sensor_pin=17).section("drawer"))
    with pytest.raises(HardwareError, match=r"printer.width: 48 columns"):
        build_devices(config(tmp_path, printer__width=48, printer__profile="POS-5890"))
    assert build_scanner(config(tmp_path).section("scanner")).describe() == "simulated scanner"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '[printer]\nprofile = "TM-Nope"',
            "printer.profile: 'TM-Nope' is not a python-escpos printer profile",
        ),
        ("[printer]\nwidth = 40", "printer.width: 40 is not one of 32, 42, 48"),
        ('[printer]\ntype = "bluetooth"', "printer.type: 'bluetooth' is not one of serial"),
        ("[printer]\ntcp_port = 70000", "printer.tcp_port: 70000 is not a TCP port"),
        ('[printer]\nflow_control = "hw"', "printer.flow_control: 'hw' is not one of none"),
        (
            '[printer]\nusb_vendor = "epson"',
            "printer.usb_vendor: 'epson' is not a hexadecimal USB id",
        ),
        ("[drawer]\npulse_ms = 2000", "drawer.pulse_ms: 2000 ms is not a drawer pulse"),
        ("[drawer]\npin = 40", "drawer.pin: GPIO 40 is not a Raspberry Pi BCM pin"),
        ("[drawer]\nkick_pin = 3", "drawer.kick_pin: 3 is not one of 2, 5"),
        ('[scanner]\nterminator = ""', "scanner.terminator: should not be empty"),
        (
            "[scanner]\nsim_codes = [4006381333931]",
            "scanner.sim_codes: 4006381333931 should be text",
        ),
        ('[scanner]\nprefix = "é"', "scanner.prefix: 'é' should be ASCII"),
        ("[scanner]\nwedge_max_gap_ms = 0", "scanner.wedge_max_gap_ms: 0 should be above zero"),
        ("[scanner]\nbaud_rate = 9600", "unknown key scanner.baud_rate"),
    ],
)
def test_wrong_device_settings_are_reported_by_name_and_line(tmp_path, line, message):
    path = tmp_path / "kasir.toml"
    path.write_text("# till\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        parse_file(path)
    assert f"{path} line 3: " in str(caught.value)
    assert message in str(caught.value)


def test_example_config_parses_and_documents_every_key():
    values = parse_file(EXAMPLE)
    text = EXAMPLE.read_text(encoding="utf-8")
    section = None
    present: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        header = re.match(r"^\[(\w+)\]\s*$", raw)
        if header:
            section = header.group(1)
            continue
        setting = re.match(r"^(\w+)\s*=", raw)
        if setting and section:
            present[f"{section}.{setting.group(1)}"] = number
    missing = sorted(set(KEYS) - set(present))
    assert not missing, f"config/kasir.example.toml does not document {missing}"
    lines = text.splitlines()
    for name, number in present.items():
        assert lines[number - 2].startswith("#"), f"{name} (line {number}) has no comment above it"
        assert values[name] == KEYS[name].default, f"the example's {name} is not the default"
