"""Config keys of the till's devices: the `[scanner]`, `[printer]` and `[drawer]` sections.

Each section's `type` picks the driver (`appliance.hw.devices` builds it); the other keys are
read only by the drivers that use them, so a serial scanner ignores `sim_codes`. Every key is
documented in `config/kasir.example.toml`.
"""

from __future__ import annotations

from appliance.settings_schema import Key


def _positive(value: int) -> None:
    if value <= 0:
        raise ValueError(f"{value} should be above zero")


def _non_negative(value: int) -> None:
    if value < 0:
        raise ValueError(f"{value} should not be negative")


def _pin(value: int) -> None:
    if not 0 <= value <= 27:
        raise ValueError(f"GPIO {value} is not a Raspberry Pi BCM pin (0-27)")


def _optional_pin(value: int) -> None:
    if value != -1:
        _pin(value)


def _hex_id(value: str) -> None:
    if value:
        try:
            number = int(value, 16)
        except ValueError:
            raise ValueError(f"{value!r} is not a hexadecimal USB id such as 04b8") from None
        if not 0 <= number <= 0xFFFF:
            raise ValueError(f"{value!r} is not a 16-bit USB id")


def _tcp_port(value: int) -> None:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP port (1-65535)")


def _terminator(value: str) -> None:
    if not value:
        raise ValueError('should not be empty: name what ends each code, e.g. "\\r\\n"')
    if any(ord(ch) >= 128 for ch in value):
        raise ValueError(f'{value!r} should be ASCII characters such as "\\r" or "\\t"')


def _affix(value: str) -> None:
    if any(ord(ch) >= 128 for ch in value):
        raise ValueError(f"{value!r} should be ASCII: scanners send ASCII prefixes and suffixes")


def _codes(value: list) -> None:
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f'{item!r} should be text, e.g. "4006381333931" in quotes')


def _pulse(value: int) -> None:
    # Drawer solenoids are made for short pulses; a long one heats the coil and can burn it.
    if not 10 <= value <= 500:
        raise ValueError(f"{value} ms is not a drawer pulse (10-500 ms; most drawers: 50-200)")


def _profile(value: str) -> None:
    from .escpos_env import profile_names

    names = profile_names()
    if value not in names:
        suggestions = ", ".join(n for n in ("TM-T88III", "TM-T20II", "POS-5890") if n in names)
        raise ValueError(
            f"{value!r} is not a python-escpos printer profile (e.g. {suggestions}; "
            f"all: {', '.join(sorted(names))})"
        )


HW_KEYS: list[Key] = [
    Key(
        "scanner.type",
        str,
        "sim",
        "serial, wedge (USB keyboard) or sim",
        choices=("serial", "wedge", "sim"),
    ),
    Key("scanner.port", str, "/dev/ttyACM0", "Serial port of a serial scanner"),
    Key("scanner.baud", int, 9600, "Serial speed", check=_positive),
    Key(
        "scanner.terminator",
        str,
        "\r\n",
        "Characters that end a code; any one of them does (CR, LF, TAB...)",
        check=_terminator,
    ),
    Key(
        "scanner.prefix", str, "", "Prefix the scanner adds, stripped before parsing", check=_affix
    ),
    Key(
        "scanner.suffix", str, "", "Suffix the scanner adds, stripped before parsing", check=_affix
    ),
    Key("scanner.aim_ids", bool, False, "Scanner sends AIM symbology identifiers (]E0...)"),
    Key(
        "scanner.wedge_min_length",
        int,
        8,
        "Keyboard scanner: fewest characters a scan has (shorter bursts are typing)",
        check=_positive,
    ),
    Key(
        "scanner.wedge_max_gap_ms",
        int,
        30,
        "Keyboard scanner: longest pause between two keys of one scan",
        check=_positive,
    ),
    Key("scanner.sim_codes", list, [], "Codes the simulated scanner feeds", check=_codes),
    Key("scanner.sim_file", str, "", "File of codes (one a line) the simulated scanner feeds"),
    Key(
        "scanner.sim_interval_ms",
        int,
        1000,
        "Pause between two codes the simulated scanner feeds",
        check=_non_negative,
    ),
    Key(
        "scanner.sim_pty",
        bool,
        False,
        "Simulated scanner also reads codes written to a pseudo-terminal",
    ),
    Key(
        "printer.type",
        str,
        "sim",
        "serial, usb, network, file or sim",
        choices=("serial", "usb", "network", "file", "sim"),
    ),
    Key(
        "printer.width",
        int,
        42,
        "Characters per line: 32 (58 mm), 42 or 48 (80 mm)",
        choices=(32, 42, 48),
    ),
    Key("printer.profile", str, "TM-T88III", "python-escpos printer profile", check=_profile),
    Key("printer.port", str, "/dev/ttyUSB0", "Serial port of a serial printer"),
    Key("printer.baud", int, 19200, "Serial speed of a serial printer", check=_positive),
    Key(
        "printer.flow_control",
        str,
        "none",
        "Serial handshake: none, rtscts, dsrdtr or xonxoff",
        choices=("none", "rtscts", "dsrdtr", "xonxoff"),
    ),
    Key("printer.usb_vendor", str, "04b8", "USB vendor id (hex)", check=_hex_id),
    Key("printer.usb_product", str, "0202", "USB product id (hex)", check=_hex_id),
    Key("printer.host", str, "", "Address of a network printer"),
    Key("printer.tcp_port", int, 9100, "TCP port of a network printer", check=_tcp_port),
    Key("printer.path", str, "/dev/usb/lp0", "Device or file for type file"),
    Key(
        "printer.timeout_seconds",
        int,
        5,
        "How long to wait for the printer before calling it offline",
        check=_positive,
    ),
    Key("printer.logo", str, "", "Image printed at the top of receipts (PNG)"),
    Key("printer.print_qr", bool, True, "Print the e-receipt QR code"),
    Key(
        "printer.give_up_minutes",
        int,
        60,
        "A receipt not printed within this time is marked failed instead (0 = never)",
        check=_non_negative,
    ),
    Key("printer.sim_dir", str, "", "Where the simulated printer writes (default: data dir)"),
    Key(
        "drawer.type",
        str,
        "sim",
        "gpio, printer (kicked through the printer) or sim",
        choices=("gpio", "printer", "sim"),
    ),
    Key("drawer.pin", int, 17, "GPIO (BCM) driving the solenoid", check=_pin),
    Key(
        "drawer.sensor_pin",
        int,
        -1,
        "GPIO of the open/closed switch, -1 for none",
        check=_optional_pin,
    ),
    Key("drawer.sensor_open_high", bool, False, "Switch reads high when the drawer is open"),
    Key("drawer.pulse_ms", int, 100, "Solenoid pulse length in ms", check=_pulse),
    Key("drawer.kick_pin", int, 2, "Printer drawer connector pin (2 or 5)", choices=(2, 5)),
    Key(
        "drawer.left_open_seconds",
        int,
        60,
        "Alert when the drawer stays open this long",
        check=_positive,
    ),
]
