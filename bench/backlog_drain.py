"""A week offline in a busy shop: 10,000 undelivered sales drain through `kasir sync --once`.

    $ .venv/bin/python bench/backlog_drain.py [--sales 10000] [--batch 100]
    ...
    ratio=1.04

1. A fresh migrated database on the local PostgreSQL (`KASIR_BENCH_PG`, default
   postgresql://postgres@127.0.0.1:5432/) and a real OMS (uvicorn, one worker) on it; a till
   data directory made with the `kasir` CLI (init, a 30-product catalog, enrolment, a shift).
2. The OMS goes offline; the till completes `--sales` sales through `appliance.checkout`
   (1-5 lines, scanned or by sku, cash/card/QRIS; not timed). Two copies of the OMS database
   are taken at that moment (`CREATE DATABASE ... TEMPLATE`): the baselines' fresh databases,
   with the same store, terminal, token and catalog.
3. Drain (timed): the OMS comes back and one `kasir sync --once` process uploads the outbox
   in batches of `--batch` (the till's default, 100) until nothing is pending.
4. Baseline (timed), once before the drain and once after, each on its own copy: an OMS on the
   copy, and a bare httpx client posting the same stored event bytes, serialised before the
   clock starts, in batches of the same size, one after another. Their mean is the baseline
   (the machine's load drifts over the minutes a run takes).

Every OMS database is checked (every sale booked once, as a store order; the till's outbox
delivered), the times printed, and the last line is `ratio=<drain time / baseline time>`
(goal ≤ 1.3: the till's side adds little to what the OMS must do anyway). The databases and
the till directory are removed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "oms")]

from oms_process import OmsProcess, pg_create, pg_drop  # noqa: E402

PG = os.environ.get("KASIR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-0123456789abcdef0123456789"
STORE = "BENCH"
PRODUCTS = 30


def create_db(name: str, template: str | None = None) -> str:
    return pg_create(name, template, server=PG)


def drop_db(name: str) -> None:
    pg_drop(name, server=PG)


def migrate(url: str) -> None:
    from cloud_oms import db as dbmod
    from cloud_oms import migrations

    database = dbmod.open_database(url)
    try:
        migrations.migrate(database)
    finally:
        database.close()


def in_oms(url: str, fn):
    from cloud_oms import db as dbmod

    dbmod.connect(url)
    try:
        return fn()
    finally:
        dbmod.disconnect()


def new_terminal(url: str) -> str:
    from cloud_oms import admin

    def make():
        admin.add_store(STORE, "Toko Bench")
        return admin.add_terminal(STORE, "Kasir 1")[1]

    return in_oms(url, make)


def booked(url: str, terminal_id: str) -> tuple[int, int, int]:
    """(accepted sale events, store orders, distinct receipt numbers) of the terminal."""
    from cloud_oms.models.core import SyncEvent
    from cloud_oms.models.orders import Order

    def count():
        events = (
            SyncEvent.select()
            .where(
                (SyncEvent.terminal == terminal_id)
                & (SyncEvent.type == "sale.completed")
                & (SyncEvent.outcome == "accepted")
            )
            .count()
        )
        orders = Order.select().where((Order.terminal == terminal_id) & (Order.kind == "store"))
        numbers = {o.number for o in orders.select(Order.number)}
        return events, orders.count(), len(numbers)

    return in_oms(url, count)


# -- the till -----------------------------------------------------------------------------------


def kasir(data_dir: Path, *args: str, env: dict) -> str:
    script = Path(sys.executable).with_name("kasir")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "appliance.cli"]
    done = subprocess.run(
        [*argv, "--data-dir", str(data_dir), *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"kasir {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def catalog_csv() -> str:
    from retail.barcodes import check_digit

    rows = ["sku,name,price,barcode,tax,category,unit,stock"]
    for i in range(PRODUCTS):
        body = f"8991234{i:05d}"
        tax = ("PPN", "PPN", "FREE")[i % 3]
        rows.append(
            f"SKU-{i:03d},Produk {i},{1000 + 250 * i},{body}{check_digit(body)},{tax},"
            f"Kategori {i % 5},each,1000000"
        )
    return "\n".join(rows) + "\n"


def build_sales(data_dir: Path, count: int, seed: int = 7) -> None:
    """`count` sales through the till's services, as a busy week offline would leave them."""
    from appliance import catalog, staff
    from appliance.cart import Cart
    from appliance.checkout import complete_sale
    from appliance.config import Config
    from appliance.store.db import open_store, store_path
    from appliance.store.models import db
    from retail.pricing import TenderInput

    database = open_store(store_path(data_dir))
    # Not timed, and no power cut will come: skip the fsync of each of the 10,000 commits.
    db.execute_sql("PRAGMA synchronous = OFF")
    config = Config(env={}, cli={"till.data_dir": str(data_dir)})
    config.attach_store()
    manager = staff.first_manager()
    products = [catalog.lookup_sku(f"SKU-{i:03d}") for i in range(PRODUCTS)]
    codes = [r[0] for r in db.execute_sql("SELECT code FROM barcode ORDER BY code")]
    rng = random.Random(seed)
    started = time.monotonic()
    for n in range(count):
        cart = Cart(config, staff=manager)
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.6:
                cart.scan(rng.choice(codes), rng.randint(1, 3))
            else:
                cart.add_product(rng.choice(products), rng.randint(1, 4))
        total = cart.priced().total
        roll = rng.random()
        if roll < 0.6:
            tenders = [TenderInput("cash", total + 100 + rng.choice((0, 500, 5000, 50000)))]
        elif roll < 0.85:
            tenders = [TenderInput("card", total, f"APPR{n:06d}")]
        else:
            tenders = [TenderInput("qris", total, f"QR{n:08d}")]
        complete_sale(cart, tenders, staff=manager, config=config)
        if (n + 1) % 2000 == 0:
            print(f"  built {n + 1} sales ({time.monotonic() - started:.0f} s)", flush=True)
    database.close()


def outbox(data_dir: Path) -> list[tuple[int, bytes, str]]:
    with sqlite3.connect(data_dir / "kasir.sqlite3") as conn:
        return [
            (seq, bytes(payload), state)
            for seq, payload, state in conn.execute(
                "SELECT seq, payload, state FROM outbox ORDER BY seq"
            )
        ]


# -- the two timed runs ---------------------------------------------------------------------------


def drain(data_dir: Path, env: dict) -> tuple[float, float, str]:
    """(wall seconds, the till process's CPU seconds, what it printed)."""
    script = Path(sys.executable).with_name("kasir")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "appliance.cli"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [*argv, "--data-dir", str(data_dir), "sync", "--once"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # only this child was reaped meanwhile
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"kasir sync --once failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, cpu, done.stdout.strip()


def baseline(oms: OmsProcess, token: str, events: list[bytes], batch: int) -> float:
    bodies = [
        json.dumps({"events": [e.decode() for e in events[i : i + batch]]}).encode()
        for i in range(0, len(events), batch)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=oms.url, headers=headers, timeout=300) as http:
        started = time.perf_counter()
        for body in bodies:
            answer = http.post("/api/v1/sync/events", content=body)
            answer.raise_for_status()
            outcomes = {r["outcome"] for r in answer.json()["results"]}
            if outcomes != {"accepted"}:
                raise SystemExit(f"baseline batch not all accepted: {answer.text[:500]}")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100, help="the till's batch size")
    args = parser.parse_args()
    from appliance import sync

    if args.batch != sync.BATCH:
        raise SystemExit(f"--batch must be the till's batch size, {sync.BATCH}")

    work = Path(tempfile.mkdtemp(prefix="kasir-bench-drain-"))
    tag = uuid.uuid4().hex[:10]
    names = [f"kasir_bench_drain_{tag}", f"kasir_bench_base1_{tag}", f"kasir_bench_base2_{tag}"]
    servers: list[OmsProcess] = []
    try:
        url = create_db(names[0])
        migrate(url)
        code = new_terminal(url)
        oms = OmsProcess(url, work / "oms-drain.log", secret=SECRET).start()
        servers.append(oms)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KASIR_")}
        env.update(PYTHONPATH=str(REPO), KIVY_NO_ARGS="1")
        till = work / "till"
        pin = re.search(r"write it down\): (\d+)", kasir(till, "init", env=env)).group(1)
        (work / "catalog.csv").write_text(catalog_csv())
        kasir(till, "import-catalog", str(work / "catalog.csv"), env=env)
        kasir(till, "enrol", oms.url, code, env=env)
        kasir(till, "--pin", pin, "shift", "open", "--float", "200000", env=env)

        oms.stop()  # a week offline
        print(f"building {args.sales} sales on the till (not timed)", flush=True)
        build_sales(till, args.sales)
        events = outbox(till)
        pending = [payload for _, payload, state in events if state == "pending"]
        if len(pending) != len(events):
            raise SystemExit("the till delivered something before the drain")
        # The OMS as the till left it, twice: the baselines' fresh databases.
        base_urls = [create_db(name, template=names[0]) for name in names[1:]]
        token = (till / "oms-token").read_text().strip()
        with sqlite3.connect(till / "kasir.sqlite3") as conn:
            terminal_id = json.loads(
                conn.execute(
                    "SELECT value FROM setting WHERE key = 'identity.terminal_id'"
                ).fetchone()[0]
            )
        expected = (args.sales,) * 3

        def run_baseline(n: int) -> float:
            base = OmsProcess(base_urls[n], work / f"oms-base{n + 1}.log", secret=SECRET).start()
            servers.append(base)
            print(f"baseline {n + 1}: bare httpx client, {len(pending)} events ...", flush=True)
            seconds = baseline(base, token, pending, args.batch)
            base.stop()
            got = booked(base_urls[n], terminal_id)
            if got != expected:
                raise SystemExit(f"baseline {n + 1} incomplete: the OMS holds {got}")
            return seconds

        # The baseline runs before and after the drain, and the ratio takes their mean: on a
        # shared machine the load drifts over the minutes a run takes.
        base_s = [run_baseline(0)]
        oms.start()
        print(f"drain: kasir sync --once, {len(pending)} events ...", flush=True)
        drain_s, till_cpu, said = drain(till, env)
        print(f"  {said.splitlines()[0]}")
        oms.stop()
        left = sum(1 for _, _, state in outbox(till) if state != "delivered")
        got = booked(url, terminal_id)
        if left or got != expected:
            raise SystemExit(
                f"drain incomplete: {left} events not delivered; the OMS holds (sale events, "
                f"orders, receipt numbers) {got}, expected {args.sales} each"
            )
        base_s.append(run_baseline(1))
        mean = sum(base_s) / len(base_s)

        print(
            f"drain:    {args.sales} sales ({len(pending)} events) in {drain_s:.1f} s "
            f"({len(pending) / drain_s:.0f} events/s) through `kasir sync --once` (the till "
            f"process used {till_cpu:.1f} s of CPU); every sale booked once"
        )
        print(
            f"baseline: {args.sales} sales ({len(pending)} events) in {base_s[0]:.1f} s before, "
            f"{base_s[1]:.1f} s after (mean {mean:.1f} s, {len(pending) / mean:.0f} events/s), "
            f"bare client, pre-serialised batches of {args.batch}"
        )
        print(f"ratio={drain_s / mean:.3f}")
    finally:
        for server in servers:
            server.stop()
        for name in names:
            drop_db(name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
