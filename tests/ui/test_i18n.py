"""Indonesian and English: every message the screens show has an Indonesian translation, the
language switches while the till runs, money and errors follow it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from appliance import i18n

ROOT = Path(__file__).resolve().parents[2] / "appliance"
CALL = re.compile(r'\bf?_\(\s*"((?:[^"\\]|\\.)*)"')


def used_messages() -> set[str]:
    """Every literal passed to _() or f_() in the screens and the app, and the messages kept in
    tables (reasons, settings labels, service errors)."""
    from appliance.screens import manager, refund, settings, setup_dialog

    files = [
        *ROOT.glob("screens/*.py"),
        *ROOT.glob("screens/*.kv"),
        ROOT / "app.py",
        ROOT / "i18n.py",
    ]
    found = set()
    for path in files:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(ast.literal_eval('"' + match.group(1) + '"'))
    found.update(message for _pattern, message in i18n._ERRORS)
    found.update(refund.REASONS)
    found.update(r for reasons in manager.CASH_REASONS.values() for r in reasons)
    found.update(group for group, _keys in settings.GROUPS)
    found.update(settings.LABELS.values())
    found.update(settings.SOURCES.values())
    found.update(setup_dialog.SETUP_LABELS.values())
    return found


def test_every_message_has_an_indonesian_translation():
    messages = used_messages()
    assert len(messages) > 250
    missing = sorted(m for m in messages if m not in i18n.catalog("id_ID"))
    assert missing == []


def test_translations_keep_their_placeholders():
    for message, translation in i18n.catalog("id_ID").items():
        assert set(re.findall(r"{(\w+)}", message)) == set(re.findall(r"{(\w+)}", translation)), (
            message
        )


def test_switching_language_changes_messages_and_money():
    try:
        i18n.set_language("en")
        assert i18n._("Pay") == "Pay"
        assert i18n.money(12500) == "Rp12,500"
        i18n.set_language("id_ID")
        assert i18n._("Pay") == "Bayar"
        assert i18n.money(12500) == "Rp12.500"
        assert i18n.f_("{n} items", n=3) == "3 barang"
    finally:
        i18n.set_language("en")


def test_an_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="language 'fr' is not one of id_ID, en"):
        i18n.set_language("fr")


def test_service_errors_are_explained_in_the_screen_language():
    try:
        i18n.set_language("id_ID")
        assert i18n.explain("wrong PIN (3 tries left)") == "PIN salah (sisa 3 kali coba)"
        assert (
            i18n.explain(
                "/dev/ttyUSB0: not found — is the printer plugged in and switched on? "
                "check [printer] port"
            )
            == "Printer tidak ditemukan: sudah dicolok dan dinyalakan?"
        )
        # An error nobody translated is shown as it is, not hidden.
        assert i18n.explain("something new went wrong") == "Something new went wrong"
    finally:
        i18n.set_language("en")


def test_the_login_screen_switches_language_at_a_touch(ui):
    app = ui.app
    assert ui.find("Log in")
    ui.tap("Bahasa Indonesia")
    assert app.lang == "id_ID"
    assert ui.find("Masuk")
    assert ui.find("Siapa yang berjualan?")
    ui.tap("English")
    assert ui.find("Log in")
