"""Log in with a PIN (locks after repeated wrong PINs), and open a shift with a float.

The login screen is also where a new till says what its first boot could not apply from
kasir.toml: a banner, shown while that report waits for a manager to mark it as seen, opens the
details (`setup_dialog`). A second banner gives the first manager's name and the PIN first boot
made, for as long as that PIN still opens their account (`appliance.first_pin`)."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import roster, setup_report
from ..i18n import LANGUAGE_NAMES, LANGUAGES, _, explain, f_
from . import load_kv
from .widgets import TButton


class TillScreen(Screen):
    """Base of the till's screens: `enter()` before it shows, `refresh()` on a new language."""

    def __init__(self, **kwargs):
        # The app that made the screen, fixed: a worker's late answer must reach this app.
        self._app = App.get_running_app()
        super().__init__(**kwargs)

    @property
    def app(self):
        return self._app

    @property
    def till(self):
        return self.app.till

    def enter(self, **_kwargs) -> None:
        pass

    def refresh(self) -> None:
        pass


class StaffButton(TButton):
    staff_id = StringProperty("")


class LoginScreen(TillScreen):
    people = ListProperty([])  # [(id, name, role)]
    chosen_id = StringProperty("")
    chosen_name = StringProperty("")
    message = StringProperty("")
    checking = BooleanProperty(False)
    languages = ListProperty([(code, LANGUAGE_NAMES[code]) for code in LANGUAGES])
    setup_text = StringProperty("")  # the set-up banner; no banner while empty
    first_pin_text = StringProperty("")  # the first manager's PIN; no banner while empty

    # First boot's enrolment retries may write a report while this screen is up.
    SETUP_CHECK_SECONDS = 20

    def enter(self, **_kwargs) -> None:
        self.message = ""
        self.ids.pin.value = ""
        self.people = [(p.id, p.name, p.role) for p in roster.active_staff()]
        if len(self.people) == 1:
            self.choose(*self.people[0][:2])
        elif self.chosen_id not in {p[0] for p in self.people}:
            self.chosen_id = self.chosen_name = ""
        self.check_setup()
        Clock.unschedule(self.check_setup)
        Clock.schedule_interval(self.check_setup, self.SETUP_CHECK_SECONDS)
        self.check_first_pin()

    def refresh(self) -> None:
        self.setup_text = self._setup_text()
        self.first_pin_text = self._first_pin_text()

    def on_leave(self, *_args) -> None:
        Clock.unschedule(self.check_setup)

    # -- the first-boot set-up report ------------------------------------------------------------

    def check_setup(self, *_args) -> None:
        self.setup = setup_report.pending(self.till.data_dir)
        self.setup_text = self._setup_text()

    def _setup_text(self) -> str:
        report = getattr(self, "setup", None)
        if report is None:
            return ""
        if not report.readable:
            return _("Set-up: the first-boot report could not be read — tap for details")
        if len(report.problems) == 1:
            return _("Set-up: 1 setting in kasir.toml could not be applied — tap for details")
        return f_(
            "Set-up: {n} settings in kasir.toml could not be applied — tap for details",
            n=len(report.problems),
        )

    def show_setup(self) -> None:
        from .setup_dialog import SetupReportDialog  # its kv and dialogs only when asked for

        if self.setup is not None:
            SetupReportDialog(report=self.setup, then=self._setup_seen).open()

    def _setup_seen(self, moved: bool) -> None:
        self.check_setup()
        if moved or self.setup is None:
            self.app.notify(_("Set-up report marked as seen"), "ok")
        else:
            self.app.notify(_("A newer set-up report arrived: it is shown instead"), "error")

    # -- the first manager's PIN from first boot -------------------------------------------------

    first_pin = None  # appliance.first_pin.FirstPin while it is shown

    def check_first_pin(self) -> None:
        """Look again on every visit (after a log-out the PIN may have been changed); the
        look checks the PIN's slow hash, so it runs on the worker."""
        data_dir = self.till.data_dir

        def look():
            from .. import first_pin

            return first_pin.pending(data_dir)

        self.app.local.submit(look, self._first_pin_seen)

    def _first_pin_seen(self, first) -> None:
        self.first_pin = first
        self.first_pin_text = self._first_pin_text()

    def _first_pin_text(self) -> str:
        first = self.first_pin
        if first is None:
            return ""
        return f_(
            "First start: log in as {name} with PIN {pin}, then change it (Change my PIN)",
            name=first.name,
            pin=first.pin,
        )

    def use_first_pin(self) -> None:
        if self.first_pin is not None:
            self.choose(self.first_pin.staff_id, self.first_pin.name)

    def on_people(self, _instance, people) -> None:
        grid = self.ids.people
        grid.clear_widgets()
        for staff_id, name, _role in people:
            button = StaffButton(staff_id=staff_id, text=name)
            button.bind(on_release=lambda b: self.choose(b.staff_id, b.text))
            grid.add_widget(button)
        self._mark()

    def on_chosen_id(self, *_args) -> None:
        self._mark()

    def _mark(self) -> None:
        from . import theme

        for button in self.ids.people.children:
            button.tint = theme.GO if button.staff_id == self.chosen_id else theme.PRIMARY

    def choose(self, staff_id: str, name: str) -> None:
        self.chosen_id = staff_id
        self.chosen_name = name
        self.message = ""
        self.ids.pin.value = ""

    def submit(self) -> None:
        if not self.chosen_id:
            self.message = _("Touch your name first")
            return
        pin = self.ids.pin.value
        if not pin:
            self.message = _("Type your PIN")
            return
        self.checking = True
        self.message = ""
        config = self.till.config
        chosen = self.chosen_id

        def check():
            from .. import staff  # on the worker: the PIN hash is slow on purpose

            return staff.login(chosen, pin, config)

        self.app.local.submit(check, self._in, self._refused)

    def _in(self, info) -> None:
        self.checking = False
        self.ids.pin.value = ""
        self.app.logged_in(info)

    def _refused(self, exc) -> None:
        self.checking = False
        self.ids.pin.value = ""
        self.message = explain(exc)
        self.app.beep("error")

    def on_scan(self, _code: str) -> None:
        self.message = _("Log in to sell: the scan was not used")
        self.app.beep("error")


class ShiftOpenScreen(TillScreen):
    message = StringProperty("")

    def enter(self, **_kwargs) -> None:
        self.message = ""
        self.ids.amount.value = ""

    def submit(self) -> None:
        from .. import shifts

        try:
            amount = self.app.amount(self.ids.amount.value)
            shifts.open_shift(self.till.staff, amount, self.till.config)
        except (ValueError, shifts.ShiftError) as exc:
            self.message = explain(exc)
            self.app.beep("error")
            return
        self.app.notify(f_("Shift opened with {amount}", amount=self.app.money(amount)), "ok")
        self.app.refresh_status()
        self.app.go("sale")

    def on_scan(self, _code: str) -> None:
        self.message = _("Open the shift first: the scan was not used")
        self.app.beep("error")

    def change_pin(self) -> None:
        from .staff_admin import change_my_pin  # its kv only when someone asks

        change_my_pin()


load_kv("login.kv")
