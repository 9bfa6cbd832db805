"""The till's Kivy app: services, devices and background work wired to the screens.

    >>> app = KasirApp(Till(config, data_dir, simulate=True))     # doctest: +SKIP
    >>> app.run()                                                  # doctest: +SKIP

Threads: the UI thread runs the screens and calls the local services (short SQLite
transactions). It never touches a device or the network: devices are opened, printed to and
pulsed on their own threads (the print queue, the drawer service, the scanner's reader), OMS
calls and status polling run on `Worker` threads, and results come back through
`Clock.schedule_once`. A scanned code reaches the sale screen on the next frame.

Kivy must be imported with KIVY_NO_ARGS etc. already set: `appliance.run_cmd` does that.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from . import i18n, identity
from .i18n import _
from .oms_link import OmsLink

log = logging.getLogger("kasir.app")


class Worker:
    """One background thread running jobs in order; results go back to the UI thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.busy = 0

    def submit(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.busy += 1
        self._jobs.put((fn, done, error))

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, done, error = job
            try:
                result = fn()
            except Exception as exc:
                if error is None:
                    log.exception("%s: background job failed", self.name)
                else:
                    Clock.schedule_once(lambda _dt, e=exc, f=error: f(e))
            else:
                if done is not None:
                    Clock.schedule_once(lambda _dt, r=result, f=done: f(r))
            finally:
                Clock.schedule_once(lambda _dt: self._finished())

    def _finished(self) -> None:
        self.busy -= 1

    def stop(self, timeout: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)


@dataclass
class DeviceState:
    """What the status bar shows for one device: ok | warn | bad | off, and a message."""

    state: str = "off"
    message: str = ""


@dataclass
class Till:
    """The till's session: configuration, services, devices, who is logged in, the cart."""

    config: Any
    data_dir: Path
    simulate: bool = False
    oms: OmsLink = field(default_factory=OmsLink)
    staff: Any = None
    cart: Any = None
    last_sale: Any = None
    printer: Any = None  # the hw printer (for the simulator and tests)
    printing: Any = None  # appliance.printing.PrintService
    drawer: Any = None  # appliance.cash_drawer.CashDrawerService
    scanner: Any = None
    renderer: Any = None
    display: Any = None  # appliance.customer_display.CustomerDisplayFeed
    devices: dict[str, DeviceState] = field(
        default_factory=lambda: {k: DeviceState() for k in ("printer", "scanner", "drawer")}
    )
    when_scanned: Callable[[str], None] | None = None
    when_device: Callable[[], None] | None = None

    # -- devices (run on a worker thread: opening one may block) --------------------------------

    def start_devices(self) -> None:
        from .cash_drawer import CashDrawerService
        from .hw import devices as hw
        from .hw.base import HardwareError
        from .printing import PrintService

        cfg = self.config

        def section(name: str) -> dict:
            return hw.section_of(cfg, name)

        try:
            self.printer = hw.build_printer(
                section("printer"), data_dir=self.data_dir, simulate=self.simulate
            )
            self.printer.when_status = lambda s: self._device_status("printer", s)
            self.renderer = hw.build_renderer(section("printer"))
            give_up = cfg["printer.give_up_minutes"] * 60 or None
            self.printing = PrintService(
                self.printer,
                self.renderer,
                give_up_after=give_up,
                when_changed=lambda _q: self._changed(),
            ).start()
            self._device_status("printer", self.printer.status)
        except (HardwareError, ValueError) as exc:
            self.devices["printer"] = DeviceState("bad", str(exc))
        try:
            drawer = hw.build_drawer(
                section("drawer"), printer=self.printer, simulate=self.simulate
            )
            drawer.when_status = lambda s: self._device_status("drawer", s)
            drawer.when_left_open = lambda seconds: self._left_open(seconds)
            drawer.open()
            self.drawer = CashDrawerService(drawer, tz=cfg["store.timezone"])
            self._device_status("drawer", drawer.status)
        except (HardwareError, ValueError) as exc:
            self.devices["drawer"] = DeviceState("bad", str(exc))
        try:
            self.scanner = hw.build_scanner(
                section("scanner"),
                simulate=self.simulate,
                when_scanned=lambda code: self._scanned(code.code),
                when_status=lambda s: self._device_status("scanner", s),
            )
            self.scanner.open()
            self._device_status("scanner", self.scanner.status)
        except (HardwareError, ValueError, OSError) as exc:
            self.devices["scanner"] = DeviceState("bad", str(exc))

    def stop_devices(self) -> None:
        for stop in (
            lambda: self.scanner and self.scanner.close(),
            lambda: self.printing and self.printing.stop(),
            lambda: self.drawer and self.drawer.close(),
            lambda: self.drawer and self.drawer.drawer.close(),
            lambda: self.printer and self.printer.close(),
            lambda: self.display and self.display.close(),
        ):
            try:
                stop()
            except Exception:
                log.exception("closing a device failed")

    def _device_status(self, name: str, status) -> None:
        state = {"ready": "ok", "warning": "warn", "offline": "bad"}.get(status.state, "off")
        self.devices[name] = DeviceState(state, status.message)
        self._changed()

    def _left_open(self, seconds: float) -> None:
        self.devices["drawer"] = DeviceState(
            "warn", f"drawer left open for {seconds:.0f} s — close it"
        )
        self._changed()

    def _changed(self) -> None:
        if self.when_device is not None:
            Clock.schedule_once(lambda _dt: self.when_device())

    def _scanned(self, code: str) -> None:
        # Called on the scanner's thread: hand the code to the UI thread.
        if self.when_scanned is not None:
            Clock.schedule_once(lambda _dt: self.when_scanned(code))

    # -- printing (called on a worker thread) ---------------------------------------------------

    def print_receipt(self, kind: str, receipt_no: str, *, copy: bool = False) -> int | None:
        from . import receipts

        if self.printing is None:
            return None
        if kind == "refund":
            receipt = receipts.refund_receipt(receipt_no, self.config)
        else:
            receipt = receipts.sale_receipt(receipt_no, self.config)
        if copy:
            staff_id = self.staff.id if self.staff else None
            return self.printing.reprint(
                receipt, staff_id=staff_id, tz=self.config["store.timezone"]
            )
        return self.printing.queue(kind, receipt_no, receipt)

    def print_pickup(self, order, **paid) -> int | None:
        """The slip for a pickup order's balance paid here (receipts.pickup_receipt)."""
        from . import receipts

        if self.printing is None:
            return None
        receipt = receipts.pickup_receipt(
            order, cashier=self.staff.name, config=self.config, **paid
        )
        return self.printing.queue("pickup", order.number, receipt)

    def print_report(self, report, *, blind: bool = False) -> int | None:
        from . import receipts

        if self.printing is None:
            return None
        receipt = receipts.report_receipt(report, self.config, blind=blind)
        return self.printing.queue("report", report.shift_id, receipt)

    def job_state(self, job_id: int | None) -> tuple[str, str | None]:
        """(state, last error) of a print job: queued | done | failed | none."""
        if job_id is None or self.printing is None:
            return ("none", self.devices["printer"].message)
        for job in self.printing.jobs(limit=20):
            if job.id == job_id:
                return (job.state, job.last_error)
        return ("none", None)


class KasirApp(App):
    """The touchscreen app. Screens are made when first shown (the login screen first, so the
    till starts quickly); devices open after the first frame."""

    title = "Kasir"
    lang = StringProperty("id_ID")
    fs = NumericProperty(17)
    fs_small = NumericProperty(14)
    fs_big = NumericProperty(24)
    fs_huge = NumericProperty(44)
    bh = NumericProperty(52)
    keyboard_height = NumericProperty(280)
    root_width = NumericProperty(800)
    portrait = BooleanProperty(False)

    staff_name = StringProperty("")
    is_manager = BooleanProperty(False)
    shift_text = StringProperty("")
    training = BooleanProperty(False)
    clock_text = StringProperty("")
    oms_state = StringProperty("off")
    oms_text = StringProperty("")
    printer_state = StringProperty("off")
    scanner_state = StringProperty("off")
    drawer_state = StringProperty("off")
    printer_text = StringProperty("")
    scanner_text = StringProperty("")
    drawer_text = StringProperty("")
    queue_status = None

    sm = ObjectProperty(None)

    SCREENS = {
        "login": ("login", "LoginScreen"),
        "shift_open": ("login", "ShiftOpenScreen"),
        "sale": ("sale", "SaleScreen"),
        "payment": ("payment", "PaymentScreen"),
        "done": ("payment", "DoneScreen"),
        "refund": ("refund", "RefundScreen"),
        "parked": ("lists", "ParkedScreen"),
        "pickup": ("lists", "PickupScreen"),
        "customer": ("lists", "CustomerScreen"),
        "manager": ("manager", "ManagerScreen"),
        "cash_move": ("manager", "CashMoveScreen"),
        "report": ("manager", "ReportScreen"),
        "close_shift": ("manager", "CloseShiftScreen"),
        "print_queue": ("manager", "PrintQueueScreen"),
        "settings": ("settings", "SettingsScreen"),
        "staff": ("staff_admin", "StaffScreen"),
    }

    def __init__(self, till: Till, **kwargs):
        super().__init__(**kwargs)
        self.till = till
        self.local = Worker("till work")
        self.net = Worker("oms link")
        self.sounds: dict[str, Any] = {}
        self.sounds_played: list[str] = []
        self.messages: list[tuple[str, str]] = []  # the last messages shown, newest last
        self.keyboard = None
        self.toast = None
        self.wedge = None
        self.first_frame_at: float | None = None
        self._status_busy = False
        self.lang = till.config["display.language"]
        i18n.set_currency(till.config.currency)
        i18n.set_language(self.lang)
        till.when_scanned = self.on_scanned
        till.when_device = self.refresh_status

    # -- building -------------------------------------------------------------------------------

    def build(self):
        from .screens import (
            load_kv,
            widgets,  # noqa: F401  (registers the widgets root.kv uses)
        )
        from .screens.root import Root

        load_kv("widgets.kv", "root.kv")
        Window.clearcolor = (0.925, 0.937, 0.945, 1)
        Window.bind(size=self._resized)
        self._resized(Window, Window.size)
        root = Root()
        self.sm = root.ids.sm
        self.toast = root.ids.toast
        self.go("login")
        return root

    def on_start(self) -> None:
        self._show_devices()
        Window.bind(on_flip=self._first_flip)
        Clock.schedule_interval(self._tick, 1.0)
        self._tick(0)

    def _first_flip(self, *_args) -> None:
        Window.unbind(on_flip=self._first_flip)
        self.first_frame_at = time.perf_counter()
        self._mark_ready()
        # Devices, sounds and the customer display after the login screen is on the glass.
        Clock.schedule_once(lambda _dt: self._after_first_frame(), 0)

    def _mark_ready(self) -> None:
        """The login screen is on the glass: `run/ready` tells the updater this release
        works (appliance/update.py rolls back a release that never writes it)."""
        try:
            ready = Path(self.till.data_dir) / "run" / "ready"
            ready.parent.mkdir(parents=True, exist_ok=True)
            ready.touch()
        except OSError:
            log.exception("could not write the ready marker")

    def _after_first_frame(self) -> None:
        self.local.submit(self.till.start_devices, done=lambda _r: self._devices_started())
        self.local.submit(self._make_sounds, done=self._load_sounds)
        if self.till.config["display.customer_display"]:
            from .customer_display import CustomerDisplayFeed

            self.till.display = CustomerDisplayFeed(
                self.till.config["display.customer_display_geometry"]
            )
            self.local.submit(self.till.display.start)
        self.refresh_status()

    def _devices_started(self) -> None:
        from .hw.scanner import WedgeScanner

        if isinstance(self.till.scanner, WedgeScanner):
            from .screens.wedge_input import WedgeKeys

            self.wedge = WedgeKeys(self.till.scanner)
            self.wedge.install()
        self.refresh_status()

    def on_stop(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        if self.wedge is not None:
            self.wedge.uninstall()
            self.wedge = None
        Clock.unschedule(self._tick)
        self.till.stop_devices()
        self.local.stop()
        self.net.stop()

    def _resized(self, _window, size) -> None:
        width, height = size
        self.root_width = width
        self.portrait = height > width
        # 800x480 (the official 7" display) is the reference; bigger screens get bigger type.
        # Portrait screens stack the panels, so their width counts for less.
        if self.portrait:
            scale = max(1.0, min(1.3, min(width / 650, height / 1100)))
        else:
            scale = max(1.0, min(1.5, min(width / 800, height / 480)))
        self.fs = round(17 * scale)
        self.fs_small = round(14 * scale)
        self.fs_big = round(24 * scale)
        self.fs_huge = round(46 * scale)
        self.bh = round(52 * scale)
        from kivy.metrics import dp

        # Five rows of keys at least 48 px high, and the keyboard's padding.
        self.keyboard_height = (self.bh * 0.95 + dp(4)) * 5 + dp(8)

    # -- navigation -----------------------------------------------------------------------------

    def screen(self, name: str):
        if not self.sm.has_screen(name):
            import importlib

            module, cls = self.SCREENS[name]
            screen_class = getattr(importlib.import_module(f"appliance.screens.{module}"), cls)
            self.sm.add_widget(screen_class(name=name))
        return self.sm.get_screen(name)

    def go(self, name: str, **kwargs) -> None:
        self.hide_keyboard()
        screen = self.screen(name)
        if hasattr(screen, "enter"):
            screen.enter(**kwargs)
        self.sm.current = name

    @property
    def current(self):
        return self.sm.current_screen

    # -- language ---------------------------------------------------------------------------------

    def set_language(self, language: str) -> None:
        i18n.set_language(language)
        self.lang = language
        for screen in self.sm.screens:
            if hasattr(screen, "refresh"):
                screen.refresh()
        self._tick(0)
        self.refresh_status()

    # -- keyboard, messages, sounds -----------------------------------------------------------

    def show_keyboard(self, target) -> None:
        if self.keyboard is None:
            # Made when first needed: fifty keys the login screen does not have to wait for.
            from .screens.widgets import OnScreenKeyboard

            self.keyboard = OnScreenKeyboard(size_hint=(None, None), opacity=0, disabled=True)
        kb = self.keyboard
        kb.target = target
        kb.layout = getattr(target, "keyboard_layout", "alpha")
        kb.width = Window.width
        if kb.parent is not None:
            # On top of everything, open dialogs included.
            kb.parent.remove_widget(kb)
        Window.add_widget(kb)
        kb.opacity = 1
        kb.disabled = False
        kb.x = 0
        kb.y = 0

    def hide_keyboard(self) -> None:
        kb = self.keyboard
        if kb is None:
            return
        if kb.target is not None:
            kb.target.focus = False
        kb.target = None
        kb.opacity = 0
        kb.disabled = True
        kb.y = -kb.height - 10

    def notify(self, text: str, kind: str = "info", seconds: float = 3.5) -> None:
        self.messages.append((kind, text))
        del self.messages[:-50]
        if self.toast is not None:
            self.toast.show(text, kind, seconds)

    def error(self, exc: BaseException | str) -> None:
        self.notify(i18n.explain(exc), "error", 5)
        self.beep("error")

    def _make_sounds(self) -> dict[str, str]:
        from .screens.sounds import write_sounds

        return write_sounds(self.till.data_dir / "sounds")

    def _load_sounds(self, paths: dict[str, str]) -> None:
        if not self.till.config["display.sound"]:
            return
        from kivy.core.audio import SoundLoader

        for name, path in paths.items():
            try:
                sound = SoundLoader.load(path)
            except Exception:
                sound = None
            if sound is not None:
                self.sounds[name] = sound

    def beep(self, name: str = "ok") -> None:
        self.sounds_played.append(name)
        sound = self.sounds.get(name)
        if sound is not None:
            sound.stop()
            sound.play()

    # -- amounts typed on keypads -------------------------------------------------------------

    @property
    def decimal_sign(self) -> str:
        if self.till.config["store.currency_exponent"] == 0:
            return ""
        from babel.numbers import get_decimal_symbol

        return get_decimal_symbol(self.till.config.locale)

    def amount(self, typed: str) -> int:
        """Minor units of an amount typed on a keypad, read in the store's locale."""
        from retail.money import parse_money

        return parse_money(typed or "0", self.till.config.currency, self.till.config.locale)

    def format_typed(self, typed: str) -> str:
        try:
            return i18n.money(self.amount(typed))
        except ValueError:
            return typed

    def money(self, amount: int) -> str:
        return i18n.money(amount)

    def round_cash(self, amount: int) -> int:
        """What cash settles `amount`, with the store's cash rounding step."""
        from retail.money import round_to_step

        return round_to_step(amount, self.till.config["store.cash_rounding"])

    def qris_for(self, amount: int) -> str | None:
        """The store's QRIS code with this sale's amount, or None when none is set up."""
        static = self.till.config["store.qris_payload"]
        if not static or amount <= 0:
            return None
        from retail.qris import make_dynamic

        return make_dynamic(static, amount)

    # -- session ------------------------------------------------------------------------------------

    def logged_in(self, staff) -> None:
        from .cart import Cart

        self.till.staff = staff
        self.staff_name = staff.name
        self.is_manager = staff.is_manager
        if self.till.cart is None:
            self.till.cart = Cart(self.till.config, staff=staff)
        else:
            self.till.cart.staff = staff
        self.training = identity.training_mode()
        from . import shifts

        if shifts.current() is None:
            self.go("shift_open")
        else:
            self.go("sale")
        self.refresh_status()

    def logout(self) -> None:
        self.till.staff = None
        self.staff_name = ""
        self.is_manager = False
        self.go("login")
        self.show_customer({"view": "idle"})

    def new_cart(self) -> None:
        from .cart import Cart

        self.till.cart = Cart(self.till.config, staff=self.till.staff)

    def show_customer(self, state: dict) -> None:
        """Send what the customer should see to the customer display, if there is one."""
        display = self.till.display
        if display is None:
            return
        state = dict(state)
        state.setdefault("store", self.till.config["store.name"])
        state.setdefault("welcome", _("Welcome"))
        display.show(state)

    def open_drawer(
        self,
        reason: str,
        *,
        ref: str | None = None,
        training: bool = False,
        approved_by: str | None = None,
    ) -> bool:
        """Ask the drawer service to open the drawer (it records why and pulses on its own
        thread); a drawer that does not open is reported, never raised into the sale."""
        drawer = self.till.drawer
        if drawer is None:
            self.notify(
                _("No cash drawer: ") + i18n.explain(self.till.devices["drawer"].message), "error"
            )
            return False
        from .cash_drawer import DrawerRefused

        try:
            future = drawer.open(
                reason,
                staff_id=self.till.staff.id,
                approved_by=approved_by,
                ref=ref,
                training=training,
            )
        except DrawerRefused as exc:
            self.error(exc)
            return False

        def opened(result):
            outcome = result.result()
            if not outcome.opened:
                Clock.schedule_once(lambda _dt: self.error(outcome.message))

        future.add_done_callback(opened)
        return True

    # -- scans --------------------------------------------------------------------------------------

    def on_scanned(self, code: str) -> None:
        screen = self.current
        handler = getattr(screen, "on_scan", None)
        if handler is None:
            self.notify(_("Log in to sell: the scan was not used"), "error")
            self.beep("error")
            return
        handler(code)

    # -- status bar ---------------------------------------------------------------------------------

    def _tick(self, _dt) -> None:
        from retail.ids import to_local, utcnow

        now = to_local(utcnow(), self.till.config["store.timezone"])
        self.clock_text = i18n.clock(now)

    def _show_devices(self) -> None:
        """Each device's dot and word in the status bar; a device that just went wrong is also
        said in words for a few seconds."""
        names = {"printer": _("Printer"), "scanner": _("Scanner"), "drawer": _("Drawer")}
        words = {"bad": _("offline"), "warn": _("check")}
        for key, name in names.items():
            device = self.till.devices[key]
            before = getattr(self, f"{key}_state")
            setattr(self, f"{key}_state", device.state)
            word = words.get(device.state)
            setattr(self, f"{key}_text", f"{name}: {word}" if word else name)
            if device.state in ("bad", "warn") and before != device.state and device.message:
                self.notify(f"{name}: {i18n.explain(device.message)}", "error", 6)

    def refresh_status(self, *_args) -> None:
        """Poll the OMS link, outbox and shift on a worker; devices report by themselves."""
        self._show_devices()
        if self._status_busy:
            return
        self._status_busy = True

        def poll():
            from . import shifts

            link = self.till.oms.status()
            shift = shifts.current()
            queue_status = self.till.printing.status() if self.till.printing else None
            return link, shift, queue_status

        self.net.submit(poll, done=self._status_polled, error=self._status_failed)

    def _status_failed(self, exc) -> None:
        self._status_busy = False
        log.warning("status poll failed: %s", exc)

    def _status_polled(self, result) -> None:
        self._status_busy = False
        link, shift, queue_status = result
        if link.state == "not_enrolled":
            self.oms_state, text = "off", _("OMS: not enrolled")
        elif link.state == "online":
            self.oms_state, text = "ok", _("OMS: online")
        else:
            self.oms_state, text = "warn", _("OMS: offline")
        if link.pending:
            text += " " + i18n.f_("({n} to send)", n=link.pending)
        if link.quarantined:
            self.oms_state = "bad"
        self.oms_text = text
        if shift is None:
            self.shift_text = _("No shift")
        else:
            from retail.ids import parse_iso, to_local

            opened = to_local(parse_iso(shift.opened_at), self.till.config["store.timezone"])
            self.shift_text = i18n.f_("Shift {time}", time=i18n.clock(opened))
        if queue_status is not None and queue_status.queued and self.printer_state == "ok":
            self.printer_state = "warn"
            self.printer_text = _("Printer") + ": " + i18n.f_("{n} waiting", n=queue_status.queued)
        self.queue_status = queue_status
        screen = self.current
        if screen is not None and hasattr(screen, "status_changed"):
            screen.status_changed()

    def status_details(self) -> list[tuple[str, str, str]]:
        """(what, state, message in words) for the status popup."""
        rows = []
        names = {"printer": _("Printer"), "scanner": _("Scanner"), "drawer": _("Drawer")}
        for key, label in names.items():
            device = self.till.devices[key]
            message = i18n.explain(device.message) if device.message else _("not started yet")
            rows.append((label, device.state, message))
        q = self.queue_status
        if q is not None and (q.queued or q.failed):
            text = i18n.f_("{n} receipt(s) waiting to print", n=q.queued)
            if q.last_error:
                text += ": " + i18n.explain(q.last_error)
            if q.failed:
                text += " \u00b7 " + i18n.f_("{n} not printed in time", n=q.failed)
            rows.append((_("Print queue"), "warn", text))
        rows.append((_("OMS"), self.oms_state, self.oms_text))
        return rows
