"""The details of the first-boot set-up report: each setting of kasir.toml that was not applied,
where it is in the file and why, in the screen's language; a manager marks it as seen.

A module of its own, loaded when the login screen's banner is touched: the login screen is the
till's first frame and does not wait for dialogs nobody opened."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .. import setup_report
from ..i18n import _, explain, f_
from . import load_kv
from .dialogs import Dialog, with_manager

# What the keys that only first boot applies are, for an owner who does not know them by name
# (the keys the till itself uses have their labels in screens/settings.py).
SETUP_LABELS = {
    "system.hostname": "The till's name on the network",
    "system.timezone": "Time zone of the till's clock",
    "system.locale": "Language of system messages",
    "system.ssh_authorized_key": "Remote access key (SSH)",
    "wifi.ssid": "Wi-Fi network name",
    "wifi.psk": "Wi-Fi password",
    "wifi.country": "Wi-Fi country",
    "wifi.hidden": "Hidden Wi-Fi network",
    "oms.url": "Address of the OMS",
    "oms.enrolment_code": "Enrolment code from the OMS",
    "store.timezone": "Store time zone",
    "printer.usb_vendor": "USB printer maker id",
    "printer.usb_product": "USB printer model id",
    "update.security_updates": "Nightly security updates",
    "update.security_time": "Time of the nightly security updates",
    "update.extra_keys": "Own release-signing keys",
}


def label_of(key: str) -> str:
    from .settings import LABELS  # settings imports this package's login module: not at load

    label = SETUP_LABELS.get(key) or LABELS.get(key)
    return _(label) if label else ""


def where(problem: setup_report.Problem) -> str:
    """Where the owner finds the problem: the line of kasir.toml and the setting's name."""
    if problem.key == "till":  # `kasir init`, not a line of the file
        return _("The till's store")
    if problem.key == "kasir.toml":
        setting = _("the whole file")
    else:
        label = label_of(problem.key)
        setting = f"{problem.key} — {label}" if label else problem.key
    if problem.line:
        return f_("kasir.toml line {line}: {setting}", line=problem.line, setting=setting)
    return f_("kasir.toml: {setting}", setting=setting)


class SetupProblemRow(BoxLayout):
    where = StringProperty("")
    reason = StringProperty("")


class SetupReportDialog(Dialog):
    report = ObjectProperty(None)  # setup_report.SetupReport
    then = ObjectProperty(None)  # then(moved) once a manager marked it as seen
    intro = StringProperty("")

    def on_pre_open(self) -> None:
        report = self.report
        if report.readable:
            self.intro = _(
                "First boot could not apply these settings from kasir.toml, the settings file on the SD card. The till works, with its built-in value for each of them."
            )
        else:
            self.intro = f_(
                "The report that first boot wrote could not be read ({reason}), so the till cannot tell which settings were not applied.",
                reason=report.error,
            )
        box = self.ids.rows
        box.clear_widgets()
        for problem in report.problems:
            box.add_widget(SetupProblemRow(where=where(problem), reason=explain(problem.message)))

    def mark_seen(self) -> None:
        with_manager(
            _("Mark the set-up report as seen: it is kept on the till but no longer shown"),
            self._approved,
        )

    def _approved(self, _approver) -> None:
        try:
            moved = setup_report.dismiss(self.app.till.data_dir, self.report)
        except OSError as exc:
            self.error_text = explain(exc)
            self.app.beep("error")
            return
        self.dismiss()
        if self.then is not None:
            self.then(moved)


load_kv("setup_dialog.kv")
