"""The customer display's window (run by `python -m appliance.customer_display`): what the
customer sees of the sale, large. It shows what the till sends and nothing else."""

from __future__ import annotations

import json
import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

KV = """
#:import theme appliance.screens.theme

<DisplayLine>:
    size_hint_y: None
    height: self.parent.row_height if self.parent else 40
    Label:
        text: root.name + ("   " + root.detail if root.detail else "")
        color: theme.TEXT
        font_size: root.height * 0.45
        text_size: self.size
        halign: "left"
        valign: "middle"
        shorten: True
    Label:
        text: root.amount
        color: theme.TEXT
        bold: True
        font_size: root.height * 0.45
        size_hint_x: None
        width: self.texture_size[0]

<CustomerView>:
    orientation: "vertical"
    padding: self.height * 0.03
    spacing: self.height * 0.02
    canvas.before:
        Color:
            rgba: theme.PANEL
        Rectangle:
            pos: self.pos
            size: self.size
    Label:
        text: root.store
        color: theme.MUTED
        bold: True
        font_size: root.height * 0.06
        size_hint_y: None
        height: self.font_size * 1.5
    BoxLayout:
        id: body
        orientation: "horizontal"
        spacing: root.width * 0.03
        BoxLayout:
            id: lines
            orientation: "vertical"
            row_height: max(24, root.height * 0.075)
            opacity: 1 if root.view == "cart" else 0
            size_hint_x: 1 if root.view == "cart" else 0.0001
        Image:
            texture: root.qr
            fit_mode: "contain"
            opacity: 1 if root.view == "qris" and root.qr else 0
            size_hint_x: 1 if root.view == "qris" and root.qr else 0.0001
        BoxLayout:
            orientation: "vertical"
            Label:
                text: root.big_label
                color: theme.MUTED
                font_size: root.height * 0.07
                text_size: self.size
                halign: "center"
                valign: "bottom"
            Label:
                text: root.big
                color: theme.GO if root.view == "done" else theme.TEXT
                bold: True
                font_size: root.height * (0.2 if root.view in ("done", "idle") else 0.14)
                text_size: self.width, None
                halign: "center"
            Label:
                text: root.small
                color: theme.MUTED
                font_size: root.height * 0.055
                text_size: self.size
                halign: "center"
                valign: "top"
"""


class DisplayLine(BoxLayout):
    name = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")


class CustomerView(BoxLayout):
    view = StringProperty("idle")
    store = StringProperty("")
    big_label = StringProperty("")
    big = StringProperty("")
    small = StringProperty("")
    qr = ObjectProperty(None, allownone=True)
    lines = ListProperty([])

    def apply(self, state: dict) -> None:
        self.view = state.get("view", "idle")
        self.store = state.get("store", self.store)
        view = self.view
        if view == "cart":
            self.big_label, self.big = state.get("total_label", ""), state.get("total", "")
            self.small = state.get("note", "")
        elif view == "pay":
            self.big_label, self.big = state.get("due_label", ""), state.get("due", "")
            self.small = f"{state.get('total_label', '')} {state.get('total', '')}"
        elif view == "qris":
            self.big_label, self.big = state.get("total_label", ""), state.get("total", "")
            self.small = ""
            from .dialogs import qr_texture

            self.qr = qr_texture(state["payload"]) if state.get("payload") else None
        elif view == "done":
            self.big_label, self.big = state.get("change_label", ""), state.get("change", "")
            self.small = state.get("thanks", "")
        else:
            self.big_label, self.big, self.small = "", state.get("welcome", ""), ""
        self.lines = state.get("lines", []) if view == "cart" else []

    def on_lines(self, _instance, lines) -> None:
        box = self.ids.lines
        box.clear_widgets()
        shown = lines[-10:]
        for name, detail, amount in shown:
            box.add_widget(DisplayLine(name=name, detail=detail, amount=amount))
        from kivy.uix.widget import Widget

        box.add_widget(Widget())


class CustomerDisplayApp(App):
    title = "Kasir — customer display"

    def __init__(self, source, answers, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.answers = answers

    def build(self):
        Builder.load_string(KV)
        Window.clearcolor = (1, 1, 1, 1)
        self.view = CustomerView()
        threading.Thread(target=self._read, name="till feed", daemon=True).start()
        return self.view

    def _read(self) -> None:
        for line in self.source:
            line = line.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            Clock.schedule_once(lambda _dt, m=message: self._handle(m))
        Clock.schedule_once(lambda _dt: self.stop())  # the till closed the feed

    def _handle(self, message: dict) -> None:
        if "screenshot" in message:
            # Two frames later, so what was sent before is drawn.
            Clock.schedule_once(lambda _dt: self._screenshot(message["screenshot"]), 0.2)
            return
        self.view.apply(message)

    def _screenshot(self, path: str) -> None:
        written = Window.screenshot(name=path)
        self.answers.write(f"screenshot {written}\n")
        self.answers.flush()
