"""`kasir hw-test scanner|printer|drawer|all`: try each device and say plainly what is wrong.

    $ kasir hw-test printer
    printer: 192.168.1.50:9100 (network, TM-T88III, 42 columns)
    printer: FAILED — 192.168.1.50:9100: no answer — is the printer switched on and on the
             same network? check [printer] host

The printer test asks for the printer's status and prints a test page (a ruler that must fill
one line exactly, text styles, a QR code and a barcode); the drawer test pulses the drawer and
reads its sensor; the scanner test waits for one scan and shows what the till makes of it.
Exit status 0 when every device tested passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import select
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from retail.barcodes import DEFAULT_LAYOUTS, BarcodeError, layouts_from_config, parse

from .hw.base import HardwareError
from .hw.devices import build_drawer, build_printer, build_renderer, build_scanner, section_of
from .hw.drawer import DrawerError, SimDrawer
from .hw.render import ReceiptRenderer
from .hw.scanner import ScannedCode, SerialScanner, SimScanner, WedgeScanner

Say = Callable[[str], None]
SAMPLE_CODE = "4006381333931"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "device",
        choices=("scanner", "printer", "drawer", "all"),
        help="which device to test (all: printer, drawer, then scanner)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="seconds to wait for a scan, and for the drawer to be closed (default 20)",
    )
    parser.add_argument(
        "--simulate", action="store_true", help="test the simulated devices instead"
    )


def _sayer(name: str) -> Say:
    def say(text: str) -> None:
        print(f"{name}: {text}", flush=True)

    return say


def test_page(renderer: ReceiptRenderer, config: Mapping[str, Any], printer_text: str) -> bytes:
    columns = renderer.columns
    ruler = "".join(str(i % 10) for i in range(1, columns + 1))
    rows = [
        ("Kasir printer test", "center-big"),
        (str(config["store.name"]), "center"),
        ("", "rule"),
        (printer_text, "normal"),
        (f"profile {renderer.profile}, {columns} columns", "normal"),
        ("This ruler must fill exactly one line:", "normal"),
        (ruler, "normal"),
        ("Bold text", "bold"),
        ("Double height", "big"),
        ("Centred", "center"),
        ("Accents are printed plain: Café crème", "normal"),
        ("", "rule"),
        ("Below: a QR code and a barcode to scan.", "normal"),
    ]
    return renderer.render_lines(rows, qr="KASIR TEST 4006381333931", barcode="KASIR-TEST")


def check_printer(config: Mapping[str, Any], args: argparse.Namespace, say: Say) -> bool:
    section = section_of(config, "printer")
    try:
        renderer = build_renderer(section)
        printer = build_printer(section, data_dir=config["till.data_dir"], simulate=args.simulate)
    except (HardwareError, ValueError) as exc:
        say(f"FAILED — {exc}")
        return False
    kind = "sim" if args.simulate else section["type"]
    described = f"{printer.describe()} ({kind}, {renderer.profile}, {renderer.columns} columns)"
    say(described)
    for warning in renderer.warnings:
        say(f"warning: {warning}")
    with printer:
        try:
            status = printer.query_status()
        except HardwareError as exc:
            say(f"FAILED — {exc}")
            return False
        say(f"status: {status.message}")
        if not status.can_print:
            say(f"FAILED — {status.message}")
            return False
        try:
            printer.write(test_page(renderer, config, described))
        except HardwareError as exc:
            say(f"FAILED — {exc}")
            return False
    where = f" ({printer.jobs[-1]})" if getattr(printer, "jobs", None) else ""
    say(f"OK — test page sent{where}: check that the ruler fills one line and the codes scan")
    return True


def check_drawer(config: Mapping[str, Any], args: argparse.Namespace, say: Say) -> bool:
    section = section_of(config, "drawer")
    printer = None
    try:
        if section["type"] == "printer" and not args.simulate:
            printer = build_printer(section_of(config, "printer"), data_dir=config["till.data_dir"])
            printer.open()
        drawer = build_drawer(section, printer=printer, simulate=args.simulate)
    except (HardwareError, ValueError) as exc:
        say(f"FAILED — {exc}")
        return False
    if isinstance(drawer, SimDrawer):
        drawer.auto_close_after = 0.2
    try:
        with drawer:
            say(drawer.describe())
            if drawer.status.state == "offline":
                say(f"FAILED — {drawer.status.message}")
                return False
            if drawer.has_sensor:
                say(f"sensor reads {'open' if drawer.is_open else 'closed'}")
            try:
                drawer.pulse()
            except DrawerError as exc:
                say(f"FAILED — {exc}")
                return False
            if not drawer.has_sensor:
                say(
                    f"OK — pulse sent ({drawer.pulse_ms} ms); there is no sensor, so check by eye "
                    "that the drawer opened (if not: its cable, and [drawer] pulse_ms)"
                )
                return True
            say(f"opened — the sensor confirms it; close the drawer (waiting {args.timeout:g} s)")
            deadline = time.monotonic() + args.timeout
            while drawer.is_open and time.monotonic() < deadline:
                time.sleep(0.05)
            if drawer.is_open:
                say(
                    "FAILED — the sensor still reads open: if the drawer is closed, its switch "
                    "is not seen closing (check its wire and [drawer] sensor_pin)"
                )
                return False
            say("OK — opened on the pulse and the sensor saw it close again")
            return True
    finally:
        if printer is not None:
            printer.close()


def _wait_for_line(timeout: float) -> str | None:
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    return sys.stdin.readline().strip() if ready else None


def describe_code(scanned: ScannedCode, config: Mapping[str, Any]) -> tuple[bool, str]:
    """What the till makes of a scanned code: (usable, words for the owner)."""
    layouts = layouts_from_config(config["barcodes.variable_layouts"]) or DEFAULT_LAYOUTS
    try:
        parsed = parse(scanned.code, layouts)
    except BarcodeError as exc:
        return False, f"the till cannot use {scanned.code!r}: {exc}"
    if parsed.kind == "gtin":
        return True, f"product barcode, GTIN {parsed.gtin}"
    if parsed.kind == "variable":
        if parsed.weight_g is not None:
            return True, f"scale label: item {parsed.plu}, {parsed.weight_g} g"
        return True, f"scale label: item {parsed.plu}, price {parsed.price}"
    return True, f"shop's own code {parsed.raw!r}, looked up as it is"


def check_scanner(config: Mapping[str, Any], args: argparse.Namespace, say: Say) -> bool:
    section = section_of(config, "scanner")
    try:
        scanner = build_scanner(section, simulate=args.simulate)
    except (HardwareError, ValueError) as exc:
        say(f"FAILED — {exc}")
        return False
    with scanner:
        say(scanner.describe())
        if isinstance(scanner, SerialScanner) and not scanner.wait_ready(min(3.0, args.timeout)):
            say(f"FAILED — {scanner.status.message}")
            return False
        if isinstance(scanner, WedgeScanner):
            say(f"scan a barcode now: it types into this terminal (waiting {args.timeout:g} s)")
            line = _wait_for_line(args.timeout)
            scanned = scanner.cleaner.clean(line.encode("latin-1", "replace")) if line else None
        else:
            say(f"scan a barcode now (waiting {args.timeout:g} s)")
            if isinstance(scanner, SimScanner) and not scanner.codes and not scanner.file:
                scanner.scan(SAMPLE_CODE)
            scanned = scanner.read(args.timeout)
        if scanned is None:
            state = scanner.status.message
            say(
                f"FAILED — no code within {args.timeout:g} s ({state}). Does the scanner beep "
                "when it reads? If it beeps, its interface mode does not match [scanner] type "
                "(serial: USB-COM/CDC mode; wedge: keyboard mode) or its terminator is not "
                "[scanner] terminator"
            )
            return False
        say(f"read {scanned.code!r}" + (f" ({scanned.symbology})" if scanned.symbology else ""))
        if scanned.dropped:
            say(
                f"warning: {scanned.dropped} control or noise characters were removed — check "
                "the scanner's prefix/suffix settings and [scanner] prefix, suffix, aim_ids"
            )
        if section["aim_ids"] and scanned.aim_id is None:
            say("warning: [scanner] aim_ids is on but the scanner sent no AIM identifier")
        usable, words = describe_code(scanned, config)
        say(("OK — " if usable else "OK, but ") + words)
        return True


CHECKS = {"printer": check_printer, "drawer": check_drawer, "scanner": check_scanner}


def run(args: argparse.Namespace, config: Mapping[str, Any]) -> int:
    names = list(CHECKS) if args.device == "all" else [args.device]
    results = {name: CHECKS[name](config, args, _sayer(name)) for name in names}
    if len(results) > 1:
        failed = [name for name, ok in results.items() if not ok]
        print("all devices OK" if not failed else f"failed: {', '.join(failed)}", flush=True)
    return 0 if all(results.values()) else 1
