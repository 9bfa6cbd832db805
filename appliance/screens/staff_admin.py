"""Staff on the till: the manager's list (add, reset a PIN, deactivate, reactivate) and
Change my PIN for whoever is logged in. PINs are typed on a keypad one step at a time; the
slow PIN hashes run on the app's worker thread."""

from __future__ import annotations

from collections.abc import Callable

from kivy.app import App
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from .. import staff
from ..i18n import _, explain, f_
from . import load_kv
from .dialogs import ChoiceDialog, Dialog, ask_text, confirm
from .lists import ListRow
from .login import TillScreen


class PinDialog(Dialog):
    """PINs typed one step after the other, e.g. the current PIN, the new one, the new one
    again. `check(key, pin)` vets a step on the worker before the next one comes (a wrong
    current PIN is said at once, not after two more PINs); `finish(pins)` runs on the worker
    with every step's PIN by key, and `done(result)` back on the UI thread once it succeeded.
    Two new PINs that differ are refused here, before the worker, and asked for again."""

    steps = ListProperty([])  # [(key, prompt)]; keys "current", "new", "again" are known
    index = NumericProperty(0)
    checking = BooleanProperty(False)
    check = ObjectProperty(None, allownone=True)
    finish = ObjectProperty(None)
    done = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pins: dict[str, str] = {}

    @property
    def key(self) -> str:
        return self.steps[self.index][0]

    @property
    def last(self) -> bool:
        return self.index == len(self.steps) - 1

    def _to(self, key: str) -> None:
        """Back to the step `key` (the first step when there is none), forgetting it and
        every step after it."""
        keys = [k for k, _prompt in self.steps]
        self.index = keys.index(key) if key in keys else 0
        for later in keys[self.index :]:
            self.pins.pop(later, None)
        self.ids.pin.value = ""

    def submit(self) -> None:
        pin = self.ids.pin.value
        if not pin:
            self.error_text = _("Type the PIN")
            return
        self.error_text = ""
        key = self.key
        try:
            if key == "new":
                staff.check_new_pin(pin)
            elif key == "again":
                staff.check_new_pin(self.pins.get("new", ""), pin)
        except ValueError as exc:
            self._refused(exc, restart="new")
            return
        self.pins[key] = pin
        if self.last:
            pins = dict(self.pins)
            self._work(lambda: self.finish(pins), self._finished)
        elif self.check is not None:
            self._work(lambda: self.check(key, pin), lambda _result: self._next())
        else:
            self._next()

    def _work(self, job: Callable, then: Callable) -> None:
        self.checking = True
        self.app.local.submit(job, then, self._failed)

    def _next(self) -> None:
        self.checking = False
        self.index += 1
        self.ids.pin.value = ""

    def _finished(self, result) -> None:
        self.checking = False
        self.dismiss()
        if self.done is not None:
            self.done(result)

    def _failed(self, exc) -> None:
        self.checking = False
        # A current PIN refused starts again from it; anything else from the new PIN.
        self._refused(exc, restart="current" if isinstance(exc, staff.AuthError) else "new")

    def _refused(self, exc, restart: str) -> None:
        self._to(restart)
        self.error_text = explain(exc)
        self.app.beep("error")


def change_my_pin(me=None) -> PinDialog:
    """Change my PIN for `me` (whoever is logged in by default): their current PIN first,
    then the new one twice. A wrong current PIN counts towards the lockout, as at login."""
    app = App.get_running_app()
    me = me or app.till.staff
    config = app.till.config

    def check(key: str, pin: str):
        if key == "current":
            return staff.login(me.id, pin, config)
        return None

    dialog = PinDialog(
        title=_("Change my PIN") + " \u00b7 " + me.name,
        steps=[
            ("current", _("Your current PIN")),
            ("new", _("Your new PIN: 4 to 8 digits")),
            ("again", _("Your new PIN again")),
        ],
        check=check,
        finish=lambda pins: staff.change_own_pin(
            me.id, pins["current"], pins["new"], pins["again"], config
        ),
        done=lambda _me: app.notify(_("Your PIN is changed: use the new one from now on"), "ok"),
    )
    dialog.open()
    return dialog


def new_pin_steps() -> list[tuple[str, str]]:
    return [("new", _("New PIN: 4 to 8 digits")), ("again", _("The new PIN again"))]


class StaffScreen(TillScreen):
    """Everyone who may log in on the till's store, for a manager: add, reset a PIN,
    deactivate and reactivate. Changes reach the OMS and the store's other tills."""

    approver = ObjectProperty(None, allownone=True)
    message = StringProperty("")
    bad = BooleanProperty(False)

    def enter(self, approver=None, **_kwargs) -> None:
        if approver is not None:
            self.approver = approver
        self.say("")
        self.show()

    def refresh(self) -> None:
        self.show()

    @property
    def by(self):
        """The manager making the changes: who approved the manager screen, else who is
        logged in (a manager)."""
        return self.approver or self.till.staff

    def say(self, text: str, bad: bool = False) -> None:
        self.message = text
        self.bad = bad

    def show(self) -> None:
        box = self.ids.rows
        box.clear_widgets()
        logged_in = self.till.staff.id if self.till.staff else None
        for member in staff.members():
            details = [_("Manager") if member.is_manager else _("Cashier")]
            details.append(_("active") if member.active else _("deactivated"))
            if member.locked:
                details.append(_("locked after wrong PINs"))
            if member.id == logged_in:
                details.append(_("logged in"))
            if member.id == self.by.id:
                action, then1 = _("Change my PIN"), self.change_own
            else:
                action, then1 = _("Reset PIN"), (lambda m=member: self.reset_pin(m))
            if member.id in (self.by.id, logged_in):
                action2, then2 = "", None  # never yourself, never whoever is logged in
            elif member.active:
                action2, then2 = _("Deactivate"), (lambda m=member: self.deactivate(m))
            else:
                action2, then2 = _("Reactivate"), (lambda m=member: self.reactivate(m))
            box.add_widget(
                ListRow(
                    title=member.name,
                    detail=" \u00b7 ".join(details),
                    action=action,
                    then1=then1,
                    action2=action2,
                    then2=then2,
                )
            )

    # -- changes --------------------------------------------------------------------------------

    def add(self) -> None:
        """Name (on-screen keyboard), role, then the PIN twice (keypad)."""

        def named(text: str) -> None:
            name = staff.check_name(text)  # a refusal shows in the name dialog
            ChoiceDialog(
                title=f_("{name}: cashier or manager?", name=name),
                choices=[("cashier", _("Cashier")), ("manager", _("Manager"))],
                then=lambda role: self._add_pin(name, role),
            ).open()

        ask_text(_("Add staff: their name"), named, hint=_("Name"))

    def _add_pin(self, name: str, role: str) -> None:
        by, tz = self.by, self.till.config["store.timezone"]

        def added(member) -> None:
            role_name = _("Manager") if member.is_manager else _("Cashier")
            self.say(f_("{name} added ({role})", name=member.name, role=role_name))
            self.show()

        PinDialog(
            title=f_("PIN for {name}", name=name),
            steps=new_pin_steps(),
            finish=lambda pins: staff.create(
                name, role, pins["new"], again=pins["again"], by=by, tz=tz
            ),
            done=added,
        ).open()

    def reset_pin(self, member) -> None:
        by, config = self.by, self.till.config

        def reset(_info) -> None:
            self.say(f_("{name} has a new PIN", name=member.name))
            self.show()

        PinDialog(
            title=f_("New PIN for {name}", name=member.name),
            steps=new_pin_steps(),
            finish=lambda pins: staff.reset_pin(
                member.id, pins["new"], pins["again"], by=by, config=config
            ),
            done=reset,
        ).open()

    def change_own(self) -> None:
        change_my_pin(self.by)

    def deactivate(self, member) -> None:
        confirm(
            _("Deactivate staff"),
            f_(
                "Deactivate {name}? They can no longer log in on any till of the store, until a manager reactivates them.",
                name=member.name,
            ),
            lambda: self._set_active(member, False),
            ok_text=_("Deactivate"),
            danger=True,
        )

    def reactivate(self, member) -> None:
        self._set_active(member, True)

    def _set_active(self, member, active: bool) -> None:
        till = self.till
        try:
            staff.set_active(
                member.id,
                active,
                by=self.by,
                config=till.config,
                logged_in=till.staff.id if till.staff else None,
            )
        except (ValueError, staff.AuthError) as exc:
            self.say(explain(exc), bad=True)
            self.app.beep("error")
            return
        if active:
            self.say(f_("{name} can log in again", name=member.name))
        else:
            self.say(f_("{name} is deactivated", name=member.name))
        self.show()


load_kv("staff_admin.kv")
