"""Drive the till app like a cashier: touches on widgets, codes from the simulated scanner,
frames advanced by hand. Import only after tests/ui/conftest.py has set Kivy's environment."""

from __future__ import annotations

import time
from pathlib import Path

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from appliance import staff
from appliance.app import KasirApp, Till
from appliance.cli import demo_catalog_path
from appliance.config import Config
from appliance.store.db import open_store, store_path

CASHIER, CASHIER_PIN = "Ani", "1357"
MANAGER, MANAGER_PIN = "Budi", "246810"
# A static QRIS code with a valid CRC (the sample of tests/retail/test_qris.py).
QRIS_STATIC = (
    "00020101021126650016ID.CO.CONTOH.WWW011893600999001234567802120001234567890303UMI"
    "51440014ID.CO.QRIS.WWW0215ID10200123456780303UMI5204541153033605802ID"
    "5914TOKO MAJU JAYA6007JAKARTA61051011062070703A016304F7AD"
)
# Demo catalog items (appliance/data/demo_catalog.csv).
AQUA = "8991002100015"  # Aqua Air Mineral 600ml, Rp3.500, PPN

# An owner's kasir.toml with two mistakes: a Wi-Fi password too short (line 7) and a paper
# width typed as words (line 10).
SETUP_TOML = """\
[store]
name = "Toko Maju Jaya"
timezone = "Asia/Jakarta"

[wifi]
ssid = "TokoMaju"
psk = "rahasia"

[printer]
width = "lebar"
"""


def write_setup_report(data: Path, kasir_toml: str = SETUP_TOML, enrolment: str = "") -> Path:
    """The set-up report first boot (image/firstboot.py, the real one) writes for `kasir_toml`,
    put where the till at `data` finds it; `enrolment`: also a failed enrolment attempt's
    reason, as the enrolment retries add it later. Returns the report's path."""
    from image import firstboot

    root = data / "firstboot-root"
    config = root / firstboot.CONFIG
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(kasir_toml, encoding="utf-8")
    report = firstboot.Report()
    firstboot.read_config(config, report)
    firstboot.write_report(root, report)
    if enrolment:
        problem = {
            "key": "oms.enrolment_code",
            "line": None,
            "message": f"not enrolled: {enrolment}",
        }
        firstboot.merge_report(root, [], [problem])
    written = root / firstboot.REPORT
    run = data / "run"
    run.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".txt"):
        (run / f"setup-report{suffix}").write_bytes(written.with_suffix(suffix).read_bytes())
    return run / "setup-report.json"


def make_template(directory: Path) -> Path:
    config = Config(env={}, cli={"till.data_dir": str(directory)})
    database = open_store(store_path(directory))
    config.attach_store()
    from appliance.store.catalog_import import import_catalog

    import_catalog(demo_catalog_path(), config)
    staff.create(CASHIER, "cashier", CASHIER_PIN)
    staff.create(MANAGER, "manager", MANAGER_PIN)
    database.close()
    return directory


class UiDriver:
    def __init__(
        self,
        data: Path,
        *,
        language: str = "en",
        size=(800, 480),
        short=False,
        simulate=True,
        **settings,
    ):
        self.short = short
        self.simulate = simulate
        self.data = data
        self.language = language
        self.size = size
        self.settings = {
            "display.language": language,
            "store.name": "Toko Maju Jaya",
            "store.address": "Jl. Melati 12, Jakarta",
            "store.qris_payload": QRIS_STATIC,
            "till.blind_close": True,
            **settings,
        }
        self.app: KasirApp | None = None
        self.database = None

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> KasirApp:
        config = Config(self.settings, env={}, cli={"till.data_dir": str(self.data)})
        self.database = open_store(store_path(self.data))
        config.attach_store()
        self.config = config
        Window.size = self.size
        self.app = KasirApp(Till(config, self.data, simulate=self.simulate))
        # kv's `app` is a proxy that keeps the first app it saw until that app stops, and it
        # may have looked again while the last test's app was stopping: point it at this one.
        from kivy.lang.parser import global_idmap

        object.__setattr__(global_idmap["app"], "_obj", None)
        self.app._run_prepare()
        EventLoop.start()
        self.draw(2)  # the first drawn frame starts the devices
        self.wait(lambda: self.app.till.printing is not None and self.app.till.scanner is not None)
        return self.app

    def stop(self) -> None:
        for child in list(Window.children):
            if isinstance(child, ModalView):
                child.dismiss(animation=False)
        self.pump(2)
        # on_stop, not just shutdown(): kv's `app` keeps the running app until it stops.
        self.app.dispatch("on_stop")
        for child in list(Window.children):
            Window.remove_widget(child)
        # RecycleView keeps views for reuse in a module-wide cache; views made for this app
        # are bound to it (font sizes...) and must not serve the next test's app.
        from kivy.uix.recycleview import views

        views._cached_views.clear()
        views._view_base_cache.clear()
        self.database.close()

    # -- frames ---------------------------------------------------------------------------------

    def pump(self, frames: int = 3) -> None:
        """Advance the clock (scheduled callbacks, layouts, text) without drawing: drawing is
        the slow part of a frame on a software GL, and only screenshots need it."""
        for _ in range(frames):
            Clock.tick()
            Clock.tick_draw()  # layouts and text wait for this "before drawing" step

    def draw(self, frames: int = 2) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait(self, condition, timeout: float = 20.0, what: str = "") -> None:
        """Advance frames until `condition()` holds (the work is on other threads)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what or condition}")
            Clock.tick()
            Clock.tick_draw()
            time.sleep(0.005)
        self.pump(2)

    def idle(self) -> None:
        """Until the app's worker threads have nothing left to do."""
        self.wait(lambda: self.app.local.busy == 0 and self.app.net.busy == 0, what="workers")

    # -- finding and touching -------------------------------------------------------------------

    @property
    def screen(self):
        return self.app.sm.current_screen

    def _layers(self) -> list[Widget]:
        """What takes touches, topmost first: the keyboard, open dialogs, the app."""
        return list(Window.children)

    def find_all(self, text: str | None = None, cls: type | None = None, within=None):
        found = []
        roots = [within] if within is not None else self._layers()
        for root in roots:
            for widget in root.walk(restrict=True):
                if widget.opacity == 0 or getattr(widget, "disabled", False):
                    continue
                if cls is not None and not isinstance(widget, cls):
                    continue
                if text is not None and getattr(widget, "text", None) != text:
                    continue
                found.append(widget)
        return found

    def find(self, text: str | None = None, cls: type | None = None, within=None):
        """The one visible, enabled widget with this text (on the top layer by default)."""
        layers = [within] if within is not None else self._layers()
        for layer in layers:
            if layer is self.app.keyboard and layer.disabled:
                continue
            found = [w for w in self.find_all(text, cls, within=layer) if self._on_screen(w)]
            if found:
                if len(found) > 1:
                    raise AssertionError(f"{len(found)} widgets show {text!r}")
                return found[0]
        raise AssertionError(f"nothing shows {text!r} (screen {self.app.sm.current})")

    def _on_screen(self, widget) -> bool:
        # Widgets of screens that are not shown stay in the tree of the ScreenManager only
        # while current; walk() from the window reaches the current screen alone.
        x, y = widget.to_window(*widget.center)
        return 0 <= x < Window.width and 0 <= y < Window.height

    def tap(self, widget_or_text, within=None, *, quick: bool = False) -> None:
        """Touch and release a widget. `quick` for keys typed in a row: fewer frames."""
        if not quick:
            self.pump(1)  # let layouts settle: a dialog that just opened still grows
        widget = (
            self.find(widget_or_text, within=within)
            if isinstance(widget_or_text, str)
            else widget_or_text
        )
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        if not quick:
            self.pump(1)
        touch.touch_up()
        self.pump(1 if quick else 2)

    def keys(self, pad_owner, keys: str) -> None:
        """Touch keypad keys: digits, "C" (clear)."""
        from appliance.screens.widgets import KeyButton

        for key in keys:
            wanted = "clear" if key == "C" else key
            buttons = [b for b in self.find_all(cls=KeyButton, within=pad_owner) if b.key == wanted]
            assert buttons, f"no key {key!r} on the pad"
            self.tap(buttons[0], quick=True)

    def _key(self, keyboard, key: str):
        from appliance.screens.widgets import KeyButton

        found = [b for b in self.find_all(cls=KeyButton, within=keyboard) if b.key == key]
        assert found, f"no key {key!r} on the keyboard"
        return found[0]

    def type_text(self, text: str) -> None:
        """Type on the on-screen keyboard (it must be open)."""
        keyboard = self.app.keyboard
        assert not keyboard.disabled, "the on-screen keyboard is not open"
        for char in text:
            key = "space" if char == " " else char.lower()
            if key != "space" and key not in "".join(keyboard.ROWS[keyboard.layout]):
                self.tap(self._key(keyboard, "abc"), quick=True)
            if char.isupper():
                self.tap(self._key(keyboard, "shift"), quick=True)
            self.tap(self._key(keyboard, key), quick=True)

    def dialog(self):
        dialogs = [c for c in Window.children if isinstance(c, ModalView)]
        return dialogs[0] if dialogs else None

    # -- the till -------------------------------------------------------------------------------

    def scan(self, code: str) -> None:
        self.app.till.scanner.scan(code)
        self.pump(2)

    def login(self, name: str = CASHIER, pin: str = CASHIER_PIN) -> None:
        assert self.app.sm.current == "login"
        self.tap(name)
        self.keys(self.screen, pin)
        self.tap(self.find(self._t("Log in")))
        self.wait(lambda: self.app.sm.current != "login", what="login")

    def open_shift(self, amount: str = "200000") -> None:
        assert self.app.sm.current == "shift_open"
        self.keys(self.screen, amount)
        self.tap(self._t("Open shift"))
        self.wait(lambda: self.app.sm.current == "sale", what="the sale screen")

    def _t(self, text: str) -> str:
        from appliance.i18n import _

        return _(text)

    def shot(self, name: str, directory: Path) -> Path:
        """Save what the window shows as directory/name.png."""
        time.sleep(0.05)  # buttons stay "down" for min_state_time after a touch
        self.pump(2)
        self.draw(2)
        directory.mkdir(parents=True, exist_ok=True)
        written = Path(Window.screenshot(name=str(directory / f"{name}.png")))
        target = directory / f"{name}.png"
        written.replace(target)
        return target
