"""Log in with a PIN (locks after repeated wrong PINs), and open a shift with a float."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import roster
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

    def enter(self, **_kwargs) -> None:
        self.message = ""
        self.ids.pin.value = ""
        self.people = [(p.id, p.name, p.role) for p in roster.active_staff()]
        if len(self.people) == 1:
            self.choose(*self.people[0][:2])
        elif self.chosen_id not in {p[0] for p in self.people}:
            self.chosen_id = self.chosen_name = ""

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


load_kv("login.kv")
