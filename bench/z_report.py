"""The Z report of a 2,000-line shift in a store holding a million sale lines, through the
service vs the same aggregates written by hand with raw sqlite3.

    .venv/bin/python bench/z_report.py [--rounds 15] [--per-round 10] [--rebuild]

The store has the real schema (made by `open_store`, no ANALYZE, as on a till) and 500 closed
shifts of 400 sales x 5 lines (200,000 sales, 1,000,000 lines), with split payments, training
sales, refunds, cash movements and audit entries. It is generated with raw `executemany` once
and kept in the temp directory under a name keyed by the schema (the migrations' SQL) and
this generator's version, so reruns start at once; `--rebuild` makes it again.

- service: `appliance.reports.shift_report(last shift)` on the store opened by `open_store`.
- raw: a plain `sqlite3` connection with the same pragmas, running the aggregates a person
  would write by hand for the same figures (one pass over the shift's lines for the tax,
  discount and item totals, then best sellers, tenders, refunds, cash, voids).

Both give the same figures (checked). Rounds alternate which side goes first, after a warm-up
of both; the last line is `ratio=<service time / raw time>`; the goal is <= 1.5.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.reports import shift_report
from appliance.store import migrations
from appliance.store.db import PRAGMAS, open_store

GENERATOR_VERSION = 1
SHIFTS = 500
SALES_PER_SHIFT = 400
LINES_PER_SALE = 5
PRODUCTS = 5000
START_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
SHIFT_MS = 8 * 3600 * 1000
TAXES = {"PPN": (1200, 11, 12), "LUX": (1200, 1, 1), "FREE": (0, 1, 1)}


def schema_key() -> str:
    text = repr([(v, s if isinstance(s, list) else s.__name__) for v, s in migrations.MIGRATIONS])
    digest = hashlib.sha256(f"{GENERATOR_VERSION}:{text}".encode()).hexdigest()[:12]
    return f"v{migrations.LATEST}-{digest}"


def cached_path() -> Path:
    return Path(tempfile.gettempdir()) / f"kasir-bench-z-report-{schema_key()}.sqlite3"


# -- building the store ---------------------------------------------------------------------------


class Ids:
    """UUIDv7-shaped ids in birth order, made fast (a real uuid7() per row would dominate)."""

    def __init__(self):
        self.n = 0

    def __call__(self, ms: int) -> str:
        self.n += 1
        h = f"{ms:012x}7{self.n & 0xFFF:03x}{0x8000 | (self.n >> 12) & 0x3FFF:04x}{self.n:012x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iso_ms(ms: int) -> str:
    seconds, milli = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{milli:03d}Z"


def half_up(n: int, d: int) -> int:
    return (2 * n + d) // (2 * d)


def build(path: Path) -> None:
    """Generate the store at `path` (a new file)."""
    started = time.perf_counter()
    database = open_store(path)  # the real schema, seeded, in WAL
    database.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")
    rng = random.Random(20250101)
    ids = Ids()
    now = iso_ms(START_MS)
    conn.execute("BEGIN")
    staff = [(ids(START_MS), f"Staff {i}", "manager" if i < 2 else "cashier") for i in range(8)]
    conn.executemany(
        "INSERT INTO staff (id, name, role, pin_hash, active, failed_attempts) "
        "VALUES (?, ?, ?, '-', 1, 0)",
        staff,
    )
    products = []
    for i in range(PRODUCTS):
        tax = rng.choices(("PPN", "FREE", "LUX"), (80, 17, 3))[0]
        unit = "kg" if i % 50 == 0 else "each"
        price = rng.randrange(1000, 150_000, 500)
        products.append((ids(START_MS), f"SKU-{i:05d}", f"Produk {i:05d}", price, tax, unit))
    conn.executemany(
        "INSERT INTO product (id, sku, name, price, tax_code, unit, active, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
        [(*p, now) for p in products],
    )
    popular = products[:400]  # most lines sell from a few hundred products, as in a shop
    receipt_seq = training_seq = 0
    for shift_no in range(1, SHIFTS + 1):
        t0 = START_MS + (shift_no - 1) * SHIFT_MS
        opener = rng.choice(staff)[0]
        shift_id = ids(t0)
        sales, lines, payments, refunds, refund_lines = [], [], [], [], []
        cash_moves, audits = [], []
        for s in range(SALES_PER_SHIFT):
            ms = t0 + 60_000 + s * (SHIFT_MS - 120_000) // SALES_PER_SHIFT
            created = iso_ms(ms)
            sale_id = ids(ms)
            training = rng.random() < 0.01
            if training:
                training_seq += 1
                seq, receipt_no = training_seq, f"TRN-{training_seq:06d}"
            else:
                receipt_seq += 1
                seq, receipt_no = receipt_seq, f"{receipt_seq:06d}"
            subtotal = promo_total = line_disc_total = cart_total = tax_total = total = 0
            cart_pct = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 500, 1000))
            for no in range(1, LINES_PER_SALE + 1):
                pid, sku, name, price, tax, unit = rng.choice(
                    popular if rng.random() < 0.8 else products
                )
                rate, num, den = TAXES[tax]
                if unit == "kg":
                    qty, weight = 1, rng.randint(100, 2500)
                    gross = half_up(price * weight, 1000)
                else:
                    qty, weight = rng.choice((1, 1, 1, 2, 2, 3, 6)), None
                    gross = price * qty
                promo = gross // 10 if unit == "each" and qty >= 3 else 0
                line_disc = (gross - promo) // 20 if rng.random() < 0.05 else 0
                cart_disc = half_up((gross - promo - line_disc) * cart_pct, 10000)
                line_total = gross - promo - line_disc - cart_disc
                rn, rd = rate * num, 10000 * den
                tax_amount = half_up(line_total * rn, rd + rn)
                net = line_total - tax_amount
                base = half_up(net * num, den)
                lines.append(
                    (
                        ids(ms),
                        sale_id,
                        no,
                        pid,
                        sku,
                        None,
                        name,
                        unit,
                        qty,
                        weight,
                        price,
                        gross,
                        promo,
                        line_disc,
                        cart_disc,
                        line_total,
                        tax,
                        rate,
                        num,
                        den,
                        tax_amount,
                        base,
                        net,
                        "Beli 3 hemat" if promo else None,
                    )
                )
                subtotal += gross
                promo_total += promo
                line_disc_total += line_disc
                cart_total += cart_disc
                tax_total += tax_amount
                total += line_total
            roll = rng.random()
            rounding = 0
            t = int(training)
            if roll < 0.6:  # cash
                due = half_up(total, 100) * 100
                rounding = due - total
                tendered = -(-due // 20_000) * 20_000
                pays = [("cash", due, tendered, tendered - due)]
            elif roll < 0.85:
                pays = [("card", total, None, 0)]
            elif roll < 0.95:
                pays = [("qris", total, None, 0)]
            else:  # card and cash
                card = total // 2
                due = half_up(total - card, 100) * 100
                rounding = due - (total - card)
                pays = [("card", card, None, 0), ("cash", due, due + 5000, 5000)]
            payments += [(ids(ms), shift_id, sale_id, *pay, t, None) for pay in pays]
            sales.append(
                (
                    sale_id,
                    receipt_no,
                    seq,
                    shift_id,
                    rng.choice(staff)[0],
                    created,
                    subtotal,
                    promo_total + line_disc_total + cart_total,
                    cart_total,
                    "10%" if cart_pct == 1000 else ("5%" if cart_pct else None),
                    rounding,
                    total + rounding,
                    tax_total,
                    int(training),
                    f"tok{sale_id.replace('-', '')[:20]}",
                )
            )
            if not training and rng.random() < 0.01:  # a refund of the sale's first line
                refund_ms = ms + 30_000
                receipt_seq += 1
                first = lines[-LINES_PER_SALE]
                refund_id = ids(refund_ms)
                refunds.append(
                    (
                        refund_id,
                        f"{receipt_seq:06d}",
                        receipt_seq,
                        sale_id,
                        shift_id,
                        staff[0][0],
                        staff[0][0],
                        iso_ms(refund_ms),
                        first[15],
                        first[20],
                    )
                )
                refund_lines.append(
                    (ids(refund_ms), refund_id, first[0], first[8], first[15], first[20])
                )
                payments.append(
                    (ids(refund_ms), shift_id, None, "cash", -first[15], None, 0, 0, refund_id)
                )
        for k in range(rng.randint(1, 4)):
            amount = rng.choice((-50_000, -20_000, 100_000, -15_000))
            cash_moves.append(
                (ids(t0 + k), shift_id, opener, amount, "galon" if amount < 0 else "modal")
            )
        for _ in range(20):
            action = rng.choice(
                ("login", "login", "line_void", "line_void", "no_sale", "discount", "drawer_open")
            )
            at = t0 + rng.randrange(SHIFT_MS)
            audits.append((ids(at), iso_ms(at), action, opener))
        closed_at = iso_ms(t0 + SHIFT_MS - 1000)
        conn.execute(
            "INSERT INTO shift (id, staff_id, opened_at, opening_float, closed_at, closed_by_id, "
            "counted_cash, expected_cash, z_number) VALUES (?, ?, ?, 200000, ?, ?, 0, 0, ?)",
            (shift_id, opener, iso_ms(t0), closed_at, opener, shift_no),
        )
        conn.executemany(
            "INSERT INTO sale (id, receipt_no, receipt_seq, shift_id, staff_id, customer_id, "
            "created_at, subtotal, discount_total, cart_discount, cart_discount_label, rounding, "
            "total, tax_total, prices_include_tax, training, ereceipt_token) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            sales,
        )
        conn.executemany(
            "INSERT INTO sale_line (id, sale_id, line_no, product_id, sku, barcode, name, unit, "
            "qty, weight_g, unit_price, price_overridden, gross, promo_discount, line_discount, "
            "cart_discount, total, tax_code, tax_rate_bp, tax_base_num, tax_base_den, "
            "tax_amount, tax_base, net, promotion, refunded_qty) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            lines,
        )
        conn.executemany(
            "INSERT INTO refund (id, receipt_no, receipt_seq, sale_id, shift_id, staff_id, "
            "approved_by_id, created_at, reason, rounding, total, tax_total, training) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?, 0)",
            refunds,
        )
        conn.executemany(
            "INSERT INTO refund_line (id, refund_id, sale_line_id, qty, amount, tax_amount, "
            "restock) VALUES (?, ?, ?, ?, ?, ?, 1)",
            refund_lines,
        )
        conn.executemany(
            "UPDATE sale_line SET refunded_qty = qty WHERE id = ?",
            [(r[2],) for r in refund_lines],
        )
        conn.executemany(
            "INSERT INTO payment (id, shift_id, sale_id, tender, amount, tendered, change, "
            "training, refund_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            payments,
        )
        conn.executemany(
            "INSERT INTO cash_movement (id, shift_id, staff_id, amount, reason, created_at) "
            "VALUES (?, ?, ?, ?, ?, '" + iso_ms(t0 + 1000) + "')",
            cash_moves,
        )
        conn.executemany(
            "INSERT INTO audit (id, at, action, staff_id, detail) VALUES (?, ?, ?, ?, '{}')",
            audits,
        )
    for name, value in (
        ("receipt_seq", receipt_seq),
        ("training_receipt_seq", training_seq),
        ("z_number", SHIFTS),
    ):
        conn.execute("UPDATE counter SET value = ? WHERE name = ?", (value, name))
    conn.execute("COMMIT")
    problems = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
    if problems:
        raise SystemExit(f"the generated store breaks its foreign keys: {problems}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def ensure_store(rebuild: bool) -> Path:
    path = cached_path()
    if rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        building = path.with_name(path.name + f".building-{os.getpid()}")
        try:
            build(building)
            building.rename(path)
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{building}{suffix}").unlink(missing_ok=True)
    return path


# -- the hand-written aggregates ------------------------------------------------------------------

RAW_SHIFT = (
    "SELECT s.opened_at, st.name, s.opening_float, s.closed_at, s.z_number, s.counted_cash "
    "FROM shift s JOIN staff st ON st.id = s.staff_id WHERE s.id = ?"
)
RAW_SALES = (
    "SELECT COUNT(*), TOTAL(subtotal), TOTAL(rounding), TOTAL(total), TOTAL(tax_total), "
    "TOTAL(cart_discount) FROM sale WHERE shift_id = ? AND training = 0"
)
RAW_TAX_GROUPS = (
    "SELECT l.tax_code, l.tax_rate_bp, l.tax_base_num, l.tax_base_den, SUM(l.tax_base), "
    "SUM(l.tax_amount), SUM(l.total), SUM(l.promo_discount), SUM(l.line_discount), "
    "SUM(CASE WHEN l.unit = 'kg' THEN 1 ELSE l.qty END) "
    "FROM sale s JOIN sale_line l ON l.sale_id = s.id WHERE s.shift_id = ? AND s.training = 0 "
    "GROUP BY 1, 2, 3, 4 ORDER BY 1"
)
RAW_BEST = (
    "SELECT l.name, l.sku, SUM(CASE WHEN l.unit = 'kg' THEN 1 ELSE l.qty END) AS units, "
    "SUM(l.total) AS amount FROM sale s JOIN sale_line l ON l.sale_id = s.id "
    "WHERE s.shift_id = ? AND s.training = 0 GROUP BY COALESCE(l.product_id, l.name) "
    "ORDER BY amount DESC, units DESC LIMIT 5"
)
RAW_PAYMENTS = (
    "SELECT tender, sale_id IS NOT NULL, refund_id IS NOT NULL, COUNT(*), SUM(amount), "
    "TOTAL(tendered), SUM(change) FROM payment WHERE shift_id = ? AND training = 0 "
    "GROUP BY 1, 2, 3 ORDER BY 1"
)
RAW_REFUNDS = (
    "SELECT COUNT(*), TOTAL(total), TOTAL(tax_total) FROM refund "
    "WHERE shift_id = ? AND training = 0"
)
RAW_CASH = (
    "SELECT TOTAL(MAX(amount, 0)), TOTAL(MAX(-amount, 0)) FROM cash_movement WHERE shift_id = ?"
)
RAW_AUDIT = (
    "SELECT action, COUNT(*) FROM audit WHERE action IN ('line_void', 'no_sale') "
    "AND at >= ? AND at <= ? GROUP BY action"
)


def raw_report(conn: sqlite3.Connection, shift_id: str) -> dict:
    opened_at, opened_by, opening_float, closed_at, z_number, counted = conn.execute(
        RAW_SHIFT, (shift_id,)
    ).fetchone()
    count, subtotal, rounding, total, tax, cart = conn.execute(RAW_SALES, (shift_id,)).fetchone()
    taxes, promo, line_disc, items = [], 0, 0, 0
    for code, rate, num, den, base, tax_amount, gross, p, d, n in conn.execute(
        RAW_TAX_GROUPS, (shift_id,)
    ):
        taxes.append((code, rate, num, den, base, tax_amount, gross))
        promo, line_disc, items = promo + p, line_disc + d, items + n
    best = conn.execute(RAW_BEST, (shift_id,)).fetchall()
    tenders, cash_taken, change_given, cash_refunds = [], 0, 0, 0
    for tender, is_sale, is_refund, n, amount, tendered, change in conn.execute(
        RAW_PAYMENTS, (shift_id,)
    ):
        if is_sale:
            tenders.append((tender, n, amount))
            if tender == "cash":
                cash_taken += int(tendered)
                change_given += change
        elif is_refund and tender == "cash":
            cash_refunds -= amount
    refunds = conn.execute(RAW_REFUNDS, (shift_id,)).fetchone()
    cash_in, cash_out = conn.execute(RAW_CASH, (shift_id,)).fetchone()
    audit = dict(conn.execute(RAW_AUDIT, (opened_at, closed_at)).fetchall())
    return {
        "opened_by": opened_by,
        "z_number": z_number,
        "counted": counted,
        "sales": (count, int(subtotal), int(rounding), int(total), int(tax), int(cart)),
        "discounts": (promo, line_disc),
        "items": items,
        "taxes": taxes,
        "best": [tuple(b) for b in best],
        "tenders": tenders,
        "cash": (cash_taken, change_given, cash_refunds, int(cash_in), int(cash_out)),
        "refunds": tuple(int(x) for x in refunds),
        "voids": (audit.get("line_void", 0), audit.get("no_sale", 0)),
        "expected_cash": opening_float
        + cash_taken
        - change_given
        - cash_refunds
        + int(cash_in)
        - int(cash_out),
    }


def as_raw(r) -> dict:
    """The service's report in the raw report's shape, to check that both agree."""
    return {
        "opened_by": r.opened_by,
        "z_number": r.z_number,
        "counted": r.counted_cash,
        "sales": (
            r.sales_count,
            r.subtotal,
            r.rounding,
            r.sales_total,
            r.tax_total,
            r.cart_discount,
        ),
        "discounts": (r.promo_discount, r.line_discount),
        "items": r.items_sold,
        "taxes": [
            (t.code, t.rate_bp, t.base_num, t.base_den, t.base, t.tax, t.gross) for t in r.taxes
        ],
        "best": [(b.name, b.sku, b.qty, b.total) for b in r.best_sellers],
        "tenders": [(t.tender, t.count, t.amount) for t in r.tenders],
        "cash": (r.cash_taken, r.change_given, r.cash_refunds, r.cash_in, r.cash_out),
        "refunds": (r.refunds_count, r.refunds_total, r.refunds_tax),
        "voids": (r.voids, r.no_sales),
        "expected_cash": r.expected_cash,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true", help="generate the store again")
    args = parser.parse_args()
    path = ensure_store(args.rebuild)
    with sqlite3.connect(str(path)) as survey:
        lines_total = survey.execute("SELECT COUNT(*) FROM sale_line").fetchone()[0]
        shift_id = survey.execute("SELECT id FROM shift ORDER BY z_number DESC LIMIT 1").fetchone()[
            0
        ]
        shift_lines = survey.execute(
            "SELECT COUNT(*) FROM sale_line l JOIN sale s ON s.id = l.sale_id WHERE s.shift_id = ?",
            (shift_id,),
        ).fetchone()[0]
    survey.close()
    # Two fresh connections, each with the schema read and an empty page cache.
    database = open_store(path)
    database.execute_sql("SELECT COUNT(*) FROM counter").fetchone()
    conn = sqlite3.connect(str(path), isolation_level=None)
    for name, value in PRAGMAS.items():
        conn.execute(f"PRAGMA {name} = {value}")
    conn.execute("SELECT COUNT(*) FROM counter").fetchone()

    clock = time.perf_counter
    t0 = clock()
    report = shift_report(shift_id)
    cold_service = clock() - t0
    t0 = clock()
    raw = raw_report(conn, shift_id)
    cold_raw = clock() - t0
    if as_raw(report) != raw:
        raise SystemExit(
            f"the service and the hand-written report disagree:\n{as_raw(report)}\n{raw}"
        )
    if report.kind != "Z":
        raise SystemExit(f"expected a Z report, got {report.kind}")

    service_times, raw_times = [], []
    for r in range(args.rounds):
        sides = [
            ("service", lambda: shift_report(shift_id)),
            ("raw", lambda: raw_report(conn, shift_id)),
        ]
        if r % 2:
            sides.reverse()
        for name, run in sides:
            t0 = clock()
            for _ in range(args.per_round):
                run()
            spent = (clock() - t0) / args.per_round
            (service_times if name == "service" else raw_times).append(spent)
    service = statistics.median(service_times)
    raw_time = statistics.median(raw_times)
    print(
        f"store {path}: {lines_total:,} sale lines; Z report of a shift with {shift_lines:,} lines"
    )
    print(
        f"first call (empty SQLite page caches): service {cold_service * 1e3:.2f} ms, raw {cold_raw * 1e3:.2f} ms"
    )
    print(
        f"{args.rounds} interleaved rounds x {args.per_round} reports, median per report: "
        f"service shift_report {service * 1e3:.2f} ms, raw sqlite3 {raw_time * 1e3:.2f} ms"
    )
    conn.close()
    database.close()
    print(f"ratio={service / raw_time:.2f}")


if __name__ == "__main__":
    main()
