"""The till's side of the link to the OMS: upload the outbox, pull the catalog, heartbeat.

    >>> link = SyncLink.from_store(config, data_dir)          # doctest: +SKIP
    >>> link.round()                                         # doctest: +SKIP
    RoundReport(uploaded=12, accepted=12, ...)

Exactly once, in effect: events go up in sequence order, as the very bytes stored when they
were born, and are resent unchanged until the OMS answers. `accepted` and `duplicate` mark an
event delivered; `rejected` quarantines it with the OMS's reason — shown on the till and in
`kasir status`, never retried blindly, never deleted — and the events that depend on it (a
refund of a rejected sale) wait with it. Everything else keeps flowing.

This runs in its own process (`kasir sync`, a systemd service on the Pi), never on the UI
thread, and talks to the store only through short transactions: the till keeps selling while
an upload or a catalog pull is under way.

Releases the OMS offers are fetched by `release_fetch` after each round.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from retail.catalog_wire import CatalogPage
from retail.ids import iso, parse_iso, utcnow
from retail.schema import DeviceStatus, Heartbeat

from . import __version__, identity
from .oms_client import OmsClient, OmsError, OmsTimeout, OmsUnauthorized, OmsUnavailable
from .release_fetch import ReleaseFetcher
from .store.models import Setting, db

log = logging.getLogger("kasir.sync")

TOKEN_FILE = "oms-token"
BATCH = 100
SKEW_WARNING_MS = 60_000


# -- the link's own state, kept in the store's setting table ---------------------------------


def get_state(key: str, default=None):
    row = Setting.get_or_none(Setting.key == f"sync.{key}")
    return json.loads(row.value) if row else default


def put_state(key: str, value) -> None:
    Setting.replace(key=f"sync.{key}", value=json.dumps(value), changed_at=iso(utcnow())).execute()


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / TOKEN_FILE


def read_token(data_dir: Path) -> str | None:
    path = token_path(data_dir)
    return path.read_text().strip() if path.exists() else None


# -- outbox --------------------------------------------------------------------------------------


@dataclass
class UploadReport:
    batches: int = 0
    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    waiting: int = 0  # held back behind a quarantined event


def _blocked_ids() -> set[str]:
    return {r[0] for r in db.execute_sql("SELECT id FROM outbox WHERE state = 'quarantined'")}


def pending_batch(limit: int = BATCH) -> tuple[list[tuple[int, str, bytes]], int]:
    """The next events to send, in sequence order, leaving out those that depend (directly or
    through another waiting event) on a quarantined one. Returns (batch, waiting count)."""
    blocked = _blocked_ids()
    batch, waiting = [], 0
    cursor = db.execute_sql(
        "SELECT seq, id, payload FROM outbox WHERE state = 'pending' ORDER BY seq"
    )
    for seq, event_id, payload in cursor:
        payload = bytes(payload)
        if blocked:
            depends = json.loads(payload).get("depends_on") or []
            if any(d in blocked for d in depends):
                blocked.add(event_id)
                waiting += 1
                continue
        if len(batch) < limit:
            batch.append((seq, event_id, payload))
        elif not blocked:
            break
    return batch, waiting


class BatchSize:
    """How many events go up in one request. A batch too big for a slow or busy OMS to book
    within the till's timeout would never be answered (the OMS books it all the same, and the
    resend starts over): so the size halves after each batch that timed out (the resend of what
    was booked comes back `duplicate`, which costs the OMS little) and doubles back after each
    answered one, up to `limit`."""

    def __init__(self, limit: int = BATCH):
        self.limit = self.value = limit

    def unanswered(self) -> None:
        self.value = max(1, self.value // 2)

    def answered(self) -> None:
        self.value = min(self.limit, self.value * 2)


def upload(
    client: OmsClient,
    *,
    batch_size: int | BatchSize = BATCH,
    max_batches: int = 1000,
    report: UploadReport | None = None,
) -> UploadReport:
    """Send pending events in batches until none are left. On a failure the error is raised
    and `report` (when given) says what went up before it."""
    size = batch_size if isinstance(batch_size, BatchSize) else BatchSize(batch_size)
    report = UploadReport() if report is None else report
    for _ in range(max_batches):
        limit = size.value
        batch, report.waiting = pending_batch(limit)
        if not batch:
            break
        try:
            result = client.post_events([payload for _, _, payload in batch])
        except OmsError as exc:
            with db.atomic():
                db.execute_sql(
                    f"UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                    f"WHERE seq IN ({','.join('?' * len(batch))})",
                    (str(exc)[:500], *[seq for seq, _, _ in batch]),
                )
            if isinstance(exc, OmsTimeout):
                size.unanswered()
            raise
        size.answered()
        report.batches += 1
        report.sent += len(batch)
        now = iso(utcnow())
        by_id = {o.id: o for o in result.results}
        with db.atomic():
            for seq, event_id, _ in batch:
                outcome = by_id.get(event_id)
                if outcome is None:
                    # The OMS did not answer for this one: it stays pending and goes again.
                    continue
                if outcome.outcome in ("accepted", "duplicate"):
                    db.execute_sql(
                        "UPDATE outbox SET state = 'delivered', delivered_at = ?, "
                        "attempts = attempts + 1, last_error = NULL WHERE seq = ?",
                        (now, seq),
                    )
                    if outcome.outcome == "accepted":
                        report.accepted += 1
                    else:
                        report.duplicate += 1
                else:
                    db.execute_sql(
                        "UPDATE outbox SET state = 'quarantined', attempts = attempts + 1, "
                        "last_error = ? WHERE seq = ?",
                        (outcome.reason or "rejected by the OMS", seq),
                    )
                    report.rejected += 1
                    log.warning("event %s (seq %s) quarantined: %s", event_id, seq, outcome.reason)
        if len(batch) < limit:
            break
    return report


def quarantined() -> list[dict]:
    rows = db.execute_sql(
        "SELECT seq, id, type, last_error, created_at FROM outbox WHERE state = 'quarantined' "
        "ORDER BY seq"
    ).fetchall()
    return [dict(zip(("seq", "id", "type", "reason", "created_at"), r, strict=True)) for r in rows]


def release_quarantine(seq: int | None = None) -> int:
    """Put quarantined events back in line (after the cause was fixed at the OMS)."""
    with db.atomic():
        if seq is None:
            cursor = db.execute_sql(
                "UPDATE outbox SET state = 'pending' WHERE state = 'quarantined'"
            )
        else:
            cursor = db.execute_sql(
                "UPDATE outbox SET state = 'pending' WHERE state = 'quarantined' AND seq = ?",
                (seq,),
            )
    return cursor.rowcount


# -- catalog pull -------------------------------------------------------------------------------


def _rekey(table: str, old: str, new: str, references: list[tuple[str, str]]) -> None:
    """Give a local row the OMS's id (a standalone till's product or staff member that the OMS
    merged by sku or name), moving every reference with it in the same transaction."""
    db.execute_sql("PRAGMA defer_foreign_keys = ON")
    db.execute_sql(f'UPDATE "{table}" SET id = ? WHERE id = ?', (new, old))
    for ref_table, column in references:
        db.execute_sql(f'UPDATE "{ref_table}" SET "{column}" = ? WHERE "{column}" = ?', (new, old))


PRODUCT_REFS = [
    ("barcode", "product_id"),
    ("promotion", "product_id"),
    ("sale_line", "product_id"),
    ("stock_level", "product_id"),
    ("stock_movement", "product_id"),
]


def _undelivered_moves() -> dict[str, int]:
    """Stock moved by sales and refunds the OMS has not received yet, per product: the till's
    estimate is the OMS's figure plus these."""
    rows = db.execute_sql(
        """
        SELECT m.product_id, SUM(m.qty) FROM stock_movement m
        WHERE m.cause IN ('sale', 'refund') AND m.ref IN (
            SELECT s.receipt_no FROM sale s JOIN outbox o ON o.id = s.id
            WHERE o.state != 'delivered'
            UNION
            SELECT r.receipt_no FROM refund r JOIN outbox o ON o.id = r.id
            WHERE o.state != 'delivered')
        GROUP BY m.product_id
        """
    ).fetchall()
    return dict(rows)


def _undelivered_staff() -> set[str]:
    """Staff members changed on this till whose `staff.changed` event the OMS has not had."""
    rows = db.execute_sql(
        "SELECT payload FROM outbox WHERE state = 'pending' AND type = 'staff.changed'"
    )
    return {json.loads(bytes(payload))["payload"]["staff_id"] for (payload,) in rows}


def apply_catalog_page(page: CatalogPage) -> int:
    """Write one page of catalog changes into the store; returns how many records changed.
    Sales in progress keep their prices: carts copy what they need when an item is added."""
    now = iso(utcnow())
    changed = 0
    with db.atomic("IMMEDIATE"):
        for t in page.tax_codes:
            db.execute_sql(
                "INSERT INTO tax_code (code, name, rate_bp, base_num, base_den, active) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                "rate_bp = excluded.rate_bp, base_num = excluded.base_num, "
                "base_den = excluded.base_den, active = excluded.active",
                (t.code, t.name, t.rate_bp, t.base_num, t.base_den, t.active),
            )
            changed += 1
        for c in page.categories:
            db.execute_sql(
                "INSERT INTO category (name, sort) VALUES (?, ?) ON CONFLICT (name) "
                "DO UPDATE SET sort = excluded.sort",
                (c.name, c.sort),
            )
            changed += 1
        categories = dict(db.execute_sql("SELECT name, id FROM category").fetchall())
        for p in page.products:
            local = db.execute_sql("SELECT id FROM product WHERE sku = ?", (p.sku,)).fetchone()
            if local and local[0] != p.id:
                if db.execute_sql("SELECT 1 FROM product WHERE id = ?", (p.id,)).fetchone():
                    # The OMS's id already names another local row (its sku changed): free
                    # the sku so the row with the OMS's id can take it.
                    db.execute_sql(
                        "UPDATE product SET sku = sku || '~' || id, active = 0 WHERE id = ?",
                        (local[0],),
                    )
                else:
                    _rekey("product", local[0], p.id, PRODUCT_REFS)
            if p.plu:
                db.execute_sql(
                    "UPDATE product SET plu = NULL WHERE plu = ? AND id != ?", (p.plu, p.id)
                )
            db.execute_sql(
                "INSERT INTO product (id, sku, name, price, tax_code, category_id, unit, plu, "
                "active, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE "
                "SET sku = excluded.sku, name = excluded.name, price = excluded.price, "
                "tax_code = excluded.tax_code, category_id = excluded.category_id, "
                "unit = excluded.unit, plu = excluded.plu, active = excluded.active, "
                "updated_at = excluded.updated_at",
                (
                    p.id,
                    p.sku,
                    p.name,
                    p.price,
                    p.tax_code,
                    categories.get(p.category) if p.category else None,
                    p.unit,
                    p.plu,
                    p.active,
                    now,
                ),
            )
            db.execute_sql("DELETE FROM barcode WHERE product_id = ?", (p.id,))
            for b in p.barcodes:
                db.execute_sql(
                    "INSERT INTO barcode (code, product_id, pack_qty) VALUES (?,?,?) "
                    "ON CONFLICT (code) DO UPDATE SET product_id = excluded.product_id, "
                    "pack_qty = excluded.pack_qty",
                    (b.code, p.id, b.pack_qty),
                )
            changed += 1
        held = _undelivered_staff()
        for s in page.staff:
            if s.id in held:
                # Changed here since (a new PIN...): the OMS's copy is older until the event
                # that says so is delivered, and the pull after that brings it back as is.
                continue
            # By id only: the OMS keeps each till's staff under the id the till gave them, so
            # two tills' "Manager" stay two people with their own PINs.
            db.execute_sql(
                "INSERT INTO staff (id, name, role, pin_hash, active, failed_attempts) "
                "VALUES (?,?,?,?,?,0) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                "role = excluded.role, pin_hash = excluded.pin_hash, active = excluded.active",
                (s.id, s.name, s.role, s.pin_hash, s.active),
            )
            changed += 1
        for pr in page.promotions:
            db.execute_sql(
                "INSERT INTO promotion (id, name, kind, product_id, category_id, qty, get_qty, "
                "price, starts_at, ends_at, active) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "product_id = excluded.product_id, category_id = excluded.category_id, "
                "qty = excluded.qty, get_qty = excluded.get_qty, price = excluded.price, "
                "starts_at = excluded.starts_at, ends_at = excluded.ends_at, "
                "active = excluded.active",
                (
                    pr.id,
                    pr.name,
                    pr.kind,
                    pr.product_id,
                    categories.get(pr.category) if pr.category else None,
                    pr.qty,
                    pr.get_qty,
                    pr.price,
                    iso(pr.starts_at) if pr.starts_at else None,
                    iso(pr.ends_at) if pr.ends_at else None,
                    pr.active,
                ),
            )
            changed += 1
        if page.stock:
            pending = _undelivered_moves()
            for st in page.stock:
                if not db.execute_sql(
                    "SELECT 1 FROM product WHERE id = ?", (st.product_id,)
                ).fetchone():
                    continue
                estimate = st.on_hand + pending.get(st.product_id, 0)
                db.execute_sql(
                    "INSERT INTO stock_level (product_id, on_hand, reserved, pulled_on_hand, "
                    "updated_at) VALUES (?,?,?,?,?) ON CONFLICT (product_id) DO UPDATE SET "
                    "on_hand = excluded.on_hand, reserved = excluded.reserved, "
                    "pulled_on_hand = excluded.pulled_on_hand, updated_at = excluded.updated_at",
                    (st.product_id, estimate, st.reserved, st.on_hand, now),
                )
                changed += 1
        for r in page.removals:
            if r.kind == "product":
                db.execute_sql("UPDATE product SET active = 0 WHERE id = ?", (r.key,))
            elif r.kind == "staff":
                db.execute_sql("UPDATE staff SET active = 0 WHERE id = ?", (r.key,))
            elif r.kind == "promotion":
                db.execute_sql("UPDATE promotion SET active = 0 WHERE id = ?", (r.key,))
            elif r.kind == "tax_code":
                db.execute_sql("UPDATE tax_code SET active = 0 WHERE code = ?", (r.key,))
            elif r.kind == "category":
                db.execute_sql(
                    "UPDATE product SET category_id = NULL WHERE category_id = "
                    "(SELECT id FROM category WHERE name = ?)",
                    (r.key,),
                )
                db.execute_sql("DELETE FROM category WHERE name = ?", (r.key,))
            changed += 1
        put_state("catalog_cursor", page.next_cursor)
        put_state("catalog_pulled_at", now)
    return changed


def pull_catalog(client: OmsClient, *, max_pages: int = 1000) -> int:
    changed = 0
    for _ in range(max_pages):
        page = client.pull_catalog(get_state("catalog_cursor"))
        changed += apply_catalog_page(page)
        if not page.more:
            break
    return changed


# -- heartbeat, pickup orders -------------------------------------------------------------------


def heartbeat(client: OmsClient, devices: list[DeviceStatus] | None = None) -> int:
    """Report health; returns the clock skew against the OMS in ms (positive: till ahead)."""
    return heartbeat_answer(client, devices)[0]


def heartbeat_answer(
    client: OmsClient, devices: list[DeviceStatus] | None = None
) -> tuple[int, dict]:
    """`heartbeat`, also returning the OMS's answer (which may offer a release)."""
    counts = db.execute_sql(
        "SELECT SUM(state = 'pending'), SUM(state = 'quarantined'), MAX(seq) FROM outbox"
    ).fetchone()
    sent_at = utcnow()
    answer = client.heartbeat(
        Heartbeat(
            version=__version__,
            outbox_depth=counts[0] or 0,
            quarantined=counts[1] or 0,
            last_seq=counts[2] or 0,
            clock=sent_at,
            devices=devices or [],
        )
    )
    received_at = utcnow()
    server = parse_iso(answer["server_time"])
    midpoint = sent_at + (received_at - sent_at) / 2
    skew = int((midpoint - server).total_seconds() * 1000)
    put_state("clock_skew_ms", skew)
    put_state("sequence_gaps", answer.get("sequence_gaps", []))
    return skew, answer


def fetch_pickup_orders(client: OmsClient) -> list[dict]:
    orders = client.pickup_orders()
    put_state("pickup_orders", orders)
    put_state("pickup_orders_at", iso(utcnow()))
    return orders


# -- the loop -----------------------------------------------------------------------------------


@dataclass
class RoundReport:
    upload: UploadReport = field(default_factory=UploadReport)
    catalog_changes: int = 0
    clock_skew_ms: int | None = None
    pickup_orders: int = 0


class Backoff:
    """Exponential backoff with full jitter: many tills coming back after an OMS outage do not
    all knock at the same second."""

    def __init__(self, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None):
        self.base, self.cap, self.failures = base, cap, 0
        self.rng = rng or random.Random()

    def failed(self) -> float:
        self.failures += 1
        return self.rng.uniform(0, min(self.cap, self.base * 2 ** (self.failures - 1)))

    def succeeded(self) -> None:
        self.failures = 0


class SyncLink:
    def __init__(self, client: OmsClient, devices=None, releases: ReleaseFetcher | None = None):
        self.client = client
        self.devices = devices
        self.releases = releases  # None: offered releases are not fetched
        self.background_downloads = False  # run() turns it on
        self.batch = BatchSize()
        self.last_round = RoundReport()  # the round under way, or the last one

    @classmethod
    def from_store(cls, config, data_dir: Path, **client_args) -> SyncLink:
        token = read_token(data_dir)
        url = get_state("oms_url")
        if not token or not url:
            raise OmsError("this till is not enrolled: run `kasir enrol URL CODE` first")
        timeout = float(config["oms.timeout"])
        client_args.setdefault("timeout", (min(5.0, timeout), timeout))

        def make_client() -> OmsClient:
            return OmsClient(
                url,
                token=token,
                ca_file=config["oms.ca_file"] or None,
                allow_http=config["oms.allow_http"],
                **client_args,
            )

        return cls(make_client(), releases=ReleaseFetcher(make_client, data_dir))

    def round(self) -> RoundReport:
        report = self.last_round = RoundReport()
        try:
            if get_state("catalog_merged") is False:
                # Enrolment's merge did not get through: the till's own catalog goes up first.
                from .enrol import till_catalog

                self.client.merge_catalog(till_catalog())
                put_state("catalog_merged", True)
            upload(self.client, batch_size=self.batch, report=report.upload)
            report.catalog_changes = pull_catalog(self.client)
            report.clock_skew_ms, answer = heartbeat_answer(
                self.client, self.devices() if self.devices else None
            )
            report.pickup_orders = len(fetch_pickup_orders(self.client))
        except OmsError as exc:
            put_state("reachable", False)
            put_state("last_error", str(exc))
            put_state("last_error_at", iso(utcnow()))
            raise
        put_state("reachable", True)
        put_state("last_success_at", iso(utcnow()))
        if self.releases is not None:
            # Last, and never raising: a release that cannot be fetched must not make the
            # round (whose sales already went up) count as failed.
            try:
                self.releases.offered(answer, background=self.background_downloads)
            except Exception:
                log.exception("checking the offered release failed")
        return report

    def run(self, stop: threading.Event, interval: float = 10.0, backoff: Backoff | None = None):
        """Rounds until `stop` is set: `interval` apart when all is well, backing off (with
        jitter) while the OMS is unreachable. A revoked token stops the loop."""
        backoff = backoff or Backoff()
        self.background_downloads = True
        while not stop.is_set():
            try:
                self.round()
                backoff.succeeded()
                wait = interval
            except OmsUnauthorized as exc:
                log.error("%s", exc)
                raise
            except (OmsUnavailable, OmsError) as exc:
                if self.last_round.upload.batches:
                    # Batches were answered before this failure: the OMS is there, maybe slow
                    # or busy, so the next try comes soon rather than ever later.
                    backoff.succeeded()
                wait = backoff.failed()
                log.warning("sync failed (%s); next try in %.1f s", exc, wait)
            up = self.last_round.upload
            if up.sent:
                log.info(
                    "uploaded %d events (%d accepted, %d duplicate, %d rejected)",
                    up.sent,
                    up.accepted,
                    up.duplicate,
                    up.rejected,
                )
            stop.wait(wait)


def status() -> dict:
    """What `kasir status` and the till's status bar show about the link."""
    counts = db.execute_sql(
        "SELECT SUM(state = 'pending'), SUM(state = 'quarantined'), SUM(state = 'delivered') "
        "FROM outbox"
    ).fetchone()
    pulled = get_state("catalog_pulled_at")
    skew = get_state("clock_skew_ms")
    return {
        "enrolled": identity.load().enrolled,
        "oms_url": get_state("oms_url"),
        "reachable": get_state("reachable"),
        "last_success_at": get_state("last_success_at"),
        "last_error": get_state("last_error"),
        "outbox_pending": counts[0] or 0,
        "outbox_quarantined": counts[1] or 0,
        "outbox_delivered": counts[2] or 0,
        "catalog_cursor": get_state("catalog_cursor"),
        "catalog_pulled_at": pulled,
        "catalog_age_s": (int((utcnow() - parse_iso(pulled)).total_seconds()) if pulled else None),
        "clock_skew_ms": skew,
        "clock_warning": skew is not None and abs(skew) > SKEW_WARNING_MS,
    }
