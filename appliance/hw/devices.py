"""The till's devices, built from the `[scanner]`, `[printer]` and `[drawer]` config sections.

    >>> devices = build_devices(config, simulate=args.simulate)     # doctest: +SKIP
    >>> with devices:                                                # opens all, closes all
    ...     devices.printer.status.message

Each section's `type` picks the driver; `simulate=True` picks the simulated twin whatever the
file says (`kasir run --simulate`). Settings a driver needs but that are empty (a network
printer without `host`) are reported as a `HardwareError` naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import HardwareError
from .drawer import Drawer, GpioDrawer, PrinterDrawer, SimDrawer
from .printer import (
    FilePrinter,
    NetworkPrinter,
    Printer,
    SerialPrinter,
    SimPrinter,
    UsbPrinter,
)
from .render import ReceiptRenderer, RenderError
from .scanner import ScannedCode, Scanner, SerialScanner, SimScanner, WedgeScanner

Section = Mapping[str, Any]


def build_scanner(
    section: Section,
    *,
    simulate: bool = False,
    when_scanned: Callable[[ScannedCode], None] | None = None,
    when_status=None,
) -> Scanner:
    common = dict(
        terminator=section["terminator"],
        prefix=section["prefix"],
        suffix=section["suffix"],
        aim_ids=section["aim_ids"],
        when_scanned=when_scanned,
        when_status=when_status,
    )
    kind = "sim" if simulate else section["type"]
    if kind == "serial":
        return SerialScanner(section["port"], section["baud"], **common)
    if kind == "wedge":
        return WedgeScanner(
            min_length=section["wedge_min_length"],
            max_gap=section["wedge_max_gap_ms"] / 1000,
            **common,
        )
    if kind == "sim":
        return SimScanner(
            section["sim_codes"],
            file=section["sim_file"] or None,
            interval=section["sim_interval_ms"] / 1000,
            pty=section["sim_pty"],
            **common,
        )
    raise HardwareError(f"scanner.type: {kind!r} is not serial, wedge or sim")


def build_printer(
    section: Section,
    *,
    data_dir: str | os.PathLike,
    simulate: bool = False,
    when_status=None,
) -> Printer:
    common = dict(timeout=float(section["timeout_seconds"]), when_status=when_status)
    kind = "sim" if simulate else section["type"]
    if kind == "serial":
        return SerialPrinter(
            section["port"], section["baud"], flow_control=section["flow_control"], **common
        )
    if kind == "usb":
        if not section["usb_vendor"] or not section["usb_product"]:
            raise HardwareError(
                "printer.usb_vendor and printer.usb_product are needed for a USB printer "
                "(`lsusb` shows them as vendor:product, e.g. 04b8:0202)"
            )
        return UsbPrinter(int(section["usb_vendor"], 16), int(section["usb_product"], 16), **common)
    if kind == "network":
        if not section["host"]:
            raise HardwareError("printer.host is empty: set the network printer's IP address")
        return NetworkPrinter(section["host"], section["tcp_port"], **common)
    if kind == "file":
        if not section["path"]:
            raise HardwareError(
                "printer.path is empty: set the printer's device, e.g. /dev/usb/lp0"
            )
        return FilePrinter(section["path"], **common)
    if kind == "sim":
        directory = section["sim_dir"] or Path(data_dir) / "sim-printer"
        return SimPrinter(directory, section["width"], **common)
    raise HardwareError(f"printer.type: {kind!r} is not serial, usb, network, file or sim")


def build_renderer(section: Section) -> ReceiptRenderer:
    try:
        return ReceiptRenderer(
            section["width"],
            profile=section["profile"],
            logo=section["logo"] or None,
            print_qr=section["print_qr"],
        )
    except RenderError as exc:
        raise HardwareError(str(exc)) from None


def build_drawer(
    section: Section,
    *,
    printer: Printer | None = None,
    simulate: bool = False,
    when_left_open: Callable[[float], None] | None = None,
    when_status=None,
) -> Drawer:
    common = dict(
        pulse_ms=section["pulse_ms"],
        left_open_after=float(section["left_open_seconds"]),
        when_left_open=when_left_open,
        when_status=when_status,
    )
    kind = "sim" if simulate else section["type"]
    if kind == "gpio":
        sensor = section["sensor_pin"]
        if sensor == section["pin"]:
            raise HardwareError(
                f"drawer.sensor_pin: GPIO {sensor} is also drawer.pin — the sensor needs its own pin"
            )
        return GpioDrawer(
            section["pin"],
            sensor_pin=None if sensor == -1 else sensor,
            sensor_open_high=section["sensor_open_high"],
            **common,
        )
    if kind == "printer":
        if printer is None:
            raise HardwareError('drawer.type = "printer" needs a printer: set up [printer] first')
        return PrinterDrawer(printer, kick_pin=section["kick_pin"], **common)
    if kind == "sim":
        return SimDrawer(**common)
    raise HardwareError(f"drawer.type: {kind!r} is not gpio, printer or sim")


def section_of(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One section of the config as {key: value}."""
    if hasattr(config, "section"):
        return config.section(name)
    return {k.split(".", 1)[1]: v for k, v in config.items() if k.startswith(name + ".")}


@dataclass
class Devices:
    scanner: Scanner
    printer: Printer
    drawer: Drawer
    renderer: ReceiptRenderer

    def open(self) -> Devices:
        for device in (self.printer, self.drawer, self.scanner):
            device.open()
        return self

    def close(self) -> None:
        for device in (self.scanner, self.drawer, self.printer):
            device.close()

    def __enter__(self) -> Devices:
        return self.open()

    def __exit__(self, *exc_info) -> None:
        self.close()


def build_devices(
    config: Mapping[str, Any],
    *,
    simulate: bool = False,
    when_scanned: Callable[[ScannedCode], None] | None = None,
) -> Devices:
    """All three devices (not yet opened) and the receipt renderer, from the till's config
    (`appliance.config.Config`, or any mapping of "section.key" names)."""

    def section(name: str) -> dict[str, Any]:
        return section_of(config, name)

    printer_section = section("printer")
    printer = build_printer(printer_section, data_dir=config["till.data_dir"], simulate=simulate)
    return Devices(
        scanner=build_scanner(section("scanner"), simulate=simulate, when_scanned=when_scanned),
        printer=printer,
        drawer=build_drawer(section("drawer"), printer=printer, simulate=simulate),
        renderer=build_renderer(printer_section),
    )
