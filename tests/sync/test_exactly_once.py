"""Exactly once, proven on real processes: three tills sell while the link to the OMS fails in
every way we know, and afterwards the OMS holds every sale and refund once, matching the tills.

Set-up, once per OMS backend (SQLite, PostgreSQL): a real OMS server (uvicorn subprocess)
behind a fault-injecting proxy; three till data directories made with the `kasir` CLI (init,
catalog import, a cashier, enrolment through the proxy, shift open), each with a seller process
(`_seller.py`: sales, refunds, training sales, through the services) and a long-lived
`kasir sync` (interval 1 s, timeout 2 s).

While they sell, a bounded schedule of faults; each one is held until every uploader has met it
(its log shows the failure) and is followed by a wait until every till has synced again:

1. the OMS answers 500;
2. the OMS hangs past the till's timeout;
3. connections are reset mid-answer after the OMS committed (each till must later hear
   `duplicate` for what it resends);
4. the OMS is stopped and restarted on the same port;
5. the OMS is SIGKILLed while it books a batch (checked: part of the batch was committed, part
   not);
6. one till's uploader is SIGKILLed while its batch is in the OMS's hands (checked: the OMS
   booked it, the till still holds it as pending), then restarted;

and between them each seller is SIGKILLed at a random moment (a power cut in checkout) and
restarted. Then the sellers stop, each shift is closed with `kasir shift close` (the Z report),
the proxy passes everything, and the outboxes drain.

Checked: every sale and refund of every till is in the OMS exactly once (by sale id, refund id
and receipt number), row for row equal to the till's (totals, lines, payments); training sales
are not there; per terminal the OMS's totals equal the till's Z report (and the Z report the
OMS received); stock moved in the OMS exactly as the tills' ledgers say; every event accepted
once, no sequence gaps, nothing rejected or quarantined.

`KASIR_SYNC_SEED` replays a run's random choices (kill moments, what is sold); a failure names
the seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sync.tillrig import (
    STORE,
    WEIGHED,
    ChaosProxy,
    EventPost,
    OmsView,
    Till,
    TillView,
    compare,
    enrol_code,
    oms_stock,
    oms_view,
    stop_all,
    tail,
    wait_until,
)

pytestmark = pytest.mark.timeout(420)

TILLS = 3
PACE = 0.25  # seconds between a seller's sales: ~3 a second per till on a 2-core machine
BACKLOG = 14  # events each till holds back before the upload the OMS is killed in
SEED = int(os.environ.get("KASIR_SYNC_SEED", random.randrange(1 << 30)))


class Rig:
    """The OMS, the proxy and the tills of one run, and what happened to them."""

    def __init__(self, server, proxy: ChaosProxy, tills: list[Till], rng: random.Random):
        self.server, self.proxy, self.tills, self.rng = server, proxy, tills, rng
        self.oms_logs: list[str] = []  # logs of OMS runs that ended (start() truncates its log)
        self.evidence: list[str] = []
        self.timings: list[tuple[str, float]] = []
        self._t0 = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        self.timings.append((what, now - self._t0))
        self._t0 = now

    # -- diagnostics ---------------------------------------------------------------------------

    def diagnostics(self) -> str:
        parts = [
            f"seed {SEED}; proxy mode {self.proxy.mode}, connections {self.proxy.counts}, "
            f"event posts forwarded {self.proxy.posts_forwarded}",
            "evidence so far: " + "; ".join(self.evidence),
        ]
        for till in self.tills:
            try:
                depth = till.outbox()
            except Exception as exc:  # the diagnostics must not hide the failure
                depth = f"unreadable ({exc})"
            parts.append(f"== {till.name}: outbox {depth}")
            parts.append(f"-- {till.name} sync log:\n" + tail(till.sync.log() if till.sync else ""))
            parts.append(
                f"-- {till.name} seller log:\n" + tail(till.seller.log() if till.seller else "", 15)
            )
            parts.append(f"-- {till.name} last CLI:\n" + "\n".join(till.cli_log[-2:]))
        for n, text in enumerate(self.oms_logs):
            parts.append(f"== OMS log, run {n + 1}:\n{tail(text, 30)}")
        parts.append(f"== OMS log, current run:\n{tail(self.server.log(), 60)}")
        return "\n".join(parts)

    def wait(self, predicate, timeout: float, what: str):
        return wait_until(predicate, timeout, what, self.diagnostics)

    # -- the uploaders' logs -------------------------------------------------------------------

    def marks(self) -> dict[str, int]:
        return {t.name: len(t.sync.log()) for t in self.tills}

    def since(self, till: Till, marks: dict[str, int]) -> str:
        return till.sync.log()[marks[till.name] :]

    def wait_failures(self, marks: dict[str, int], text: str, what: str) -> None:
        """Until every uploader has logged a failed round mentioning `text` since `marks`."""

        def met() -> bool:
            return all(
                any(text in line for line in self.since(t, marks).splitlines() if "failed" in line)
                for t in self.tills
            )

        self.wait(met, 30, f"every uploader failing with {text!r} ({what})")

    def wait_synced(self, what: str, timeout: float = 45) -> None:
        """Until every till has finished a whole sync round after this moment (its backoff is
        reset) and delivered more events."""
        before = {
            t.name: (t.setting("sync.last_success_at"), t.outbox()["delivered"]) for t in self.tills
        }

        def synced(t: Till) -> bool:
            last, delivered = before[t.name]
            return t.setting("sync.last_success_at") != last and t.outbox()["delivered"] > delivered

        self.wait(lambda: all(synced(t) for t in self.tills), timeout, f"tills synced {what}")

    # -- the OMS -------------------------------------------------------------------------------

    def restart_oms(self) -> None:
        self.server.stop()
        self.oms_logs.append(self.server.log())
        self.server.start()

    def accepted_of(self, ids: list[str]) -> int:
        from cloud_oms.models.core import SyncEvent

        return (
            SyncEvent.select()
            .where(SyncEvent.event_id.in_(ids) & (SyncEvent.outcome == "accepted"))
            .count()
        )

    # -- the schedule --------------------------------------------------------------------------

    def fault(self, mode: str, failure: str) -> dict[str, int]:
        marks = self.marks()
        self.proxy.mode = mode
        self.wait_failures(marks, failure, mode)
        self.proxy.mode = "pass"
        self.wait_synced(f"after {mode}")
        return marks

    def reset_mid_answer(self) -> None:
        """Answers cut after the OMS committed: each till's batch went in, the till never heard,
        and its resend must come back `duplicate`."""
        cut: set[str] = set()
        self.proxy.on_post = lambda post: cut.add(post.token)
        marks = self.marks()
        self.proxy.mode = "reset_response"
        self.wait(
            lambda: cut >= {t.token for t in self.tills},
            30,
            "an event upload of every till answered with a reset",
        )
        self.wait_failures(marks, "cannot reach the OMS", "reset_response")
        self.proxy.mode = "pass"
        self.proxy.on_post = None

        def duplicates(t: Till) -> int:
            found = re.findall(r"\d+ accepted, (\d+) duplicate", self.since(t, marks))
            return sum(int(n) for n in found)

        self.wait(
            lambda: all(duplicates(t) > 0 for t in self.tills),
            30,
            "every till resending what the OMS had booked and hearing `duplicate`",
        )
        self.evidence.append(
            "reset after commit: duplicates heard "
            + ", ".join(f"{t.name} {duplicates(t)}" for t in self.tills)
        )
        self.wait_synced("after resets mid-answer")

    def stop_and_restart_oms(self) -> None:
        marks = self.marks()
        self.server.stop()
        self.lap("OMS stop")
        self.wait_failures(marks, "cannot reach the OMS", "OMS stopped")
        self.lap("uploaders failing")
        self.oms_logs.append(self.server.log())
        self.server.start()
        self.lap("OMS start")
        self.wait_synced("after the OMS restarted")

    def kill_oms_mid_batch(self, attempts: int = 3) -> None:
        """SIGKILL the OMS while it books a batch, with part of the batch committed and part
        not. Backlogs build while the OMS is unreachable; the first upload afterwards that the
        OMS books in more than one transaction (see `EventPost.booked_in_parts`) freezes the
        OMS (SIGSTOP) as it goes in; the OMS then runs in slices of a millisecond until some
        of the batch is committed, and is killed while frozen, so what it had committed is
        exactly what the kill leaves."""
        for attempt in range(1, attempts + 1):
            marks = self.marks()
            self.proxy.mode = "refuse"
            self.wait(
                lambda: all(t.outbox()["pending"] >= BACKLOG for t in self.tills),
                40,
                "backlogs building while the OMS is unreachable",
            )
            self.wait_failures(marks, "cannot reach the OMS", "refuse")
            seen: list[EventPost] = []
            lock = threading.Lock()
            pid = self.server.proc.pid

            def freeze(post: EventPost, seen=seen, lock=lock, pid=pid) -> None:
                with lock:
                    if not seen and len(post.events) >= 3 and post.booked_in_parts():
                        os.kill(pid, signal.SIGSTOP)
                        seen.append(post)

            self.proxy.on_post = freeze
            self.proxy.mode = "pass"
            self.wait(lambda seen=seen: seen, 40, "a batch booked in parts going up")
            self.proxy.on_post = None
            batch = seen[0].ids
            with self.server.bind():
                # A resent batch may start with events booked before (answers lost): the
                # middle is judged on the events this request is the first to bring.
                ids = [i for i in batch if not self.accepted_of([i])]
                committed, deadline = 0, time.monotonic() + 30
                while ids and committed == 0 and time.monotonic() < deadline:
                    _run_only_when_idle(pid)  # so each slice ends when this process wakes
                    os.kill(pid, signal.SIGCONT)
                    time.sleep(0.001)
                    os.kill(pid, signal.SIGSTOP)
                    time.sleep(0.02)  # a commit already sent to PostgreSQL lands
                    committed = self.accepted_of(ids)
                self.server.proc.kill()
                self.server.proc.wait(10)
                committed = self.accepted_of(ids) if ids else 0
            self.restart_oms()
            what = f"{committed} of the {len(ids)} new events in a batch of {len(batch)} booked"
            if 0 < committed < len(ids):
                self.evidence.append(f"OMS SIGKILLed mid-batch (attempt {attempt}): {what}")
                self.wait_synced("after the OMS was killed")
                return
            self.evidence.append(f"OMS kill attempt {attempt} missed the middle: {what}")
            self.wait_synced("after the OMS was killed")
        raise AssertionError(
            f"the OMS was never killed in the middle of a batch\n{self.diagnostics()}"
        )

    def kill_uploader_mid_batch(self, till: Till) -> None:
        """SIGKILL one till's `kasir sync` the moment its batch reaches the OMS: the OMS books
        it, the till never hears, and must resend it after the restart."""
        seen: list[EventPost] = []
        lock = threading.Lock()
        pid = till.sync.pid

        def kill(post: EventPost) -> None:
            with lock:
                if not seen and post.token == till.token:
                    os.kill(pid, signal.SIGKILL)
                    seen.append(post)

        self.proxy.on_post = kill
        self.wait(lambda: seen, 30, f"{till.name}'s uploader sending a batch")
        self.proxy.on_post = None
        till.sync.popen.wait(10)
        ids = seen[0].ids
        with self.server.bind():
            self.wait(lambda: self.accepted_of(ids) == len(ids), 30, "the OMS booking the batch")
        states = till.outbox_states(ids)
        assert set(states.values()) == {"pending"}, (
            f"{till.name}: after its uploader died mid-batch the outbox says {states}"
        )
        self.evidence.append(
            f"{till.name}'s uploader SIGKILLed mid-batch: {len(ids)} events booked by the OMS, "
            "pending on the till"
        )
        till.start_sync()
        self.wait_synced(f"after {till.name}'s uploader restarted")

    def power_cut(self, till: Till) -> None:
        """SIGKILL a seller at a random moment of its checkout loop, and bring it back."""
        time.sleep(self.rng.uniform(0.05, 0.6))
        till.seller.kill()
        till.start_seller(self.rng.randrange(1 << 30), PACE)
        self.evidence.append(f"{till.name}'s seller SIGKILLed and restarted")


def _run_only_when_idle(pid: int) -> None:
    """Put every thread of process `pid` (a child of this test) in the SCHED_IDLE class: it
    then gets a CPU only when no ordinary task wants one, so on a busy machine it cannot run
    on while this process waits to be scheduled. Best effort (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))


@dataclass
class Run:
    """What one run left behind, for the tests below to judge."""

    rig: Rig
    tills: list[Till]
    mine: dict[str, TillView]
    theirs: dict[str, OmsView]
    z_texts: dict[str, str]
    stock_before: dict[str, int]
    stock_after: dict[str, int]
    store_numbers: list[str]
    sync_exits: dict[str, int]

    def explain(self) -> str:
        laps = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in self.rig.timings)
        return f"seed {SEED}; " + "; ".join(self.rig.evidence) + f"\ntimings: {laps}"


@pytest.fixture(scope="module")
def run(oms_server, tmp_path_factory) -> Run:
    proxy = ChaosProxy(oms_server.port)
    root = tmp_path_factory.mktemp("tills")
    tills = [Till(root, f"till{n + 1}", proxy.url) for n in range(TILLS)]
    rig = Rig(oms_server, proxy, tills, random.Random(SEED))
    try:
        return _run(rig)
    finally:
        stop_all([p for t in tills for p in (t.seller, t.sync)])
        proxy.close()
        if oms_server.proc is None or oms_server.proc.poll() is not None:
            oms_server.start()  # the module's server outlives the run


def _run(rig: Rig) -> Run:
    server, proxy, tills, rng = rig.server, rig.proxy, rig.tills, rig.rng
    codes = [enrol_code(server, STORE, f"Kasir {n + 1}") for n in range(TILLS)]
    errors: list[BaseException] = []
    _in_parallel([lambda t=t: _capture(errors, t.prepare) for t in tills])
    if errors:
        raise errors[0]
    for till, code in zip(tills, codes, strict=True):
        till.enrol(code)  # one after the other: see the report on concurrent enrolments
    rig.lap("set-up")
    stock_before = oms_stock(server)
    for till in tills:
        till.start_seller(rng.randrange(1 << 30), PACE, wait=False)
        till.start_sync()
    for till in tills:
        till.wait_seller()
    rig.wait_synced("at the start")
    rig.lap("start")
    rig.fault("http500", "OMS error 500")
    rig.lap("500s")
    rig.power_cut(tills[0])
    rig.fault("hang", "no answer in time")
    rig.lap("hang")
    rig.reset_mid_answer()
    rig.lap("resets")
    rig.power_cut(tills[1])
    rig.stop_and_restart_oms()
    rig.lap("uploaders synced")
    rig.kill_oms_mid_batch()
    rig.lap("OMS SIGKILL")
    rig.power_cut(tills[2])
    rig.kill_uploader_mid_batch(tills[0])
    rig.lap("uploader SIGKILL")

    for till in tills:
        code = till.seller.stop()
        assert code == 0, f"{till.name}: seller exited {code}\n{tail(till.seller.log())}"
    z_texts: dict[str, str] = {}
    _in_parallel([lambda t=t: z_texts.__setitem__(t.name, t.close_shift()) for t in tills])
    assert len(z_texts) == TILLS, rig.diagnostics()
    proxy.mode = "pass"
    rig.wait(
        lambda: all(t.outbox()["pending"] == 0 for t in tills),
        90,
        "every till's outbox delivered after the shifts closed",
    )
    rig.lap("close and drain")
    sync_exits = {t.name: t.sync.stop() for t in tills}
    mine = {t.name: t.snapshot() for t in tills}
    theirs = {t.name: oms_view(server, mine[t.name].terminal_id) for t in tills}
    from cloud_oms.models.orders import Order

    with server.bind():
        numbers = [o.number for o in Order.select(Order.number).where(Order.kind == "store")]
    return Run(
        rig, tills, mine, theirs, z_texts, stock_before, oms_stock(server), numbers, sync_exits
    )


def _in_parallel(jobs) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _capture(errors: list, fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as exc:  # re-raised in the test's thread
        errors.append(exc)


# -- the proof ---------------------------------------------------------------------------------


def test_the_faults_really_happened(run: Run):
    """The schedule did what it says; otherwise the tests below prove little."""
    counts = run.rig.proxy.counts
    assert counts["http500"] and counts["hang"] and counts["reset_response"], counts
    evidence = " ".join(run.rig.evidence)
    for what in ("duplicates heard", "OMS SIGKILLed mid-batch", "uploader SIGKILLed mid-batch"):
        assert what in evidence, run.explain()
    assert evidence.count("seller SIGKILLed") == TILLS, run.explain()
    assert run.rig.oms_logs and len(run.rig.oms_logs) >= 2, "the OMS was restarted twice"
    assert run.sync_exits == {t.name: 0 for t in run.tills}, "`kasir sync` stops cleanly"
    print(run.explain())


def test_every_sale_and_refund_is_in_the_oms_exactly_once(run: Run):
    problems = []
    for till in run.tills:
        mine, theirs = run.mine[till.name], run.theirs[till.name]
        if len(mine.sales) < 20 or len(mine.refunds) < 2:
            problems.append(f"{till.name}: sold {len(mine.sales)}, refunded {len(mine.refunds)}")
        problems += compare(till.name, mine, theirs)
        problems += _check_done_records(till, mine)
    twice = [n for n, c in Counter(run.store_numbers).items() if c > 1]
    if twice:
        problems.append(f"receipt numbers booked twice in the store: {twice[:10]}")
    expected = sum(len(m.sales) for m in run.mine.values())
    if len(run.store_numbers) != expected:
        problems.append(f"{len(run.store_numbers)} store orders in the OMS, {expected} sales")
    assert not problems, "\n".join(problems) + "\n" + run.explain()


def test_totals_per_terminal_equal_the_tills_z_reports(run: Run):
    problems = []
    for till in run.tills:
        problems += _check_z(
            till, run.mine[till.name], run.theirs[till.name], run.z_texts[till.name]
        )
    assert not problems, "\n".join(problems) + "\n" + run.explain()


def _stock_problems(run: Run, skus: set[str]) -> list[str]:
    moved: Counter = Counter()
    for view in run.mine.values():
        moved.update(view.stock_moved)
    problems = []
    for sku in sorted(skus):
        expected = run.stock_before[sku] + moved[sku]
        if run.stock_after.get(sku) != expected:
            problems.append(
                f"stock of {sku} in the OMS: {run.stock_after.get(sku)}; expected {expected} "
                f"(before {run.stock_before[sku]}, moved by the tills' sales and refunds "
                f"{moved[sku]})"
            )
    return problems


def test_stock_in_the_oms_follows_the_tills_ledgers(run: Run):
    """On hand = before - sold + restocked, per product: units for goods sold by the piece,
    grams for the weighed one (scale labels with a weight, and with a price that implies it)."""
    assert set(WEIGHED) < set(run.stock_before), run.stock_before
    problems = _stock_problems(run, set(run.stock_before))
    assert not problems, "\n".join(problems) + "\n" + run.explain()


def _check_done_records(till: Till, mine: TillView) -> list[str]:
    """What the seller was told it completed is on the till (and so, checked by `compare`, in
    the OMS)."""
    problems = []
    for line in Path(till.done_file).read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "begin" or record["training"]:
            continue
        held = mine.sales if record["kind"] == "sale" else mine.refunds
        if record["id"] not in held:
            problems.append(f"{till.name}: {record['kind']} {record['receipt']} completed, gone")
    return problems


def _check_z(till: Till, mine: TillView, theirs: OmsView, z_text: str) -> list[str]:
    """The OMS's totals for the terminal equal the till's own Z report, and the Z report the
    OMS received says the same."""
    z = mine.z
    if z is None or z["kind"] != "Z":
        return [f"{till.name}: no Z report on the till"]
    problems = []
    booked = {
        "sales_count": len(theirs.sales),
        "sales_total": sum(s["total"] for s in theirs.sales.values()),
        "tax_total": sum(s["tax_total"] for s in theirs.sales.values()),
        "refunds_count": len(theirs.refunds),
        "refunds_total": sum(r["total"] for r in theirs.refunds.values()),
        "refunds_tax": sum(r["tax_total"] for r in theirs.refunds.values()),
    }
    for key, value in booked.items():
        if z[key] != value:
            problems.append(f"{till.name}: Z report {key} {z[key]}, the OMS books {value}")
    if len(theirs.shift_closed) != 1:
        problems.append(f"{till.name}: the OMS holds {len(theirs.shift_closed)} Z reports, not 1")
    else:
        sent = theirs.shift_closed[0]
        for key in ("sales_count", "sales_total", "refunds_total", "tax_total"):
            if sent[key] != z[key]:
                problems.append(f"{till.name}: Z {key} received by the OMS {sent[key]}, {z[key]}")
    if f"#{z['z_number']}" not in z_text or z["sales_count"] == 0:
        problems.append(f"{till.name}: `kasir shift close` printed no Z #{z['z_number']}")
    return problems


# -- an OMS too slow to answer a full batch in time ------------------------------------------


def test_a_backlog_drains_through_an_oms_too_slow_for_full_batches(oms_server, tmp_path):
    """An OMS that books a batch of 100 but answers it only after the till's timeout (each
    event costs it 12 ms; the till waits 1 s): the till must still drain, by sending smaller
    batches, and the OMS must hold every event once. With a fixed batch of 100 the till would
    resend the same batch for ever."""
    from appliance import sync
    from appliance.cart import Cart
    from appliance.checkout import complete_sale
    from appliance.config import Config
    from appliance.enrol import enrol
    from appliance.shifts import open_shift
    from appliance.staff import StaffInfo
    from appliance.store.catalog_import import import_catalog
    from appliance.store.db import open_store
    from appliance.store.models import Staff
    from retail.ids import uuid7
    from retail.pins import hash_secret
    from retail.pricing import TenderInput
    from tests.appliance.tillkit import FAST, MANAGER_PIN
    from tests.sync.tillrig import CATALOG_CSV

    proxy = ChaosProxy(oms_server.port)
    database = open_store(tmp_path / "kasir.sqlite3")
    try:
        config = Config(env={}, cli={"till.data_dir": str(tmp_path)})
        config.attach_store()
        import_catalog(CATALOG_CSV, config)
        manager = StaffInfo(uuid7(), "Manager slow", "manager")
        Staff.create(
            id=manager.id,
            name=manager.name,
            role=manager.role,
            pin_hash=hash_secret(MANAGER_PIN, **FAST),
        )
        enrol(config, tmp_path, proxy.url, enrol_code(oms_server, STORE, "Kasir slow"))
        open_shift(manager, 0, config)
        for n in range(130):
            cart = Cart(config, staff=manager)
            cart.add_sku(("IDM", "AQ", "TLR")[n % 3], 1 + n % 4)
            complete_sale(cart, [TenderInput("cash", 100_000)], staff=manager, config=config)
        proxy.seconds_per_event = 0.012
        link = sync.SyncLink.from_store(config, tmp_path, timeout=(1.0, 1.0))
        stop = threading.Event()
        runner = threading.Thread(target=link.run, args=(stop,), kwargs={"interval": 0.2})
        runner.start()
        try:
            wait_until(
                lambda: sync.status()["outbox_pending"] == 0,
                60,
                "the backlog drained through the slow OMS",
                lambda: f"uploads seen (events each): {proxy.post_sizes}; {sync.status()}",
            )
        finally:
            stop.set()
            runner.join(10)
        terminal_id = json.loads(
            database.execute_sql(
                "SELECT value FROM setting WHERE key = 'identity.terminal_id'"
            ).fetchone()[0]
        )
        seqs = [r[0] for r in database.execute_sql("SELECT seq FROM outbox ORDER BY seq")]
    finally:
        database.close()
        proxy.close()
    theirs = oms_view(oms_server, terminal_id)
    assert theirs.accepted_seqs == seqs and not theirs.rejected and not theirs.gaps
    assert len(theirs.sales) == 130 and len(set(theirs.numbers)) == 130
    # the full batch went first and timed out (booked all the same); then half as many
    assert proxy.post_sizes[:2] == [100, 50], proxy.post_sizes
