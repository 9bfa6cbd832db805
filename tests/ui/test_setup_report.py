"""What first boot could not apply from kasir.toml, on the login screen: the banner, the details
dialog, a manager marking the report as seen; and the service that reads the report, with the
reports the real first boot (image/firstboot.py) writes."""

from __future__ import annotations

import json

from appliance import setup_report
from appliance.screens.setup_dialog import SetupProblemRow, SetupReportDialog
from tests.ui.driver import CASHIER_PIN, MANAGER_PIN, write_setup_report

TWO = "Set-up: 2 settings in kasir.toml could not be applied — tap for details"
UNREADABLE = "Set-up: the first-boot report could not be read — tap for details"


def rows(dialog) -> list[tuple[str, str]]:
    return [
        (row.where, row.reason)
        for row in reversed(dialog.ids.rows.children)
        if isinstance(row, SetupProblemRow)
    ]


# -- the service ---------------------------------------------------------------------------------


def test_the_report_first_boot_writes_is_read_problem_by_problem(tmp_path):
    write_setup_report(tmp_path, enrolment="connection refused")
    report = setup_report.pending(tmp_path)
    assert report.readable and report.written_at
    assert [(p.key, p.line, p.message) for p in report.problems] == [
        ("wifi.psk", 7, "a Wi-Fi password has 8 to 63 characters (or is 64 hex digits)"),
        ("printer.width", 10, "should be a whole number, not 'lebar'"),
        ("oms.enrolment_code", None, "not enrolled: connection refused"),
    ]


def test_no_report_or_one_without_problems_is_nothing_to_show(tmp_path):
    assert setup_report.pending(tmp_path) is None
    write_setup_report(tmp_path, '[store]\nname = "Toko Maju Jaya"\n')
    assert setup_report.read(tmp_path / "run/setup-report.json").problems == ()
    assert setup_report.pending(tmp_path) is None


def test_a_report_that_cannot_be_read_says_why_and_never_raises(tmp_path):
    path = tmp_path / "run" / "setup-report.json"
    path.parent.mkdir()
    cases = {
        b'{"problems": [{"key": "wifi.psk", "li': "setup-report.json is not a readable report (",
        b"\xff\xfe garbage": "setup-report.json is not a readable report (",
        b'["wifi.psk"]': "setup-report.json is not a readable report: it has no list of problems",
        json.dumps(
            {"problems": [{"key": "a.b", "line": 1, "message": "x"}, {"key": "wifi.psk"}]}
        ).encode(): "setup-report.json is not a readable report: problem 2 (wifi.psk) has no "
        "message",
        json.dumps(
            {"problems": [{"key": "wifi.psk", "line": "seven", "message": "x"}]}
        ).encode(): "setup-report.json is not a readable report: problem 1 (wifi.psk) has a "
        "line that is not a line number: 'seven'",
        json.dumps({"problems": [{"line": 3, "message": "x"}]}).encode(): (
            "setup-report.json is not a readable report: problem 1 has no key"
        ),
    }
    for raw, error in cases.items():
        path.write_bytes(raw)
        report = setup_report.pending(tmp_path)
        assert not report.readable and report.problems == ()
        assert report.error.startswith(error), (raw, report.error)
    path.unlink()
    path.mkdir()  # something that is there but cannot be read as a file
    report = setup_report.pending(tmp_path)
    assert report.error == "setup-report.json could not be opened: Is a directory"


def test_dismissing_keeps_the_report_under_another_name_unless_it_changed(tmp_path):
    path = write_setup_report(tmp_path)
    shown = setup_report.pending(tmp_path)
    # The enrolment retries rewrite the report: what was shown is not what is there now.
    write_setup_report(tmp_path, enrolment="connection refused")
    newer_bytes = path.read_bytes()
    assert setup_report.dismiss(tmp_path, shown) is False
    assert path.read_bytes() == newer_bytes
    newer = setup_report.pending(tmp_path)
    assert len(newer.problems) == 3
    assert setup_report.dismiss(tmp_path, newer) is True
    assert not path.exists() and not (tmp_path / "run/setup-report.txt").exists()
    assert (tmp_path / "run/setup-report.seen.json").read_bytes() == newer_bytes
    assert (
        "NOT APPLIED wifi.psk (kasir.toml line 7)"
        in (tmp_path / "run/setup-report.seen.txt").read_text()
    )
    assert setup_report.pending(tmp_path) is None
    assert setup_report.dismiss(tmp_path, newer) is False  # nothing left to move
    # A later boot's report takes the old name again, so it shows again.
    write_setup_report(tmp_path)
    assert len(setup_report.pending(tmp_path).problems) == 2


# -- on the login screen -------------------------------------------------------------------------


def test_the_banner_opens_the_problems_and_a_manager_marks_them_seen(ui):
    app = ui.app
    path = write_setup_report(ui.data)
    written = path.read_bytes()
    app.go("login")  # the screen a till shows after first boot, or after a log-out
    login = ui.screen
    banner = login.ids.setup
    assert login.setup_text == TWO and ui.find(TWO) == banner
    assert banner.height >= 48

    ui.tap(banner)
    dialog = ui.dialog()
    assert isinstance(dialog, SetupReportDialog)
    assert dialog.intro.startswith("First boot could not apply these settings from kasir.toml")
    assert rows(dialog) == [
        (
            "kasir.toml line 7: wifi.psk — Wi-Fi password",
            "A Wi-Fi password has 8 to 63 characters (or is 64 hex digits)",
        ),
        (
            "kasir.toml line 10: printer.width — Paper width (characters)",
            "This should be a whole number, not 'lebar'",
        ),
    ]
    ui.tap("Close", within=dialog)
    assert ui.dialog() is None and path.exists()

    # A cashier cannot put it away.
    ui.tap(banner)
    ui.tap("Mark as seen (manager)", within=ui.dialog())
    pin = ui.dialog()
    assert pin is not dialog and type(pin).__name__ == "ManagerPinDialog"
    ui.keys(pin, CASHIER_PIN)
    ui.tap("Approve", within=pin)
    ui.wait(lambda: pin.error_text, what="the refusal")
    assert pin.error_text == "That PIN is not a manager's PIN"
    assert path.read_bytes() == written

    ui.keys(pin, MANAGER_PIN)
    ui.tap("Approve", within=pin)
    ui.wait(lambda: ui.dialog() is None, what="both dialogs to close")
    assert not path.exists()
    assert (ui.data / "run/setup-report.seen.json").read_bytes() == written
    assert login.setup_text == "" and banner.height == 0 and not ui.find_all(TWO)
    assert ("ok", "Set-up report marked as seen") in app.messages
    assert app.sm.current == "login"

    # The next boot's report shows again; the banner follows the screen's language.
    write_setup_report(ui.data)
    app.go("login")
    assert login.setup_text == TWO
    ui.tap("Bahasa Indonesia")
    assert login.setup_text == (
        "Penyiapan: 2 pengaturan di kasir.toml tidak dapat diterapkan — sentuh untuk rinciannya"
    )
    ui.tap(banner)
    assert rows(ui.dialog())[0] == (
        "kasir.toml baris 7: wifi.psk — Kata sandi Wi-Fi",
        "Kata sandi Wi-Fi terdiri dari 8 sampai 63 karakter (atau 64 digit heksadesimal)",
    )


def test_no_report_no_banner(ui):
    login = ui.screen
    assert ui.app.sm.current == "login"
    assert not (ui.data / "run/setup-report.json").exists()
    assert login.setup_text == "" and login.ids.setup.height == 0
    assert login.ids.setup.disabled and login.ids.setup.opacity == 0
    # A report in which everything was applied is nothing to show either.
    write_setup_report(ui.data, '[store]\nname = "Toko Maju Jaya"\n')
    ui.app.go("login")
    assert login.setup_text == "" and login.ids.setup.height == 0


def test_a_corrupt_report_says_it_could_not_be_read(ui):
    path = ui.data / "run" / "setup-report.json"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b'{"applied": ["host name kasir"], "problems": [{"key": "wifi.ps')  # power cut
    ui.app.go("login")
    login = ui.screen
    assert login.setup_text == UNREADABLE
    ui.tap(login.ids.setup)
    dialog = ui.dialog()
    assert rows(dialog) == []
    assert dialog.intro.startswith(
        "The report that first boot wrote could not be read (setup-report.json is not a "
        "readable report ("
    )
    assert dialog.intro.endswith("so the till cannot tell which settings were not applied.")
    ui.tap("Mark as seen (manager)", within=dialog)
    ui.keys(ui.dialog(), MANAGER_PIN)
    ui.tap("Approve", within=ui.dialog())
    ui.wait(lambda: ui.dialog() is None, what="both dialogs to close")
    assert not path.exists() and (ui.data / "run/setup-report.seen.json").exists()
    assert login.setup_text == ""


def test_a_report_rewritten_while_it_was_shown_is_shown_again_not_put_away(ui):
    app = ui.app
    path = write_setup_report(ui.data)
    app.go("login")
    login = ui.screen
    ui.tap(login.ids.setup)
    dialog = ui.dialog()
    # Meanwhile first boot's enrolment attempt fails and adds its reason to the report.
    write_setup_report(ui.data, enrolment="the OMS did not answer")
    ui.tap("Mark as seen (manager)", within=dialog)
    ui.keys(ui.dialog(), MANAGER_PIN)
    ui.tap("Approve", within=ui.dialog())
    ui.wait(lambda: ui.dialog() is None, what="both dialogs to close")
    assert path.exists() and not (ui.data / "run/setup-report.seen.json").exists()
    assert login.setup_text == (
        "Set-up: 3 settings in kasir.toml could not be applied — tap for details"
    )
    assert ("error", "A newer set-up report arrived: it is shown instead") in app.messages
    ui.tap(login.ids.setup)
    assert rows(ui.dialog())[2] == (
        "kasir.toml: oms.enrolment_code — Enrolment code from the OMS",
        "The till has not joined the OMS yet (the OMS did not answer); it keeps trying",
    )
