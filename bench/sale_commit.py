"""Completing a 5-line sale through the services vs the same rows written with raw sqlite3.

    .venv/bin/python bench/sale_commit.py [--rounds 20] [--per-round 40] [--dir /tmp]
    .venv/bin/python bench/sale_commit.py --profile      # where the service's time goes

Two stores made by `open_store` (same schema, same pragmas: WAL, synchronous=FULL, foreign
keys) in separate temp files, each with the same 5 products, staff and an open shift.

- service: per sale, a fresh `Cart` filled by `Cart.scan` of 5 barcodes (as the till does),
  then `checkout.complete_sale` with a cash tender. Only the `complete_sale` call is timed
  (the cart's time is printed apart, for information).
- raw: per sale, one `BEGIN IMMEDIATE … COMMIT` on a plain `sqlite3` connection with the same
  pragmas: receipt counter bump, 1 sale, 5 lines, 1 payment, the clock high-water mark, 5
  stock upserts, 5 stock movements, outbox counter bump, 1 outbox row holding the bytes of a
  real `sale.completed` event. Ids and timestamps are made before the clock starts: the raw
  side is the database's cost alone.

Rounds alternate (service first, then raw first) so that disk and CPU noise fall on both.
The last line is `ratio=<service time / raw time>`, the median over the rounds of each round's
ratio; the goal is <= 1.5.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance import shifts
from appliance.cart import Cart
from appliance.checkout import complete_sale
from appliance.config import Config
from appliance.staff import StaffInfo
from appliance.store.db import PRAGMAS, open_store
from appliance.store.models import Barcode, Product, Staff, StockLevel, db
from retail.barcodes import check_digit
from retail.ids import iso, token, utcnow, uuid7
from retail.pricing import TenderInput

LINES = 5
PRODUCTS = [  # sku, name, price, tax code
    ("IDM-GR", "Indomie Goreng", 3500, "PPN"),
    ("AQ-600", "Aqua 600ml", 4000, "PPN"),
    ("BRS-5", "Beras Premium 5kg", 75000, "FREE"),
    ("SBN-LB", "Sabun Lifebuoy 85g", 4500, "PPN"),
    ("KOPI-K", "Kopi Kapal Api 165g", 14500, "PPN"),
]
TENDER = [TenderInput("cash", 200_000)]


def barcode(i: int) -> str:
    body = f"89910011{i:04d}"
    return body + str(check_digit(body))


def make_store(path: Path) -> tuple[StaffInfo, list[dict]]:
    """A store with the products (stock 1,000,000 each), a cashier and an open shift."""
    database = open_store(path)
    config = Config(env={}, cli={"till.data_dir": str(path.parent)})
    config.attach_store()
    staff = StaffInfo(uuid7(), "Ani", "manager")
    Staff.create(id=staff.id, name=staff.name, role=staff.role, pin_hash="-")
    products = []
    now = iso(utcnow())
    for i, (sku, name, price, tax) in enumerate(PRODUCTS):
        pid = uuid7()
        Product.create(
            id=pid, sku=sku, name=name, price=price, tax_code=tax, unit="each", updated_at=now
        )
        Barcode.create(code=barcode(i), product=pid, pack_qty=1)
        StockLevel.create(product=pid, on_hand=1_000_000, updated_at=now)
        rate = {"PPN": (1200, 11, 12), "FREE": (0, 1, 1)}[tax]
        products.append(
            {"id": pid, "sku": sku, "name": name, "price": price, "tax": tax, "rate": rate}
        )
    shifts.open_shift(staff, 0, config)
    database.close()
    return staff, products


# -- the service side ---------------------------------------------------------------------------


class ServiceSide:
    def __init__(self, path: Path):
        self.staff, _ = make_store(path)
        self.database = open_store(path)
        self.config = Config(env={}, cli={"till.data_dir": str(path.parent)})
        self.config.attach_store()
        self.codes = [barcode(i) for i in range(LINES)]
        self.sale_time = 0.0
        self.cart_time = 0.0
        self.count = 0

    def cart(self) -> Cart:
        cart = Cart(self.config)
        for code in self.codes:
            cart.scan(code)
        return cart

    def run(self, n: int) -> float:
        clock = time.perf_counter
        spent = 0.0
        for _ in range(n):
            t0 = clock()
            cart = self.cart()
            t1 = clock()
            complete_sale(cart, TENDER, staff=self.staff, config=self.config)
            t2 = clock()
            self.cart_time += t1 - t0
            spent += t2 - t1
        self.sale_time += spent
        self.count += n
        return spent

    def sample_payload(self) -> bytes:
        return db.execute_sql(
            "SELECT payload FROM outbox WHERE type = 'sale.completed' ORDER BY seq LIMIT 1"
        ).fetchone()[0]


# -- the raw side -------------------------------------------------------------------------------

BUMP = "UPDATE counter SET value = value + 1 WHERE name = ? RETURNING value"
SALE = (
    'INSERT INTO "sale" ("id", "receipt_no", "receipt_seq", "shift_id", "staff_id", '
    '"customer_id", "created_at", "subtotal", "discount_total", "cart_discount", '
    '"cart_discount_label", "rounding", "total", "tax_total", "prices_include_tax", '
    '"training", "ereceipt_token") VALUES (?,?,?,?,?,NULL,?,?,0,0,NULL,?,?,?,1,0,?)'
)
LINE = (
    'INSERT INTO "sale_line" ("id", "sale_id", "line_no", "product_id", "sku", "barcode", '
    '"name", "unit", "qty", "weight_g", "unit_price", "price_overridden", "gross", '
    '"promo_discount", "line_discount", "cart_discount", "total", "tax_code", "tax_rate_bp", '
    '"tax_base_num", "tax_base_den", "tax_amount", "tax_base", "net", "promotion", '
    "\"refunded_qty\") VALUES (?,?,?,?,?,?,?,'each',1,NULL,?,0,?,0,0,0,?,?,?,?,?,?,?,?,NULL,0)"
)
PAYMENT = (
    'INSERT INTO "payment" ("id", "shift_id", "sale_id", "tender", "amount", "tendered", '
    '"change", "reference", "training") VALUES (?,?,?,\'cash\',?,?,?,NULL,0)'
)
CLOCK = "UPDATE counter SET value = MAX(value, ?) WHERE name = 'clock_high_ms'"
STOCK = (
    'INSERT INTO "stock_level" ("product_id", "on_hand", "reserved", "updated_at") '
    'VALUES (?, -1, 0, ?) ON CONFLICT ("product_id") DO UPDATE SET '
    '"on_hand" = "on_hand" + excluded."on_hand", "updated_at" = excluded."updated_at"'
)
MOVE = (
    'INSERT INTO "stock_movement" ("product_id", "qty", "cause", "ref", "created_at") '
    "VALUES (?, -1, 'sale', ?, ?)"
)
OUTBOX = (
    'INSERT INTO "outbox" ("seq", "id", "type", "payload", "created_at", "state", "attempts") '
    "VALUES (?, ?, 'sale.completed', ?, ?, 'pending', 0)"
)


class RawSide:
    def __init__(self, path: Path, made: tuple[StaffInfo, list[dict]], payload: bytes):
        self.staff, self.products = made
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        for name, value in PRAGMAS.items():
            self.conn.execute(f"PRAGMA {name} = {value}")
        self.shift_id = self.conn.execute(
            "SELECT id FROM shift WHERE closed_at IS NULL"
        ).fetchone()[0]
        self.payload = payload
        self.sale_time = 0.0
        self.count = 0

    def prepare(self) -> tuple:
        """Ids, times and amounts of one sale, made before the clock starts."""
        lines = []
        for p in self.products:
            rate, num, den = p["rate"]
            tax = (p["price"] * rate * num) // (den * 10000 + rate * num)
            lines.append((p, uuid7(), tax))
        total = sum(p["price"] for p, _, _ in lines)
        return (
            uuid7(),
            uuid7(),
            iso(utcnow()),
            int(time.time() * 1000),
            token(16),
            lines,
            total,
        )

    def run(self, n: int) -> float:
        clock = time.perf_counter
        conn = self.conn
        shift_id, staff_id, payload = self.shift_id, self.staff.id, self.payload
        spent = 0.0
        for _ in range(n):
            sale_id, payment_id, created, now_ms, ereceipt, lines, total = self.prepare()
            cash_due = (total + 50) // 100 * 100
            t0 = clock()
            conn.execute("BEGIN IMMEDIATE")
            seq = conn.execute(BUMP, ("receipt_seq",)).fetchone()[0]
            receipt_no = f"{seq:06d}"
            conn.execute(
                SALE,
                (
                    sale_id,
                    receipt_no,
                    seq,
                    shift_id,
                    staff_id,
                    created,
                    total,
                    cash_due - total,
                    cash_due,
                    sum(tax for _, _, tax in lines),
                    ereceipt,
                ),
            )
            conn.executemany(
                LINE,
                [
                    (
                        line_id,
                        sale_id,
                        no,
                        p["id"],
                        p["sku"],
                        None,
                        p["name"],
                        p["price"],
                        p["price"],
                        p["price"],
                        p["tax"],
                        *p["rate"],
                        tax,
                        p["price"] - tax,
                        p["price"] - tax,
                    )
                    for no, (p, line_id, tax) in enumerate(lines, 1)
                ],
            )
            conn.execute(
                PAYMENT, (payment_id, shift_id, sale_id, cash_due, 200_000, 200_000 - cash_due)
            )
            conn.execute(CLOCK, (now_ms,))
            conn.executemany(STOCK, [(p["id"], created) for p, _, _ in lines])
            conn.executemany(MOVE, [(p["id"], receipt_no, created) for p, _, _ in lines])
            event_seq = conn.execute(BUMP, ("outbox_seq",)).fetchone()[0]
            conn.execute(OUTBOX, (event_seq, sale_id, payload, created))
            conn.execute("COMMIT")
            spent += clock() - t0
        self.sale_time += spent
        self.count += n
        return spent


def check_same_rows(service: ServiceSide, raw: RawSide) -> None:
    """Both sides must have written the same number of rows per table, or the race is unfair."""
    tables = ("sale", "sale_line", "payment", "stock_movement", "outbox", "stock_level")
    ours = {t: db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    theirs = {t: raw.conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    if ours != theirs:
        raise SystemExit(f"the two sides wrote different rows: service {ours}, raw {theirs}")


def profile(service: ServiceSide, n: int) -> None:
    carts = [service.cart() for _ in range(n)]
    profiler = cProfile.Profile()
    profiler.enable()
    for cart in carts:
        complete_sale(cart, TENDER, staff=service.staff, config=service.config)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=40)
    parser.add_argument("--dir", default=None, help="where the two temp stores go")
    parser.add_argument("--profile", action="store_true", help="cProfile the service side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        (tmp / "service").mkdir()
        (tmp / "raw").mkdir()
        raw_path = tmp / "raw" / "kasir.sqlite3"
        # The raw store is made first (open_store binds the models to the last one opened).
        made = make_store(raw_path)
        service = ServiceSide(tmp / "service" / "kasir.sqlite3")
        service.run(10)  # warm up: first-use imports, the terminal id
        raw = RawSide(raw_path, made, service.sample_payload())
        raw.run(10)
        service.sale_time = service.cart_time = raw.sale_time = 0.0
        service.count = raw.count = 0
        if args.profile:
            profile(service, args.per_round * 5)
            return
        round_ratios = []
        for r in range(args.rounds):
            if r % 2 == 0:
                s = service.run(args.per_round)
                w = raw.run(args.per_round)
            else:
                w = raw.run(args.per_round)
                s = service.run(args.per_round)
            round_ratios.append(s / w)
        check_same_rows(service, raw)
        per_service = service.sale_time / service.count
        per_raw = raw.sale_time / raw.count
        print(f"store files in {tmp} (WAL, synchronous=FULL, foreign_keys=ON)")
        print(f"{args.rounds} interleaved rounds x {args.per_round} sales of {LINES} lines each")
        print(
            f"service complete_sale: {1 / per_service:8.0f} sales/s  "
            f"{per_service * 1e3:.3f} ms/sale  (cart of {LINES} scans, not timed in the ratio: "
            f"{service.cart_time / service.count * 1e3:.3f} ms)"
        )
        print(f"raw sqlite3 same rows: {1 / per_raw:8.0f} sales/s  {per_raw * 1e3:.3f} ms/sale")
        print(f"ratio of the totals: {per_service / per_raw:.2f}")
        # Each round's two halves ran back to back, so their ratio shares the machine's mood;
        # the median of those ratios is the figure least moved by other work on the machine.
        print(f"ratio={statistics.median(round_ratios):.2f}")


if __name__ == "__main__":
    main()
