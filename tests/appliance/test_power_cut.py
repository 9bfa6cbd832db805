"""Power cuts: a sale is wholly there or wholly absent, and no number is ever skipped.

`test_sigkill_at_random_moments` kills a process that sells through the services
(`_sale_writer.py`) at random moments, again and again on the same store, and after each kill
checks the file (integrity, foreign keys, gap-free counters); every few kills, and at the end,
it checks every stored sale, refund and event against the rows and against what the writer
meant to store. `test_interrupted_sale_leaves_nothing` breaks a sale at every write inside its
transaction in turn and checks that the store is byte-for-byte what it was.

Set KASIR_POWER_CUT_SEED to replay a run; a failure names the seed it used.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from appliance import identity
from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.store.db import peek_number
from appliance.store.models import db
from retail.barcodes import DEFAULT_LAYOUTS, make_variable
from retail.pricing import Discount, TenderInput
from retail.schema import Event
from tests.appliance.tillkit import ean

WRITER = Path(__file__).with_name("_sale_writer.py")
KILLS = 60
FULL_CHECK_EVERY = 15


# -- reading the store ---------------------------------------------------------------------------


def rows(sql: str, params=()) -> list[dict]:
    cursor = db.execute_sql(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def grouped(sql: str, key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows(sql):
        out[r[key]].append(r)
    return out


def stock_levels() -> dict[str, int]:
    return dict(db.execute_sql("SELECT product_id, on_hand FROM stock_level").fetchall())


def contiguous(name: str, numbers: list[int], counter: str) -> list[str]:
    """Problems if `numbers` is not exactly 1..N with N the counter's value."""
    top = peek_number(counter)
    if sorted(numbers) == list(range(1, top + 1)):
        return []
    missing = sorted(set(range(1, top + 1)) - set(numbers))[:10]
    dupes = sorted(n for n, c in Counter(numbers).items() if c > 1)[:10]
    return [f"{name}: {len(numbers)} numbers, counter {top}, missing {missing}, twice {dupes}"]


def quick_check() -> list[str]:
    """What must hold after every cut: an intact file and gap-free numbers."""
    problems = []
    integrity = db.execute_sql("PRAGMA integrity_check").fetchall()
    if integrity != [("ok",)]:
        problems.append(f"integrity_check: {integrity[:5]}")
    broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        problems.append(f"foreign_key_check: {broken[:5]}")
    seqs = [
        r[0]
        for r in db.execute_sql(
            "SELECT receipt_seq FROM sale WHERE training = 0 "
            "UNION ALL SELECT receipt_seq FROM refund WHERE training = 0"
        )
    ]
    problems += contiguous("receipt numbers (sales and refunds)", seqs, "receipt_seq")
    trn = [r[0] for r in db.execute_sql("SELECT receipt_seq FROM sale WHERE training = 1")]
    problems += contiguous("training receipt numbers", trn, "training_receipt_seq")
    outbox = [r[0] for r in db.execute_sql("SELECT seq FROM outbox")]
    problems += contiguous("outbox sequence", outbox, "outbox_seq")
    z = [r[0] for r in db.execute_sql("SELECT z_number FROM shift WHERE closed_at IS NOT NULL")]
    problems += contiguous("Z numbers", z, "z_number")
    open_shifts = db.execute_sql("SELECT COUNT(*) FROM shift WHERE closed_at IS NULL").fetchone()
    if open_shifts[0] > 1:
        problems.append(f"{open_shifts[0]} shifts open at once")
    return problems


# -- what the writer meant to store ---------------------------------------------------------------


def read_intents(path: Path) -> tuple[dict, dict, list[str]]:
    """intents by key, done records by key, and the last intent key of each run."""
    intents, done, last_of_run = {}, {}, {}
    if path.exists():
        for text in path.read_text().splitlines():
            record = json.loads(text)
            if "done" in record:
                done[record["done"]] = record
            else:
                intents[record["key"]] = record
                last_of_run[record["run"]] = record["key"]
    return intents, done, list(last_of_run.values())


def stock_moved(line: dict) -> int:
    """What a sale line takes out of stock: units, or grams for weighed items (a price label's
    weight follows from its price)."""
    if line["unit"] != "kg":
        return line["qty"]
    if line["weight_g"] is not None:
        return line["weight_g"]
    return max(1, round(line["gross"] * 1000 / line["unit_price"]))


# -- the full check --------------------------------------------------------------------------------


def check_sale(sale, lines, payments, moves, event_row, intent, done) -> list[str]:
    p = []
    name = f"sale {sale['receipt_no']}"
    if not lines:
        return [f"{name}: no lines"]
    if [x["line_no"] for x in lines] != list(range(1, len(lines) + 1)):
        p.append(f"{name}: line numbers {[x['line_no'] for x in lines]}")
    if sum(x["total"] for x in lines) + sale["rounding"] != sale["total"]:
        p.append(f"{name}: lines {sum(x['total'] for x in lines)} + rounding != {sale['total']}")
    if sum(x["gross"] for x in lines) != sale["subtotal"]:
        p.append(f"{name}: lines' gross does not add up to the subtotal")
    if sum(x["tax_amount"] for x in lines) != sale["tax_total"]:
        p.append(f"{name}: lines' tax does not add up to the tax total")
    discounts = sum(x["promo_discount"] + x["line_discount"] + x["cart_discount"] for x in lines)
    if discounts != sale["discount_total"]:
        p.append(f"{name}: lines' discounts {discounts} != {sale['discount_total']}")
    if sum(x["amount"] for x in payments) != sale["total"]:
        p.append(f"{name}: payments {[x['amount'] for x in payments]} != total {sale['total']}")
    if intent is None:
        p.append(f"{name}: no intent of the writer has line {lines[0]['id']}")
    else:
        if sorted(intent["lines"]) != sorted(x["id"] for x in lines):
            p.append(f"{name}: {len(lines)} lines stored, {len(intent['lines'])} meant")
        if intent["total"] != sale["total"]:
            p.append(f"{name}: total {sale['total']}, meant {intent['total']}")
        meant = sorted((t, a, r) for t, a, r in intent["payments"])
        stored = sorted((x["tender"], x["amount"], x["reference"]) for x in payments)
        if meant != stored:
            p.append(f"{name}: payments {stored}, meant {meant}")
        if bool(intent["training"]) != bool(sale["training"]):
            p.append(f"{name}: training flag {sale['training']}, meant {intent['training']}")
        if done is not None and (done["receipt"], done["id"]) != (sale["receipt_no"], sale["id"]):
            p.append(f"{name}: the writer was told {done['receipt']} {done['id']}")
    if sale["training"]:
        if not sale["receipt_no"].startswith(identity.TRAINING_PREFIX):
            p.append(f"{name}: a training sale outside the TRN- series")
        if moves or event_row is not None:
            p.append(f"{name}: a training sale moved stock or entered the outbox")
        return p
    expected = sorted((x["product_id"], -stock_moved(x)) for x in lines if x["product_id"])
    if sorted((m["product_id"], m["qty"]) for m in moves) != expected:
        p.append(f"{name}: stock movements {moves} for lines expecting {expected}")
    if event_row is None:
        return [*p, f"{name}: no outbox event"]
    event = Event.model_validate_json(event_row["payload"])
    ev = event.payload
    if (event.seq, event.type, ev.type) != (event_row["seq"], "sale.completed", "sale.completed"):
        p.append(f"{name}: event seq/type {event.seq} {event.type} in row {event_row['seq']}")
    if ev.prices_include_tax != bool(sale["prices_include_tax"]):
        p.append(f"{name}: event prices_include_tax differs from the sale's")
    for field in ("receipt_no", "receipt_seq", "shift_id", "staff_id", "staff_name", "customer_id"):
        if getattr(ev, field) != sale[field]:
            p.append(f"{name}: event {field} {getattr(ev, field)!r} != {sale[field]!r}")
    for field in ("subtotal", "discount_total", "rounding", "total", "tax_total"):
        if getattr(ev, field) != sale[field]:
            p.append(f"{name}: event {field} {getattr(ev, field)} != {sale[field]}")
    if (ev.sale_id, ev.ereceipt_token) != (sale["id"], sale["ereceipt_token"]):
        p.append(f"{name}: event names another sale or e-receipt")
    wire_lines = [
        (
            w.line_id,
            w.line_no,
            w.product_id,
            w.sku,
            w.barcode,
            w.name,
            w.unit,
            w.qty,
            w.weight_g,
            w.unit_price,
            w.gross,
            w.promo_discount,
            w.line_discount,
            w.cart_discount,
            w.total,
            w.tax.code,
            w.tax.rate_bp,
            w.tax.base_num,
            w.tax.base_den,
            w.tax_amount,
            w.tax_base,
            w.net,
            w.promotion,
        )
        for w in ev.lines
    ]
    row_lines = [
        (
            x["id"],
            x["line_no"],
            x["product_id"],
            x["sku"],
            x["barcode"],
            x["name"],
            x["unit"],
            x["qty"],
            x["weight_g"],
            x["unit_price"],
            x["gross"],
            x["promo_discount"],
            x["line_discount"],
            x["cart_discount"],
            x["total"],
            x["tax_code"],
            x["tax_rate_bp"],
            x["tax_base_num"],
            x["tax_base_den"],
            x["tax_amount"],
            x["tax_base"],
            x["net"],
            x["promotion"],
        )
        for x in lines
    ]
    if wire_lines != row_lines:
        p.append(f"{name}: event lines differ from the stored lines")
    wire_pay = sorted(
        (w.payment_id, w.tender, w.amount, w.tendered, w.change, w.reference) for w in ev.payments
    )
    row_pay = sorted(
        (x["id"], x["tender"], x["amount"], x["tendered"], x["change"], x["reference"])
        for x in payments
    )
    if wire_pay != row_pay:
        p.append(f"{name}: event payments {wire_pay} != stored {row_pay}")
    return p


def check_refund(refund, lines, payments, moves, event_row, intent, done) -> list[str]:
    p = []
    name = f"refund {refund['receipt_no']}"
    if not lines:
        return [f"{name}: no lines"]
    if sum(x["amount"] for x in lines) + refund["rounding"] != refund["total"]:
        p.append(f"{name}: lines + rounding != total {refund['total']}")
    if sum(x["tax_amount"] for x in lines) != refund["tax_total"]:
        p.append(f"{name}: lines' tax != {refund['tax_total']}")
    if -sum(x["amount"] for x in payments) != refund["total"]:
        p.append(f"{name}: paid back {[x['amount'] for x in payments]}, total {refund['total']}")
    if intent is None:
        p.append(f"{name}: no intent of the writer has reason {refund['reason']!r}")
    else:
        stored = sorted([x["line_no"], x["qty"]] for x in lines)
        if stored != sorted(intent["lines"]) or intent["sale"] != refund["sale_receipt_no"]:
            p.append(f"{name}: {stored} of {refund['sale_receipt_no']}, meant {intent}")
        if done is not None and (done["receipt"], done["id"]) != (
            refund["receipt_no"],
            refund["id"],
        ):
            p.append(f"{name}: the writer was told {done['receipt']} {done['id']}")
    restocked = sorted(x["product_id"] for x in lines if x["restock"] and x["product_id"])
    if sorted(m["product_id"] for m in moves) != restocked or any(m["qty"] < 1 for m in moves):
        p.append(f"{name}: restock movements {moves} for restocked lines {restocked}")
    units = {x["product_id"]: x["qty"] for x in lines if x["restock"] and x["unit"] == "each"}
    for m in moves:
        if m["product_id"] in units and m["qty"] != units[m["product_id"]]:
            p.append(f"{name}: restocked {m['qty']} of {m['product_id']}, refunded {units}")
    if event_row is None:
        return [*p, f"{name}: no outbox event"]
    event = Event.model_validate_json(event_row["payload"])
    ev = event.payload
    if (event.seq, ev.type, event.depends_on) != (
        event_row["seq"],
        "sale.refunded",
        [refund["sale_id"]],
    ):
        p.append(f"{name}: event seq/type/depends_on {event.seq} {ev.type} {event.depends_on}")
    for field, column in (
        ("refund_id", "id"),
        ("sale_id", "sale_id"),
        ("sale_receipt_no", "sale_receipt_no"),
        ("receipt_no", "receipt_no"),
        ("receipt_seq", "receipt_seq"),
        ("shift_id", "shift_id"),
        ("rounding", "rounding"),
        ("total", "total"),
        ("tax_total", "tax_total"),
        ("reason", "reason"),
    ):
        if getattr(ev, field) != refund[column]:
            p.append(f"{name}: event {field} {getattr(ev, field)!r} != {refund[column]!r}")
    wire = sorted((w.sale_line_id, w.line_no, w.qty, w.amount, w.tax_amount) for w in ev.lines)
    stored = sorted(
        (x["sale_line_id"], x["line_no"], x["qty"], x["amount"], x["tax_amount"]) for x in lines
    )
    if wire != stored:
        p.append(f"{name}: event lines {wire} != stored {stored}")
    wire_pay = sorted((w.payment_id, w.tender, w.amount) for w in ev.payments if w.amount)
    row_pay = sorted((x["id"], x["tender"], -x["amount"]) for x in payments)
    if wire_pay != row_pay:
        p.append(f"{name}: event payments {wire_pay} != stored {row_pay}")
    return p


def full_check(intents_path: Path, initial_stock: dict[str, int]) -> tuple[list[str], dict]:
    intents, done, last_of_run = read_intents(intents_path)
    intent_of_line = {key: i for i in intents.values() if i["kind"] == "sale" for key in i["lines"]}
    problems = quick_check()
    sales = rows(
        "SELECT s.*, st.name AS staff_name FROM sale s JOIN staff st ON st.id = s.staff_id"
    )
    lines = grouped("SELECT * FROM sale_line ORDER BY sale_id, line_no", "sale_id")
    sale_pay = grouped("SELECT * FROM payment WHERE sale_id IS NOT NULL", "sale_id")
    refund_pay = grouped("SELECT * FROM payment WHERE refund_id IS NOT NULL", "refund_id")
    moves = grouped("SELECT cause || ' ' || ref AS k, * FROM stock_movement", "k")
    events = {r["id"]: r for r in rows("SELECT seq, id, type, payload FROM outbox")}
    refunds = rows(
        "SELECT r.*, s.receipt_no AS sale_receipt_no FROM refund r JOIN sale s ON s.id = r.sale_id"
    )
    refund_lines = grouped(
        "SELECT rl.*, sl.line_no, sl.product_id, sl.unit FROM refund_line rl "
        "JOIN sale_line sl ON sl.id = rl.sale_line_id ORDER BY sl.line_no",
        "refund_id",
    )
    stored_keys = set()
    for sale in sales:
        sale_lines = lines.get(sale["id"], [])
        intent = intent_of_line.get(sale_lines[0]["id"]) if sale_lines else None
        if intent is not None:
            stored_keys.add(intent["key"])
        problems += check_sale(
            sale,
            sale_lines,
            sale_pay.get(sale["id"], []),
            moves.get(f"sale {sale['receipt_no']}", []),
            events.get(sale["id"]),
            intent,
            done.get(intent["key"]) if intent else None,
        )
    for refund in refunds:
        intent = intents.get(refund["reason"])
        if intent is not None:
            stored_keys.add(intent["key"])
        problems += check_refund(
            refund,
            refund_lines.get(refund["id"], []),
            refund_pay.get(refund["id"], []),
            moves.get(f"refund {refund['receipt_no']}", []),
            events.get(refund["id"]),
            intent,
            done.get(refund["reason"]),
        )
    refunded = Counter()
    for group in refund_lines.values():
        for x in group:
            refunded[x["sale_line_id"]] += x["qty"]
    for group in lines.values():
        for x in group:
            if x["refunded_qty"] != refunded[x["id"]]:
                problems.append(f"line {x['id']}: refunded_qty {x['refunded_qty']}, refund lines")
    # Everything the writer was told is stored; what it was not told is only its last act.
    for key in done:
        if key not in stored_keys:
            problems.append(f"{key}: the service returned, but the store does not have it")
    last = set(last_of_run)
    for key in intents:
        if key not in done and key not in last:
            problems.append(f"{key}: neither done nor the writer's last act before a kill")
    # The outbox holds exactly the real events.
    by_type = defaultdict(set)
    for r in events.values():
        event = Event.model_validate_json(r["payload"])
        if (event.id, event.seq, event.type) != (r["id"], r["seq"], r["type"]):
            problems.append(f"outbox {r['seq']}: row and bytes disagree")
        key = getattr(event.payload, "shift_id", event.id)
        by_type[r["type"]].add(event.id if r["type"].startswith("sale.") else key)
    real_sales = {s["id"] for s in sales if not s["training"]}
    if by_type["sale.completed"] != real_sales:
        problems.append("sale.completed events and real sales differ")
    if by_type["sale.refunded"] != {r["id"] for r in refunds}:
        problems.append("sale.refunded events and refunds differ")
    shifts = rows("SELECT id, closed_at FROM shift")
    if by_type["shift.opened"] != {s["id"] for s in shifts}:
        problems.append("shift.opened events and shifts differ")
    if by_type["shift.closed"] != {s["id"] for s in shifts if s["closed_at"]}:
        problems.append("shift.closed events and closed shifts differ")
    audited = {
        json.loads(r["detail"])["refund"]
        for r in rows("SELECT detail FROM audit WHERE action = 'refund'")
    }
    if audited != {r["receipt_no"] for r in refunds}:
        problems.append("refund audit entries and refunds differ")
    # Stock on hand is the starting figure plus its ledger.
    ledger = dict(
        db.execute_sql("SELECT product_id, SUM(qty) FROM stock_movement GROUP BY product_id")
    )
    levels = stock_levels()
    for product in set(levels) | set(ledger):
        on_hand = levels.get(product)
        if on_hand != initial_stock.get(product, 0) + ledger.get(product, 0):
            problems.append(f"stock of {product}: {on_hand} != start + ledger")
    stats = {
        "sales": len(real_sales),
        "training": len(sales) - len(real_sales),
        "refunds": len(refunds),
        "shifts": len(shifts),
        "events": len(events),
        "lines": sum(len(g) for g in lines.values()),
        "cut_mid_act": sum(1 for key in last if key not in done),
    }
    return problems, stats


# -- the writer process --------------------------------------------------------------------------


class Lines:
    """Reads whole lines from a pipe with a deadline."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buffer = b""

    def readline(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


@pytest.fixture
def writer(tmp_path):
    errors = tmp_path / "writer.stderr"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(tmp_path), str(tmp_path / "intents.jsonl")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        yield proc, Lines(proc.stdout), errors
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_sigkill_at_random_moments(tmp_path, store, people, catalog, config, writer):
    seed = int(os.environ.get("KASIR_POWER_CUT_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    proc, out, errors = writer
    initial = stock_levels()
    assert initial, "the catalog fixture gives products a starting stock"
    store.close()  # the writer opens the file alone, as the till does after a power cut
    stats = {}
    for run in range(1, KILLS + 1):
        proc.stdin.write(f"{run} {rng.randrange(2**32)}\n".encode())
        proc.stdin.flush()
        ready = out.readline(timeout=60)
        assert ready and ready.startswith(f"ready {run} "), (
            f"seed {seed} run {run}: the writer did not start: {ready!r}\n{errors.read_text()}"
        )
        pid = int(ready.split()[2])
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(pid, signal.SIGKILL)
        ended = out.readline(timeout=60)
        assert ended and ended.startswith(f"exit {pid} "), f"seed {seed}: {ended!r}"
        status = int(ended.split()[2])
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
            f"seed {seed} run {run}: the writer stopped by itself before the kill "
            f"(status {status}):\n{errors.read_text()}"
        )
        store.connect()
        try:
            if run % FULL_CHECK_EVERY == 0 or run == KILLS:
                problems, stats = full_check(tmp_path / "intents.jsonl", initial)
            else:
                problems = quick_check()
        finally:
            store.close()
        assert not problems, f"seed {seed}, after kill {run}:\n" + "\n".join(problems[:30])
    # The run must really have sold, refunded and changed shifts, and most kills must have
    # landed in the middle of a sale or refund, or the checks above prove little.
    assert stats["sales"] >= KILLS * 5, stats
    assert stats["refunds"] >= KILLS // 2, stats
    assert stats["training"] >= 1 and stats["shifts"] >= 2, stats
    assert stats["cut_mid_act"] >= KILLS // 3, stats
    print(f"seed {seed}: {stats}")


# -- a sale broken inside its transaction ----------------------------------------------------------


class Interrupted(RuntimeError):
    pass


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT")


class Trap:
    """Stands in for the store's `cursor()`: counts every row written (one per statement, one
    per row of an `executemany`) and the COMMIT, and raises Interrupted at the `at`-th."""

    def __init__(self, database, at: int | None = None):
        self.real = database.cursor
        self.at = at
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count == self.at:
            raise Interrupted(f"cut at write {self.at}")

    def cursor(self, *args, **kwargs):
        return _TrapCursor(self.real(*args, **kwargs), self)


class _TrapCursor:
    def __init__(self, cursor, trap: Trap):
        self._cursor = cursor
        self._trap = trap

    def execute(self, sql, params=()):
        if sql.lstrip().upper().startswith(WRITES):
            self._trap.tick()
        self._cursor.execute(sql, params)
        return self

    def executemany(self, sql, seq):
        def ticking():
            for row in seq:
                self._trap.tick()
                yield row

        self._cursor.executemany(sql, ticking())
        return self

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


def snapshot() -> dict[str, list]:
    tables = [
        r[0]
        for r in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: db.execute_sql(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def three_line_cart(config) -> Cart:
    cart = Cart(config)
    cart.scan(ean("899100110001"), qty=2)
    cart.add_sku("AQ-600", qty=3)
    cart.scan(make_variable(DEFAULT_LAYOUTS[0], "123", 1250))
    cart.discount_cart(Discount("percent", 500))
    return cart


SPLIT = [TenderInput("card", 20000, "APPR01"), TenderInput("cash", 100000)]


def test_interrupted_sale_leaves_nothing(store, people, catalog, shift, config, monkeypatch):
    _, cashier = people
    identity.load()  # the terminal id is made once, outside any sale
    counting = Trap(store)
    monkeypatch.setattr(store, "cursor", counting.cursor)
    first = complete_sale(three_line_cart(config), SPLIT, staff=cashier, config=config)
    monkeypatch.setattr(store, "cursor", counting.real)
    writes = counting.count
    # receipt and outbox counters, sale, 3 lines, 2 payments, clock, 3 stock levels and 3
    # movements, the event, the commit: a cut must be tried at each of them.
    assert writes >= 17, writes
    for at in range(1, writes + 1):
        cart = three_line_cart(config)
        before = snapshot()
        monkeypatch.setattr(store, "cursor", Trap(store, at).cursor)
        with pytest.raises(Interrupted):
            complete_sale(cart, SPLIT, staff=cashier, config=config)
        monkeypatch.setattr(store, "cursor", counting.real)
        assert not db.in_transaction(), f"cut at write {at} left a transaction open"
        after = snapshot()
        changed = [t for t in before if before[t] != after[t]]
        assert not changed, f"a sale cut at write {at} of {writes} left rows in {changed}"
    done = complete_sale(three_line_cart(config), SPLIT, staff=cashier, config=config)
    assert (first.receipt_no, done.receipt_no) == ("000001", "000002")
    assert done.event_seq == first.event_seq + 1
    assert db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 2
