"""The frame around every screen: status bar, training banner, on-screen keyboard, messages."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout


class Root(FloatLayout):
    pass


class StatusBar(ButtonBehavior, BoxLayout):
    """Always visible. Touch it for the devices' and the OMS link's state in words."""

    def on_release(self):
        from .dialogs import StatusPopup

        app = App.get_running_app()
        app.refresh_status()
        StatusPopup(rows=app.status_details()).open()
