"""Real tills for the sync proofs: data directories set up with the `kasir` CLI, seller and
`kasir sync` processes, a request-aware fault proxy, and side-by-side views of what each till
holds and what the OMS booked.

    proxy = ChaosProxy(oms_server.port)
    till = Till(tmp_path, "till1", proxy.url)
    till.setup(enrol_code(oms_server, "JKT1", "Kasir 1"))  # init, import, staff, shift, enrol
    till.start_seller(seed=1, pace=0.2)
    till.start_sync()
    ...
    problems = compare(till.name, till.snapshot(), oms_view(oms_server, till.terminal_id))

Every wait here is bounded and fails naming what it waited for, with the logs that explain it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.appliance.tillkit import CASHIER_PIN, ean
from tests.sync.faultproxy import FaultProxy, _read_request, _rst

REPO = Path(__file__).resolve().parents[2]
SELLER = Path(__file__).with_name("_seller.py")
STORE = "JKT1"

# Goods of every kind the sellers ring up: scanned, pack barcodes, tax-free and luxury goods,
# and an item sold by weight (scale labels with a weight or a price).
CATALOG_CSV = (
    "sku,name,price,barcode,tax,category,unit,stock,plu\n"
    f"IDM,Indomie Goreng,3500,{ean('899100110001')}|{ean('899100110002')}*40,PPN,Mie,each,5000,\n"
    f"AQ,Aqua 600ml,4000,{ean('899100220001')},PPN,Minuman,each,5000,\n"
    f"BRS,Beras 5kg,75000,{ean('899100330001')},FREE,Sembako,each,800,\n"
    f"PRF,Parfum Mewah,500000,{ean('899100440001')},LUX,Kosmetik,each,50,\n"
    f"TLR,Telur 10 butir,21000,{ean('899100550001')},FREE,Sembako,each,900,\n"
    "APL,Apel Fuji,45000,,FREE,Buah,kg,500000 g,123\n"
)
WEIGHED = ("APL",)


def kasir_argv() -> list[str]:
    """The installed `kasir` console script (what the Pi runs), else the module."""
    script = Path(sys.executable).with_name("kasir")
    return [str(script)] if script.exists() else [sys.executable, "-m", "appliance.cli"]


def till_env(timeout: int = 2, interval: int = 1) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASIR_")}
    env.update(
        KASIR_OMS_TIMEOUT=str(timeout),
        KASIR_OMS_SYNC_INTERVAL=str(interval),
        PYTHONPATH=str(REPO),
        KIVY_NO_ARGS="1",
    )
    return env


def wait_until(
    predicate: Callable[[], object],
    timeout: float,
    what: str,
    diagnostics: Callable[[], str] = lambda: "",
    every: float = 0.1,
):
    """Poll `predicate` until it is truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{diagnostics()}")
        time.sleep(every)


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


# -- processes -------------------------------------------------------------------------------


class Proc:
    """A child process whose stdout and stderr go to a log file (appended across restarts)."""

    def __init__(
        self, name: str, argv: list[str], log: Path, env: dict[str, str], stdin: bool = False
    ):
        self.name, self.argv, self.log_path, self.env = name, argv, log, env
        self.stdin = stdin  # a pipe to write commands to
        self.popen: subprocess.Popen | None = None
        self.exits: list[int] = []

    def start(self) -> Proc:
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {' '.join(self.argv[-4:])}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: a power cut for this process."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.exits.append(self.popen.wait(10))

    def send(self, line: str) -> None:
        self.popen.stdin.write(line.encode() + b"\n")
        self.popen.stdin.flush()

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait (SIGKILL after `timeout`); returns the exit code."""
        if self.popen is None:
            return 0
        if self.popen.stdin:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait(5)
        self.exits.append(code)
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# -- a till ------------------------------------------------------------------------------------


class Till:
    """One real data directory, driven through the `kasir` CLI and child processes."""

    def __init__(self, root: Path, name: str, oms_url: str, timeout: int = 2):
        self.name = name
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.oms_url = oms_url
        self.env = till_env(timeout=timeout)
        self.pin = ""
        self.terminal_id = ""
        self.token = ""
        self.done_file = self.dir / "done.jsonl"
        self.seller: Proc | None = None
        self.sync: Proc | None = None
        self.cli_log: list[str] = []
        # Each till's people have names of their own: once enrolled, every till of the store
        # holds the staff of all of them (see the report on same-named staff).
        self.manager = f"Manager {name}"
        self.cashier = f"Ani {name}"

    @property
    def db_path(self) -> Path:
        return self.dir / "kasir.sqlite3"

    def kasir(self, *args: str, check: bool = True, timeout: float = 60):
        argv = [*kasir_argv(), "--data-dir", str(self.dir), *args]
        done = subprocess.run(
            argv, env=self.env, cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
        self.cli_log.append(
            f"$ kasir {' '.join(args)} -> {done.returncode}\n{tail(done.stdout, 15)}\n"
            f"{tail(done.stderr, 15)}"
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{self.name}: kasir {' '.join(args)} exited {done.returncode}\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def setup(self, enrol_code: str) -> None:
        """A new till as an owner sets one up: init, the catalog, a cashier, enrolment, a shift."""
        self.prepare()
        self.enrol(enrol_code)

    def prepare(self) -> None:
        """A standalone till: init, the catalog, a cashier, a shift open."""
        out = self.kasir("init", "--manager-name", self.manager).stdout
        self.pin = re.search(r"PIN \(shown once, write it down\): (\d{6})", out).group(1)
        csv = self.dir / "catalog.csv"
        csv.write_text(CATALOG_CSV)
        self.kasir("import-catalog", str(csv))
        self.kasir(
            "--pin",
            self.pin,
            "staff",
            "add",
            self.cashier,
            "--role",
            "cashier",
            "--new-pin",
            CASHIER_PIN,
        )
        self.kasir("--staff", self.manager, "shift", "open", "--float", "200000")

    def enrol(self, enrol_code: str) -> None:
        """Join the OMS (the shift opened before goes up with the first sync)."""
        self.kasir("enrol", self.oms_url, enrol_code, "--name", self.name)
        self.token = (self.dir / "oms-token").read_text().strip()
        self.terminal_id = self.setting("identity.terminal_id")

    # -- processes ---------------------------------------------------------------------------

    def start_seller(self, seed: int, pace: float, wait: bool = True) -> Proc:
        """A seller process; returns once it is selling (or at once, without `wait`)."""
        self.seller = self.seller or Proc(
            f"{self.name}-seller",
            [
                sys.executable,
                str(SELLER),
                str(self.dir),
                str(self.done_file),
                self.manager,
                self.cashier,
                "0",
                "0",
            ],
            self.dir / "seller.log",
            self.env,
        )
        self.seller.argv[-2:] = [str(seed), str(pace)]
        self.seller.start()
        if wait:
            self.wait_seller()
        return self.seller

    def wait_seller(self) -> None:
        pid = self.seller.pid
        wait_until(
            lambda: f"ready {pid}" in self.seller.log() or not self.seller.alive(),
            30,
            f"{self.name}: seller {pid} ready",
        )
        if not self.seller.alive():
            raise AssertionError(f"{self.name}: the seller died:\n{tail(self.seller.log())}")

    def start_sync(self) -> Proc:
        """The long-lived uploader, `kasir sync`."""
        self.sync = self.sync or Proc(
            f"{self.name}-sync",
            [*kasir_argv(), "--data-dir", str(self.dir), "sync"],
            self.dir / "sync.log",
            self.env,
        )
        return self.sync.start()

    def close_shift(self) -> str:
        """`kasir shift close` with the cash counted and the manager's PIN: the Z report."""
        return self.kasir(
            "--staff", self.manager, "--pin", self.pin, "shift", "close", "--counted", "250000"
        ).stdout

    # -- reading the store (plain SQLite, while the till's processes run) ---------------------

    def query(self, sql: str, params=()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=30)) as conn:
            return conn.execute(sql, params).fetchall()

    def setting(self, key: str):
        rows = self.query("SELECT value FROM setting WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def outbox(self) -> dict[str, int]:
        counts = {"pending": 0, "delivered": 0, "quarantined": 0}
        counts.update(dict(self.query("SELECT state, COUNT(*) FROM outbox GROUP BY state")))
        return counts

    def outbox_states(self, ids: list[str]) -> dict[str, str]:
        marks = ",".join("?" * len(ids))
        return dict(self.query(f"SELECT id, state FROM outbox WHERE id IN ({marks})", ids))

    def snapshot(self) -> TillView:
        return till_view(self)


# -- a proxy that sees each request --------------------------------------------------------------


@dataclass
class EventPost:
    """A POST of outbox events the proxy forwarded to the OMS."""

    token: str
    events: list[tuple[str, str]]  # (event id, type), in the batch's order

    @property
    def ids(self) -> list[str]:
        return [event_id for event_id, _ in self.events]

    def booked_in_parts(self) -> bool:
        """Whether the OMS books this batch in three transactions or more: it books a run of
        consecutive sales (and events it only keeps, like a shift's) in one, and a refund in
        one of its own, so a refund between other events splits the batch."""
        return any(kind == "sale.refunded" for _, kind in self.events[1:-1])


def _parse_post(request: bytes) -> EventPost | None:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("POST /api/v1/sync/events"):
        return None
    token = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "authorization":
            token = value.strip().removeprefix("Bearer ").strip()
    events = []
    for text in json.loads(body)["events"]:
        event = json.loads(text)
        events.append((event["id"], event["type"]))
    return EventPost(token, events)


def _close_after(request: bytes) -> bytes:
    """Ask the OMS to close the connection after its answer: every request then comes on a
    connection of its own, and so meets the proxy's mode of the moment."""
    head, sep, body = request.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + sep + body


class ChaosProxy(FaultProxy):
    """FaultProxy with one request per connection and a hook on every event upload.

    `on_post(post)` runs in the proxy's thread after the request went to the OMS and before any
    answer comes back: whatever it does (kill the uploader, note the batch) happens while the
    batch is in the OMS's hands."""

    def __init__(self, upstream_port: int):
        super().__init__(upstream_port)
        self.on_post: Callable[[EventPost], None] | None = None
        self.posts_forwarded = 0
        self.post_sizes: list[int] = []  # events per upload, in the order they came
        # An OMS slow in proportion to the batch: the answer to an upload of n events is held
        # back n × this many seconds (the OMS has booked them meanwhile).
        self.seconds_per_event = 0.0

    def _forward(self, client: socket.socket, cut: bool) -> None:
        request = _read_request(client)
        if not request:
            client.close()
            return
        upstream = socket.create_connection(self.upstream, timeout=10)
        try:
            upstream.sendall(_close_after(request))
            post = _parse_post(request)
            if post is not None:
                self.posts_forwarded += 1
                self.post_sizes.append(len(post.events))
                hook = self.on_post
                if hook is not None:
                    hook(post)
                time.sleep(len(post.events) * self.seconds_per_event)
            upstream.settimeout(30)
            if cut:  # the OMS did the work; the answer is cut halfway through its head
                answer = b""
                while b"\r\n\r\n" not in answer:
                    chunk = upstream.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
                head = answer.partition(b"\r\n\r\n")[0]
                client.sendall(head[: max(1, len(head) // 2)])
                _rst(client)
                return
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
            client.close()
        finally:
            upstream.close()


# -- what a till holds, what the OMS booked ------------------------------------------------------


@dataclass
class TillView:
    terminal_id: str
    sales: dict[str, dict] = field(default_factory=dict)  # sale id -> header, lines, payments
    refunds: dict[str, dict] = field(default_factory=dict)
    training_receipts: set[str] = field(default_factory=set)
    outbox: dict[str, int] = field(default_factory=dict)
    outbox_seqs: list[int] = field(default_factory=list)
    stock_moved: dict[str, int] = field(default_factory=dict)  # sku -> signed change
    z: dict | None = None  # the closed shift's Z report figures


SALE_FIELDS = ("receipt_no", "subtotal", "discount_total", "rounding", "total", "tax_total")
LINE_FIELDS = (
    "line_id",
    "line_no",
    "sku",
    "unit",
    "qty",
    "weight_g",
    "unit_price",
    "gross",
    "discount",
    "total",
    "tax_code",
    "tax_amount",
)
REFUND_FIELDS = ("receipt_no", "sale_id", "total", "tax_total")


def till_view(till: Till) -> TillView:
    q = till.query
    view = TillView(terminal_id=till.setting("identity.terminal_id"))
    for row in q(f"SELECT id, {', '.join(SALE_FIELDS)} FROM sale WHERE training = 0"):
        view.sales[row[0]] = {
            **dict(zip(SALE_FIELDS, row[1:], strict=True)),
            "lines": [],
            "payments": [],
        }
    for row in q(
        "SELECT sale_id, id, line_no, sku, unit, qty, weight_g, unit_price, gross, "
        "promo_discount + line_discount + cart_discount, total, tax_code, tax_amount "
        "FROM sale_line ORDER BY sale_id, line_no"
    ):
        if row[0] in view.sales:
            view.sales[row[0]]["lines"].append(row[1:])
    for sale_id, tender, amount, reference in q(
        "SELECT sale_id, tender, amount, reference FROM payment WHERE sale_id IS NOT NULL"
    ):
        if sale_id in view.sales:
            view.sales[sale_id]["payments"].append((tender, amount, reference))
    view.training_receipts = {r[0] for r in q("SELECT receipt_no FROM sale WHERE training = 1")}
    for row in q(f"SELECT id, {', '.join(REFUND_FIELDS)} FROM refund WHERE training = 0"):
        view.refunds[row[0]] = {
            **dict(zip(REFUND_FIELDS, row[1:], strict=True)),
            "lines": [],
            "payments": [],
        }
    for refund_id, *rest in q(
        "SELECT refund_id, sale_line_id, qty, amount, tax_amount, restock FROM refund_line"
    ):
        if refund_id in view.refunds:
            view.refunds[refund_id]["lines"].append((*rest[:4], bool(rest[4])))
    for refund_id, tender, amount, reference in q(
        "SELECT refund_id, tender, amount, reference FROM payment WHERE refund_id IS NOT NULL"
    ):
        if refund_id in view.refunds:
            view.refunds[refund_id]["payments"].append((tender, -amount, reference))
    for entry in (*view.sales.values(), *view.refunds.values()):
        entry["lines"].sort()
        entry["payments"].sort(key=repr)
    view.outbox = till.outbox()
    view.outbox_seqs = [r[0] for r in q("SELECT seq FROM outbox ORDER BY seq")]
    view.stock_moved = dict(
        q(
            "SELECT p.sku, SUM(m.qty) FROM stock_movement m JOIN product p ON p.id = m.product_id "
            "WHERE m.cause IN ('sale', 'refund') GROUP BY p.sku"
        )
    )
    closed = q("SELECT id FROM shift WHERE closed_at IS NOT NULL ORDER BY z_number DESC LIMIT 1")
    if closed:
        view.z = z_report(till, closed[0][0])
    return view


def z_report(till: Till, shift_id: str) -> dict:
    """The closed shift's Z report, as `appliance.reports` makes it on the till."""
    from appliance.reports import shift_report
    from appliance.store.db import open_store

    database = open_store(till.db_path)
    try:
        r = shift_report(shift_id)
    finally:
        database.close()
    return {
        k: getattr(r, k)
        for k in (
            "kind",
            "z_number",
            "sales_count",
            "sales_total",
            "tax_total",
            "refunds_count",
            "refunds_total",
            "refunds_tax",
        )
    }


@dataclass
class OmsView:
    sales: dict[str, dict] = field(default_factory=dict)  # by the till's sale id
    numbers: list[str] = field(default_factory=list)  # every store order's number, as booked
    sale_ids: list[str] = field(default_factory=list)
    refunds: dict[str, dict] = field(default_factory=dict)  # by the till's refund id
    return_numbers: list[str] = field(default_factory=list)
    accepted_seqs: list[int] = field(default_factory=list)
    rejected: list[tuple] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    shift_closed: list[dict] = field(default_factory=list)


def oms_view(server, terminal_id: str) -> OmsView:
    """What the OMS holds from one terminal, read from its database."""
    from cloud_oms import ingest
    from cloud_oms.models.core import SyncEvent
    from cloud_oms.models.orders import Order, OrderLine, Payment, Return, ReturnLine

    view = OmsView()
    with server.bind():
        orders = list(
            Order.select().where((Order.terminal == terminal_id) & (Order.kind == "store"))
        )
        by_order = {}
        for o in orders:
            view.numbers.append(o.number)
            view.sale_ids.append(o.sale_id)
            by_order[o.id] = o.sale_id
            view.sales[o.sale_id] = {
                "receipt_no": o.number,
                "subtotal": o.subtotal,
                "discount_total": o.discount_total,
                "rounding": o.rounding,
                "total": o.total,
                "tax_total": o.tax_total,
                "lines": [],
                "payments": [],
            }
        line_ids = {}
        for ln in OrderLine.select().where(OrderLine.order.in_(list(by_order))):
            line_ids[ln.id] = ln.source_line_id
            view.sales[by_order[ln.order_id]]["lines"].append(
                (
                    ln.source_line_id,
                    ln.line_no,
                    ln.sku,
                    ln.unit,
                    ln.qty,
                    ln.weight_g,
                    ln.unit_price,
                    ln.gross,
                    ln.discount,
                    ln.total,
                    ln.tax_code,
                    ln.tax_amount,
                )
            )
        returns = list(Return.select().where(Return.order.in_(list(by_order))))
        by_return = {}
        for r in returns:
            view.return_numbers.append(r.number)
            by_return[r.id] = r.source_refund_id
            view.refunds[r.source_refund_id] = {
                "receipt_no": r.number,
                "sale_id": by_order[r.order_id],
                "total": r.amount,
                "tax_total": r.tax_amount,
                "lines": [],
                "payments": [],
            }
        for p in Payment.select().where(Payment.order.in_(list(by_order))):
            if p.kind == "payment":
                view.sales[by_order[p.order_id]]["payments"].append(
                    (p.method, p.amount, p.reference)
                )
            elif p.return_ref in by_return:
                view.refunds[by_return[p.return_ref]]["payments"].append(
                    (p.method, p.amount, p.reference)
                )
        for ret, order_line, qty, amount, tax, disposition in (
            ReturnLine.select(
                ReturnLine.ret,
                ReturnLine.order_line,
                ReturnLine.qty,
                ReturnLine.amount,
                ReturnLine.tax_amount,
                ReturnLine.disposition,
            )
            .where(ReturnLine.ret.in_(list(by_return)))
            .tuples()
        ):
            view.refunds[by_return[ret]]["lines"].append(
                (line_ids.get(order_line), qty, amount, tax, disposition == "restock")
            )
        for entry in (*view.sales.values(), *view.refunds.values()):
            entry["lines"].sort(key=repr)
            entry["payments"].sort(key=repr)
        for seq, outcome, reason, kind, body in (
            SyncEvent.select(
                SyncEvent.seq, SyncEvent.outcome, SyncEvent.reason, SyncEvent.type, SyncEvent.body
            )
            .where(SyncEvent.terminal == terminal_id)
            .tuples()
        ):
            if outcome == "accepted":
                view.accepted_seqs.append(seq)
                if kind == "shift.closed":
                    view.shift_closed.append(json.loads(bytes(body))["payload"])
            else:
                view.rejected.append((seq, kind, reason))
        view.accepted_seqs.sort()
        view.gaps = ingest.sequence_gaps(terminal_id)
    return view


def oms_stock(server) -> dict[str, int]:
    """On-hand stock per sku in the store."""
    from cloud_oms.models.core import Product, Store
    from cloud_oms.models.stock import StockLevel

    with server.bind():
        store = Store.get(Store.code == STORE)
        rows = (
            StockLevel.select(Product.sku, StockLevel.on_hand)
            .join(Product)
            .where(StockLevel.store == store.id)
            .tuples()
        )
        return dict(rows)


def enrol_code(server, store: str, name: str) -> str:
    from cloud_oms import admin
    from cloud_oms.models.core import Store

    with server.bind():
        if Store.get_or_none(Store.code == store) is None:
            admin.add_store(store, f"Toko {store}")
        _, code = admin.add_terminal(store, name)
    return code


def compare(name: str, till: TillView, oms: OmsView, limit: int = 12) -> list[str]:
    """Every way the OMS's rows for one terminal differ from the till's own, in words."""
    p: list[str] = []
    for what, values in (
        ("receipt number", oms.numbers),
        ("sale id", oms.sale_ids),
        ("refund number", oms.return_numbers),
    ):
        twice = [v for v, n in Counter(values).items() if n > 1]
        if twice:
            p.append(f"{name}: {len(twice)} {what}(s) booked more than once: {twice[:5]}")
    for kind, mine, theirs in (
        ("sale", till.sales, oms.sales),
        ("refund", till.refunds, oms.refunds),
    ):
        missing = sorted(mine[i]["receipt_no"] for i in set(mine) - set(theirs))
        extra = sorted(theirs[i]["receipt_no"] for i in set(theirs) - set(mine))
        if missing:
            p.append(f"{name}: {len(missing)} {kind}(s) missing in the OMS: {missing[:8]}")
        if extra:
            p.append(f"{name}: {len(extra)} {kind}(s) in the OMS the till never made: {extra[:8]}")
        for key in sorted(set(mine) & set(theirs)):
            a, b = mine[key], theirs[key]
            for f in a:
                if a[f] != b[f]:
                    p.append(f"{name}: {kind} {a['receipt_no']} {f}: till {a[f]!r}, OMS {b[f]!r}")
    booked_training = sorted(set(oms.numbers) & till.training_receipts)
    if booked_training:
        p.append(f"{name}: training sales reached the OMS: {booked_training[:5]}")
    if oms.accepted_seqs != till.outbox_seqs:
        p.append(
            f"{name}: OMS accepted {len(oms.accepted_seqs)} events (seq "
            f"{oms.accepted_seqs[:1]}..{oms.accepted_seqs[-1:]}), the till has "
            f"{len(till.outbox_seqs)} (seq {till.outbox_seqs[:1]}..{till.outbox_seqs[-1:]})"
        )
    if oms.gaps:
        p.append(f"{name}: sequence gaps at the OMS: {oms.gaps}")
    if oms.rejected:
        p.append(f"{name}: events rejected by the OMS: {oms.rejected[:5]}")
    if till.outbox["pending"] or till.outbox["quarantined"]:
        p.append(f"{name}: outbox not delivered: {till.outbox}")
    if len(p) > limit:
        p = [*p[:limit], f"... and {len(p) - limit} more"]
    return p


def stop_all(procs: list[Proc | None]) -> None:
    """Stop every process this test started (by its own handle), never by name."""
    threads = [threading.Thread(target=p.stop, args=(5,)) for p in procs if p and p.alive()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
