"""`kasir`: the till's command line.

    $ kasir --data-dir ./demo init --demo
    $ kasir --data-dir ./demo shift open --float 200.000
    $ kasir --data-dir ./demo sale --scan 8991001100016*2 --pay cash:50.000
    $ kasir --data-dir ./demo --pin 123456 refund 000001 --line 1*1
    $ kasir --data-dir ./demo --pin 123456 shift close --counted 250.000

Every command acts as the staff member given by `--staff` (default: the manager made by
`init`), and commands that need a manager take `--pin` or ask for it on a terminal; both go
before the command's name. Amounts are written as a person writes them in the store's locale
("20000", or "20.000" for id_ID). On any bad input the command exits non-zero with the reason,
and nothing is stored.
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from retail.barcodes import BarcodeError
from retail.money import MoneyError, format_money, parse_money
from retail.pricing import Discount, PricingError, TenderError, TenderInput
from retail.receipt import as_text

from . import __version__, audit, identity, outbox, receipts, reports, shifts, staff
from .cart import Cart, CartError
from .catalog import UnknownBarcode, UnknownProduct
from .checkout import complete_sale
from .cli_devices import CommandDevices
from .config import Config, ConfigError
from .refunds import RefundError, adopt_remote, refund, refundable
from .staff import AuthError, StaffInfo
from .store.db import StoreError, open_store, peek_number, store_path
from .store.models import PrintJob, Shift

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.code = code


@dataclass
class Till:
    config: Config
    data_dir: Path
    args: argparse.Namespace

    def money(self, text: str, what: str) -> int:
        try:
            return parse_money(text, self.config.currency, self.config.locale)
        except MoneyError as exc:
            raise CliError(f"{what}: {exc}") from None

    def fmt(self, amount: int) -> str:
        return format_money(amount, self.config.currency, self.config.locale)

    def acting(self) -> StaffInfo:
        name = self.args.staff
        if name is None:
            manager = staff.first_manager()
            if manager is None:
                raise CliError("no staff yet: run `kasir init` first")
            return manager
        try:
            row = staff.find(name)
        except AuthError as exc:
            raise CliError(str(exc)) from None
        if not row.active:
            raise CliError(f"{row.name}'s account is disabled", EXIT_REFUSED)
        return staff.get(row.id)

    def manager_pin(self, what: str) -> StaffInfo:
        """The acting manager's approval (or any manager's, when a cashier acts)."""
        pin = self.args.pin
        if pin is None:
            if not sys.stdin.isatty():
                raise CliError(f"{what} needs a manager's PIN: pass --pin", EXIT_REFUSED)
            pin = getpass.getpass(f"Manager PIN for {what}: ")
        acting = self.acting()
        try:
            if acting.is_manager:
                return staff.login(acting.id, pin, self.config)
            return staff.approve(pin, self.config)
        except AuthError as exc:
            raise CliError(str(exc), EXIT_REFUSED) from None


# -- commands --------------------------------------------------------------------------------


def demo_catalog_path() -> Path:
    return Path(str(resources.files("appliance") / "data" / "demo_catalog.csv"))


def cmd_init(till: Till) -> int:
    args = till.args
    existing = staff.first_manager()
    if existing is not None:
        raise CliError(f"{till.data_dir} is already set up (manager: {existing.name})")
    pin = f"{secrets.randbelow(10**6):06d}"
    # Not sent as an event: a new store has no enrolment yet, and enrolling hands its whole
    # staff to the OMS; an event would only be set aside when this card replaces a terminal
    # that already sent events (its numbers are taken).
    manager = staff.create(
        args.manager_name, "manager", pin, tz=till.config["store.timezone"], send=False
    )
    identity.load()
    identity.remember_manager(manager.id)
    print(f"Store created in {till.data_dir}")
    print(f"Manager account: {manager.name}")
    print(f"Manager PIN (shown once, write it down): {pin}")
    if args.demo:
        from .store.catalog_import import import_catalog

        result = import_catalog(demo_catalog_path(), till.config)
        print(f"Demo catalog: {result.created} products")
    return 0


def cmd_import_catalog(till: Till) -> int:
    from .store.catalog_import import CatalogImportError, import_catalog

    path = Path(till.args.file)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" rows", desc="Importing", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    try:
        result = import_catalog(path, till.config, skip_bad=till.args.skip_bad, progress=progress)
    except CatalogImportError as exc:
        raise CliError(str(exc)) from None
    print(
        f"Imported {path.name}: {result.created} new, {result.updated} updated, "
        f"{result.skipped} skipped"
    )
    for error in result.errors:
        print(f"  skipped {error}", file=sys.stderr)
    audit.record(
        "catalog_import",
        staff_id=till.acting().id,
        detail={
            "file": path.name,
            "created": result.created,
            "updated": result.updated,
            "skipped": result.skipped,
        },
        tz=till.config["store.timezone"],
        send=False,
    )
    return 0


def _split_qty(text: str, what: str) -> tuple[str, int]:
    if "*" in text:
        code, _, qty = text.rpartition("*")
        if not qty.isdigit() or int(qty) < 1:
            raise CliError(f"{what} {text!r}: quantity after * must be a whole number ≥ 1")
        return code, int(qty)
    return text, 1


def _parse_pay(till: Till, text: str) -> TenderInput:
    parts = text.split(":")
    tender = parts[0].strip().lower()
    if tender == "cash" and len(parts) == 2:
        return TenderInput("cash", till.money(parts[1], f"--pay {text}"))
    if tender in ("card", "qris") and len(parts) == 3:
        return TenderInput(tender, till.money(parts[1], f"--pay {text}"), parts[2].strip())
    raise CliError(f"--pay {text!r}: write cash:AMOUNT, card:AMOUNT:REF or qris:AMOUNT:REF")


def _parse_discount(till: Till, text: str) -> Discount:
    text = text.strip()
    if text.endswith("%"):
        try:
            pct = float(text[:-1].replace(",", "."))
        except ValueError:
            raise CliError(f"--discount {text!r} is not a percentage") from None
        if not 0 < pct <= 100:
            raise CliError(f"--discount {text!r}: a percentage is between 0 and 100")
        return Discount("percent", round(pct * 100))
    return Discount("amount", till.money(text, "--discount"))


def cmd_sale(till: Till) -> int:
    args = till.args
    acting = till.acting()
    cart = Cart(till.config, staff=acting)
    approver = None
    try:
        for item in args.scan or []:
            code, qty = _split_qty(item, "--scan")
            try:
                cart.scan(code, qty)
            except UnknownBarcode as exc:
                raise CliError(f"{exc}; sell it with --open NAME=PRICE and a manager PIN") from None
        for item in args.sku or []:
            sku, qty = _split_qty(item, "--sku")
            cart.add_sku(sku, qty)
        for item in args.open or []:
            name, sep, price = item.rpartition("=")
            if not sep:
                raise CliError(f"--open {item!r}: write NAME=PRICE")
            approver = approver or till.manager_pin("an open-price item")
            cart.add_open_price(name, till.money(price, f"--open {item}"), approver)
        if args.discount:
            discount = _parse_discount(till, args.discount)
            if not (discount.kind == "percent" and discount.value <= 1000):
                approver = approver or till.manager_pin("a discount above 10%")
            cart.discount_cart(discount, approver)
        if args.customer:
            from .customers import CustomerError, by_phone

            try:
                found = by_phone(args.customer)
            except CustomerError as exc:
                raise CliError(f"--customer: {exc}") from None
            if found is None:
                raise CliError(f"--customer: no customer with phone {args.customer}")
            cart.attach_customer(found.id)
        if cart.empty:
            raise CliError("nothing to sell: give --scan, --sku or --open")
        tenders = [_parse_pay(till, p) for p in args.pay or []]
        if not tenders:
            raise CliError(f"no payment: the total is {till.fmt(cart.priced().total)}; give --pay")
        done = complete_sale(cart, tenders, staff=acting, config=till.config)
    except (BarcodeError, UnknownProduct, CartError, TenderError, PricingError) as exc:
        raise CliError(str(exc)) from None
    except shifts.ShiftError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    receipt = receipts.sale_receipt(done.receipt_no, till.config)
    print(as_text(receipt, till.config["printer.width"]))
    print()
    print(
        f"Receipt {done.receipt_no}  total {till.fmt(done.total)}  change {till.fmt(done.change)}"
    )
    with CommandDevices(till.config, till.data_dir) as devices:
        print(devices.print("sale", receipt))
        if done.opens_drawer:
            print(
                devices.open_drawer(
                    "cash_sale", staff_id=acting.id, ref=done.receipt_no, training=done.training
                )
            )
    return 0


def _fetch_if_elsewhere(receipt_no: str) -> None:
    """Another till's sale is refunded here only with what the OMS knows of it now; our own
    sale takes in refunds other tills made of it when the OMS answers, and stands without."""
    from .oms_link import OmsLink, OmsUnavailable

    number = receipt_no.strip()
    try:
        own = refundable(number).origin is None
    except RefundError:
        own = False
    try:
        adopt_remote(OmsLink().remote_sale(number))
    except (OmsUnavailable, LookupError) as exc:
        if not own:
            raise CliError(f"receipt {number} is not a sale of this till, and {exc}") from None


def cmd_refund(till: Till) -> int:
    args = till.args
    acting = till.acting()
    lines = None
    if args.line:
        lines = {}
        for item in args.line:
            no, qty = _split_qty(item, "--line")
            if not no.isdigit():
                raise CliError(f"--line {item!r}: write the line number, e.g. 2 or 2*1")
            lines[int(no)] = qty if "*" in item else None
    _fetch_if_elsewhere(args.receipt)
    approver = till.manager_pin("a refund")
    try:
        done = refund(
            args.receipt,
            config=till.config,
            staff=acting,
            approver=approver,
            lines=lines,
            to=args.to,
            reason=args.reason or "",
        )
    except (RefundError, AuthError) as exc:
        raise CliError(str(exc)) from None
    except shifts.ShiftError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    receipt = receipts.refund_receipt(done.receipt_no, till.config)
    print(as_text(receipt, till.config["printer.width"]))
    print()
    print(f"Refund {done.receipt_no} of {done.sale_receipt_no}: {till.fmt(done.total)}")
    with CommandDevices(till.config, till.data_dir) as devices:
        print(devices.print("refund", receipt))
        if done.opens_drawer:
            print(
                devices.open_drawer(
                    "cash_refund",
                    staff_id=acting.id,
                    ref=done.receipt_no,
                    approved_by=approver.id,
                    training=done.training,
                )
            )
    return 0


def cmd_shift(till: Till) -> int:
    args = till.args
    acting = till.acting()
    cfg = till.config
    try:
        if args.shift_cmd == "open":
            amount = till.money(args.float, "--float") if args.float else 0
            shift = shifts.open_shift(acting, amount, cfg)
            print(f"Shift opened by {acting.name} with a float of {till.fmt(amount)}")
            print(f"Shift id {shift.id}")
            return 0
        if args.shift_cmd == "close":
            counted = till.money(args.counted, "--counted")
            approver = till.manager_pin("closing a shift")
            report = shifts.close_shift(acting, counted, cfg, approver=approver)
            document = receipts.report_receipt(report, cfg)
            print(as_text(document, cfg["printer.width"]))
            with CommandDevices(cfg, till.data_dir) as devices:
                print(devices.print("report", document))
            return 0
        if args.shift_cmd in ("cash-in", "cash-out"):
            amount = till.money(args.amount, "amount")
            if amount <= 0:
                raise CliError("amount must be above zero")
            sign = 1 if args.shift_cmd == "cash-in" else -1
            movement = shifts.cash_move(acting, sign * amount, args.reason, cfg)
            print(f"{args.shift_cmd}: {till.fmt(amount)} ({args.reason})")
            with CommandDevices(cfg, till.data_dir) as devices:
                print(
                    devices.open_drawer(
                        args.shift_cmd.replace("-", "_"), staff_id=acting.id, ref=movement
                    )
                )
            return 0
    except shifts.ShiftError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    except AuthError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    raise CliError(f"unknown shift command {args.shift_cmd}")


def cmd_report(till: Till) -> int:
    cfg = till.config
    if till.args.kind == "x":
        shift = shifts.current()
        if shift is None:
            raise CliError("no shift is open: an X report covers the open shift", EXIT_REFUSED)
        report = reports.shift_report(shift.id)
        blind = cfg["till.blind_close"] and not till.acting().is_manager
        print(as_text(receipts.report_receipt(report, cfg, blind=blind), cfg["printer.width"]))
        return 0
    query = Shift.select().where(Shift.z_number.is_null(False))
    if till.args.number:
        query = query.where(Shift.z_number == till.args.number)
    row = query.order_by(Shift.z_number.desc()).first()
    if row is None:
        raise CliError(
            "no Z report yet: close a shift first"
            if not till.args.number
            else f"there is no Z report #{till.args.number}"
        )
    report = reports.shift_report(row.id)
    print(as_text(receipts.report_receipt(report, cfg), cfg["printer.width"]))
    return 0


def cmd_status(till: Till) -> int:
    cfg = till.config
    ident = identity.load()
    shift = shifts.current()
    depth = outbox.depth()
    print(f"Kasir {__version__}")
    print(f"Data directory: {till.data_dir}")
    print(f"Config file:    {cfg.path or '(none: built-in defaults)'}")
    print(
        f"Terminal:       {ident.terminal_id}"
        + (
            f" ({ident.store_code}-{ident.terminal_code})"
            if ident.enrolled
            else " (standalone, not enrolled)"
        )
    )
    print(f"Training mode:  {'ON' if identity.training_mode() else 'off'}")
    if shift:
        print(f"Shift:          open since {receipts.local_time(shift.opened_at, cfg)}")
    else:
        print("Shift:          closed")
    print(f"Receipts:       last number {peek_number('receipt_seq')}")
    print(
        f"Outbox:         {depth['pending']} waiting, {depth['delivered']} delivered, "
        f"{depth['quarantined']} quarantined"
    )
    from . import sync

    link = sync.status()
    if link["enrolled"]:
        reach = {True: "reachable", False: "NOT reachable", None: "not tried yet"}
        print(f"OMS:            {link['oms_url']} ({reach[link['reachable']]})")
        print(f"Last sync:      {link['last_success_at'] or 'never'}")
        if link["last_error"] and not link["reachable"]:
            print(f"Last error:     {link['last_error']}")
        age = link["catalog_age_s"]
        print(
            f"Catalog:        cursor {link['catalog_cursor']!r}, "
            f"{'never pulled' if age is None else f'pulled {age} s ago'}"
        )
        if link["clock_warning"]:
            print(f"Clock:          WARNING: {link['clock_skew_ms'] / 1000:.0f} s off the OMS")
    else:
        print("OMS:            not enrolled (standalone till)")
    for q in sync.quarantined():
        print(f"  quarantined #{q['seq']} {q['type']}: {q['reason']}")
    queued = PrintJob.select().where(PrintJob.state != "done").count()
    print(f"Print queue:    {queued} waiting")
    print("Settings (value — where it comes from):")
    for name in cfg:
        value = cfg[name]
        spec_secret = name == "oms.enrolment_code"
        shown = "***" if spec_secret and value else repr(value)
        print(f"  {name} = {shown}  [{cfg.source(name)}]")
    return 0


def cmd_training(till: Till) -> int:
    approver = till.manager_pin("training mode")
    on = till.args.state == "on"
    identity.set_training_mode(on)
    audit.record(
        "training_on" if on else "training_off",
        staff_id=approver.id,
        tz=till.config["store.timezone"],
    )
    print(f"Training mode {'ON: sales use the TRN- series' if on else 'off'}")
    return 0


def cmd_staff(till: Till) -> int:
    args = till.args
    if args.staff_cmd == "list":
        for s in staff.active_staff():
            print(f"{s.name}\t{s.role}")
        return 0
    approver = till.manager_pin("adding staff")
    pin = args.new_pin or f"{secrets.randbelow(10**6):06d}"
    try:
        created = staff.create(
            args.name, args.role, pin, by=approver, tz=till.config["store.timezone"]
        )
    except (ValueError, AuthError) as exc:
        raise CliError(str(exc)) from None
    print(f"{created.name} ({created.role}) added; PIN: {pin}")
    return 0


def cmd_enrol(till: Till) -> int:
    from .enrol import EnrolError, enrol
    from .oms_client import OmsError

    try:
        done = enrol(
            till.config,
            till.data_dir,
            till.args.url,
            till.args.code,
            name=till.args.name,
            force=till.args.force,
        )
    except (EnrolError, OmsError) as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    if done.exported:
        print(f"Undelivered events exported to {done.exported}")
    print(f"Enrolled as {done.store_code}-{done.terminal_code} ({done.store_name})")
    print(f"Receipts continue after {done.last_receipt_seq}, events after {done.last_seq}")
    return 0


def cmd_sync(till: Till) -> int:
    import logging
    import signal
    import threading

    from . import sync
    from .oms_client import OmsError, OmsUnauthorized

    args = till.args
    if args.retry_quarantined is not None:
        released = sync.release_quarantine(args.retry_quarantined or None)
        print(f"{released} quarantined event(s) back in line")
        return 0
    try:
        link = sync.SyncLink.from_store(till.config, till.data_dir)
    except OmsError as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    if args.once:
        try:
            report = link.round()
        except OmsError as exc:
            raise CliError(str(exc), EXIT_REFUSED) from None
        up = report.upload
        print(
            f"Uploaded {up.sent} event(s): {up.accepted} accepted, {up.duplicate} duplicate, "
            f"{up.rejected} rejected, {up.waiting} waiting behind quarantine"
        )
        print(
            f"Catalog: {report.catalog_changes} change(s); pickup orders: "
            f"{report.pickup_orders}; clock skew {report.clock_skew_ms} ms"
        )
        return 0
    # force: a library imported on the way (python-escpos) already called basicConfig(), which
    # would leave this a no-op and the uploader's INFO lines (what it sent) unlogged.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", force=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        link.run(stop, interval=till.config["oms.sync_interval"])
    except OmsUnauthorized as exc:
        raise CliError(str(exc), EXIT_REFUSED) from None
    return 0


def cmd_no_sale(till: Till) -> int:
    approver = till.manager_pin("opening the drawer without a sale")
    with CommandDevices(till.config, till.data_dir) as devices:
        print(devices.open_drawer("no_sale", staff_id=till.acting().id, approved_by=approver.id))
    return 0


def cmd_reprint(till: Till) -> int:
    try:
        receipt = receipts.any_receipt(till.args.receipt, till.config, copy=True)
    except LookupError as exc:
        raise CliError(str(exc)) from None
    print(as_text(receipt, till.config["printer.width"]))
    with CommandDevices(till.config, till.data_dir) as devices:
        print(devices.print(receipt.kind, receipt, copy=True))
    return 0


def cmd_hw_test(till: Till) -> int:
    from . import hwtest

    return hwtest.run(till.args, till.config)


def cmd_demo(till: Till) -> int:
    """The till's main job until the touchscreen app exists: a demo store and a scripted sale."""
    if staff.first_manager() is None:
        till.args.demo = True
        till.args.manager_name = "Manager"
        cmd_init(till)
    acting = till.acting()
    if shifts.current() is None:
        shifts.open_shift(acting, 200_000, till.config)
        print(f"Shift opened with a float of {till.fmt(200_000)}")
    cart = Cart(till.config, staff=acting)
    from .catalog import search

    picks = [p for p in search("", limit=400) if p.unit == "each"][:4]
    for n, product in enumerate(picks, 1):
        cart.add_product(product, n)
    total = cart.priced().total
    cash = ((total // 50_000) + 1) * 50_000
    done = complete_sale(cart, [TenderInput("cash", cash)], staff=acting, config=till.config)
    print(
        as_text(receipts.sale_receipt(done.receipt_no, till.config), till.config["printer.width"])
    )
    print()
    print(f"Receipt {done.receipt_no}: paid {till.fmt(cash)} cash, change {till.fmt(done.change)}")
    return 0


# -- wiring ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kasir", description="Kasir point-of-sale till")
    p.add_argument("--version", action="version", version=f"kasir {__version__}")
    p.add_argument("--config", help="TOML config file (default /boot/firmware/kasir.toml)")
    p.add_argument("--data-dir", help="data directory (else $KASIR_DATA, else the config's)")
    p.add_argument("--staff", help="act as this staff member (default: the first manager)")
    p.add_argument("--pin", help="manager PIN for commands that need one")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="create the store and a manager account")
    s.add_argument("--demo", action="store_true", help="import the bundled demo catalog")
    s.add_argument("--manager-name", default="Manager")

    s = sub.add_parser("import-catalog", help="import products from a CSV file")
    s.add_argument("file")
    s.add_argument("--skip-bad", action="store_true", help="import the good rows, list the bad")

    s = sub.add_parser("sale", help="ring up and complete a sale")
    s.add_argument("--scan", action="append", metavar="CODE[*QTY]")
    s.add_argument("--sku", action="append", metavar="SKU[*QTY]")
    s.add_argument(
        "--open",
        action="append",
        metavar="NAME=PRICE",
        help="a miscellaneous item at an open price (manager PIN)",
    )
    s.add_argument("--discount", metavar="10%|AMOUNT", help="cart discount")
    s.add_argument("--customer", metavar="PHONE")
    s.add_argument("--pay", action="append", metavar="cash:AMOUNT|card:AMOUNT:REF|qris:AMOUNT:REF")

    s = sub.add_parser("refund", help="refund a sale by its receipt number (manager PIN)")
    s.add_argument("receipt")
    s.add_argument("--line", action="append", metavar="N[*QTY]")
    s.add_argument("--to", choices=("original", "cash"), default="original")
    s.add_argument("--reason")

    s = sub.add_parser("shift", help="open or close a shift, move cash in or out")
    ss = s.add_subparsers(dest="shift_cmd", required=True)
    o = ss.add_parser("open")
    o.add_argument("--float", help="cash in the drawer at the start (default 0)")
    c = ss.add_parser("close")
    c.add_argument("--counted", required=True, help="cash counted in the drawer")
    for name in ("cash-in", "cash-out"):
        m = ss.add_parser(name)
        m.add_argument("amount")
        m.add_argument("--reason", required=True)

    s = sub.add_parser("report", help="X report of the open shift, or a Z report")
    s.add_argument("kind", choices=("x", "z"))
    s.add_argument("--number", type=int, help="which Z report (default: the latest)")

    sub.add_parser("status", help="the till's state and where each setting comes from")

    s = sub.add_parser("training", help="training mode on or off (manager PIN)")
    s.add_argument("state", choices=("on", "off"))

    s = sub.add_parser("staff", help="list or add staff")
    ss = s.add_subparsers(dest="staff_cmd", required=True)
    ss.add_parser("list")
    a = ss.add_parser("add")
    a.add_argument("name")
    a.add_argument("--role", choices=staff.ROLES, default="cashier")
    a.add_argument("--new-pin", help="the new member's PIN (default: generated)")

    sub.add_parser("no-sale", help="open the cash drawer without a sale (manager PIN)")
    s = sub.add_parser("reprint", help="print a copy of a past receipt")
    s.add_argument("receipt")
    from . import hwtest

    s = sub.add_parser("hw-test", help="test the scanner, printer and drawer")
    hwtest.add_arguments(s)

    s = sub.add_parser("enrol", help="join an OMS with a one-time enrolment code")
    s.add_argument("url", help="the OMS address, e.g. https://oms.example.id")
    s.add_argument("code", help="the enrolment code from `kasir-oms add-terminal`")
    s.add_argument("--name", help="this till's name (default: till.name)")
    s.add_argument(
        "--force",
        action="store_true",
        help="re-enrol although events are undelivered (exports them first)",
    )

    s = sub.add_parser("sync", help="upload sales and pull the catalog (runs until stopped)")
    s.add_argument("--once", action="store_true", help="one round, then exit")
    s.add_argument(
        "--retry-quarantined",
        nargs="?",
        type=int,
        const=0,
        metavar="SEQ",
        help="put quarantined events (or one) back in line",
    )

    sub.add_parser("demo", help="set up a demo store (if needed) and ring up a scripted sale")

    from . import run_cmd

    s = sub.add_parser(
        "run", help="open the touchscreen app (--simulate: simulated devices, demo store)"
    )
    run_cmd.add_arguments(s)
    return p


COMMANDS = {
    "init": cmd_init,
    "import-catalog": cmd_import_catalog,
    "sale": cmd_sale,
    "refund": cmd_refund,
    "shift": cmd_shift,
    "report": cmd_report,
    "status": cmd_status,
    "training": cmd_training,
    "staff": cmd_staff,
    "demo": cmd_demo,
    "enrol": cmd_enrol,
    "no-sale": cmd_no_sale,
    "reprint": cmd_reprint,
    "hw-test": cmd_hw_test,
    "sync": cmd_sync,
}


def resolve_data_dir(args, config: Config) -> Path:
    if args.data_dir:
        return Path(args.data_dir)
    if os.environ.get("KASIR_DATA"):
        return Path(os.environ["KASIR_DATA"])
    return Path(config["till.data_dir"])


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = Config.load(args.config)
        data_dir = resolve_data_dir(args, config)
        if args.command == "run":
            from . import run_cmd

            return run_cmd.run(args, config, data_dir)
        if args.command in ("init", "demo"):
            data_dir.mkdir(parents=True, exist_ok=True)
        elif not store_path(data_dir).exists():
            raise CliError(f"no till store in {data_dir}: run `kasir init` first")
        database = open_store(store_path(data_dir))
        config.attach_store()
        try:
            return COMMANDS[args.command](Till(config, data_dir, args))
        finally:
            database.close()
    except CliError as exc:
        print(f"kasir: {exc}", file=sys.stderr)
        return exc.code
    except (ConfigError, StoreError) as exc:
        print(f"kasir: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
