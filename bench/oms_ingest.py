"""Till event ingest on PostgreSQL: a real server against raw psycopg inserts of the same rows.

    $ .venv/bin/python bench/oms_ingest.py [--terminals 10] [--batches 5] [--batch-size 100]
    ...
    ratio=0.41

1. A fresh database on the local PostgreSQL (`KASIR_BENCH_PG`, default
   postgresql://postgres@127.0.0.1:5432/), migrated; a store with 30 stocked products and
   `--terminals` tills enrolled over HTTP.
2. `kasir-oms serve` (uvicorn, `--workers` processes; default 2, one per core of the 2-core
   reference machine — 1 to 4 measured within noise of each other there) on a free loopback
   port. Each simulated till, in its own thread, posts `--batches` batches of `--batch-size`
   sale events (3 lines, cash) to POST /api/v1/sync/events, one batch after the other, all
   tills at once. Events are built before the clock starts. Rate = events accepted / wall
   time. The server books each batch's sales as one run (`orders.book_store_sales`: a few
   statements and one commit per batch, not ~13 statements and a commit per sale).
3. Baseline: every row the server wrote for those events (sync_event, order, order_line,
   order_transition, payment, stock_movement) is read back and inserted into a second fresh
   database with raw psycopg in one process, one transaction per batch-size events (executemany
   per table), i.e. only the inserts, no validation, no lookups, no locks.
ratio = server events/s ÷ baseline events/s (the last line). Both databases are dropped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "oms")]

from oms_events import FakeTill  # noqa: E402
from oms_process import OmsProcess, pg_create, pg_drop  # noqa: E402

PG = os.environ.get("KASIR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = ["sync_event", "order", "order_line", "order_transition", "payment", "stock_movement"]


def create_db(name: str) -> str:
    return pg_create(name, server=PG)


def drop_db(name: str) -> None:
    pg_drop(name, server=PG)


def migrate(url: str) -> None:
    from cloud_oms import db as dbmod
    from cloud_oms import migrations

    database = dbmod.open_database(url)
    migrations.migrate(database)
    database.close()


def seed(url: str, products: int) -> list[tuple[str, str, int]]:
    from cloud_oms import admin, catalog, stock
    from cloud_oms import db as dbmod

    dbmod.connect(url)
    try:
        store = admin.add_store("BENCH", "Toko Bench")
        made = []
        for i in range(products):
            p = catalog.save_product(
                sku=f"SKU-{i:03d}",
                name=f"Produk {i}",
                price=1000 + i * 100,
                tax_code="PPN",
                barcodes=[(f"20{i:011d}", 1)],
            )
            stock.adjust(store, p, 1_000_000, "bench stock", "bench")
            made.append((p.sku, p.id, p.price))
        return made
    finally:
        dbmod.disconnect()


def add_terminal(url: str, name: str) -> str:
    from cloud_oms import admin
    from cloud_oms import db as dbmod

    dbmod.connect(url)
    try:
        return admin.add_terminal("BENCH", name)[1]
    finally:
        dbmod.disconnect()


def run_server(url: str, args, catalog_rows) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as logs:
        server = OmsProcess(url, Path(logs) / "oms.log", workers=args.workers).start()
        base = server.url
        try:
            tills = []
            for i in range(args.terminals):
                code = add_terminal(url, f"Kasir {i + 1}")
                answer = httpx.post(
                    f"{base}/api/v1/terminals/enrol", json={"code": code, "name": f"Kasir {i + 1}"}
                )
                answer.raise_for_status()
                tills.append(answer.json())
            ids = {sku: pid for sku, pid, _ in catalog_rows}
            work = []
            for t, enrolled in enumerate(tills):
                till = FakeTill(enrolled["terminal_code"])
                batches = []
                for b in range(args.batches):
                    texts = []
                    for e in range(args.batch_size):
                        picks = [
                            catalog_rows[(t * 7 + b * 3 + e + k * 11) % len(catalog_rows)]
                            for k in range(3)
                        ]
                        items = [
                            (sku, price, 1 + (e + k) % 3) for k, (sku, _, price) in enumerate(picks)
                        ]
                        texts.append(till.sale(items, product_ids=ids).text)
                    batches.append({"events": texts})
                work.append((enrolled["token"], batches))

            accepted = [0] * len(work)
            errors: list[str] = []
            start_gate = threading.Barrier(len(work) + 1)

            def terminal(i: int, token: str, batches: list) -> None:
                with httpx.Client(
                    base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
                ) as http:
                    start_gate.wait()
                    for body in batches:
                        answer = http.post("/api/v1/sync/events", json=body)
                        if answer.status_code != 200:
                            errors.append(f"{answer.status_code} {answer.text[:200]}")
                            return
                        accepted[i] += sum(
                            r["outcome"] == "accepted" for r in answer.json()["results"]
                        )

            threads = [threading.Thread(target=terminal, args=(i, *w)) for i, w in enumerate(work)]
            for th in threads:
                th.start()
            start_gate.wait()
            t0 = time.perf_counter()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - t0
            if errors:
                raise SystemExit(f"ingest failed: {errors[0]}\n{server.log()[-2000:]}")
            return elapsed, sum(accepted)
        finally:
            server.stop()


def read_rows(url: str) -> tuple[dict[str, list[str]], list[list[tuple[str, list[tuple]]]]]:
    """Columns per table, and the server's rows grouped per event (one sale = one group)."""
    with psycopg.connect(url) as conn:
        columns, by_table = {}, {}
        for table in TABLES:
            cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            columns[table] = [d.name for d in cur.description]
            by_table[table] = cur.fetchall()
    col = {t: {c: i for i, c in enumerate(cs)} for t, cs in columns.items()}
    orders = sorted(by_table["order"], key=lambda r: r[col["order"]["created_at"]])
    per_order = {t: {} for t in TABLES}
    for table, key in (
        ("order_line", "order_id"),
        ("order_transition", "order_id"),
        ("payment", "order_id"),
        ("stock_movement", "ref_id"),
    ):
        for row in by_table[table]:
            per_order[table].setdefault(row[col[table][key]], []).append(row)
    events = {}
    for row in by_table["sync_event"]:
        events[(row[col["sync_event"]["terminal_id"]], row[col["sync_event"]["ref"]])] = row
    groups = []
    for order in orders:
        oid = order[col["order"]["id"]]
        key = (order[col["order"]["terminal_id"]], order[col["order"]["number"]])
        groups.append(
            [
                ("sync_event", [events[key]]),
                ("order", [order]),
                ("order_line", per_order["order_line"].get(oid, [])),
                ("order_transition", per_order["order_transition"].get(oid, [])),
                ("payment", per_order["payment"].get(oid, [])),
                ("stock_movement", per_order["stock_movement"].get(oid, [])),
            ]
        )
    return columns, groups


def run_baseline(url: str, columns, groups, batch_size: int) -> tuple[float, int]:
    statements = {
        t: sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(t),
            sql.SQL(", ").join(map(sql.Identifier, cs)),
            sql.SQL(", ").join(sql.Placeholder() * len(cs)),
        )
        for t, cs in columns.items()
    }
    with psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        rows = 0
        for start in range(0, len(groups), batch_size):
            chunk = groups[start : start + batch_size]
            with conn.transaction(), conn.cursor() as cur:
                for table in TABLES:
                    params = [r for group in chunk for t, rs in group if t == table for r in rs]
                    if params:
                        cur.executemany(statements[table], params)
                        rows += len(params)
        return time.perf_counter() - t0, rows


def copy_reference_rows(source: str, target: str) -> None:
    """The rows the events refer to (store, terminals, products, ...) so foreign keys hold."""
    with psycopg.connect(source) as src, psycopg.connect(target) as dst:
        for table in ("store", "terminal", "tax_code", "category", "product"):
            cur = src.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            cols = [d.name for d in cur.description]
            rows = cur.fetchall()
            if rows:
                dst.cursor().executemany(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier(table),
                        sql.SQL(", ").join(map(sql.Identifier, cols)),
                        sql.SQL(", ").join(sql.Placeholder() * len(cols)),
                    ),
                    rows,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--terminals", type=int, default=10)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--products", type=int, default=30)
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:8]
    server_db, base_db = f"kasir_bench_srv_{tag}", f"kasir_bench_raw_{tag}"
    try:
        server_url = create_db(server_db)
        base_url = create_db(base_db)
        migrate(server_url)
        migrate(base_url)
        catalog_rows = seed(server_url, args.products)
        elapsed, accepted = run_server(server_url, args, catalog_rows)
        expected = args.terminals * args.batches * args.batch_size
        if accepted != expected:
            raise SystemExit(f"only {accepted} of {expected} events were accepted")
        server_rate = accepted / elapsed
        print(
            f"server:   {accepted} events from {args.terminals} tills in {elapsed:.2f} s "
            f"= {server_rate:,.0f} events/s ({args.workers} uvicorn workers)"
        )

        columns, groups = read_rows(server_url)
        copy_reference_rows(server_url, base_url)
        base_elapsed, rows = run_baseline(base_url, columns, groups, args.batch_size)
        base_rate = len(groups) / base_elapsed
        print(
            f"baseline: the same {rows} rows ({rows / len(groups):.1f} per event) by raw "
            f"psycopg in {base_elapsed:.2f} s = {base_rate:,.0f} events/s"
        )
        load = os.getloadavg()
        print(f"machine:  {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f}")
        print(f"ratio={server_rate / base_rate:.3f}")
    finally:
        drop_db(server_db)
        drop_db(base_db)


if __name__ == "__main__":
    main()
