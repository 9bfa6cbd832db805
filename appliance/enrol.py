"""Enrolment: a one-time code from the OMS becomes this till's identity and token.

    $ kasir enrol https://oms.tokomaju.id K7Q2-9XTM

The token goes into a file only the till's user can read. The till's own catalog goes up to be
merged (once), and its outbox sequence and receipt counters continue above what the OMS
already holds for this terminal — so a replacement SD card enrolled as the same terminal never
reuses a number — then the OMS's catalog, staff and stock come down.

A till with undelivered events is not re-enrolled without `--force`, which first exports them
to a file: the events belong to the old enrolment and must not be lost or sent under a new one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from retail.catalog_wire import (
    BarcodeWire,
    CategoryWire,
    ProductWire,
    StaffWire,
    TaxCodeWire,
    TillCatalog,
    TillStockWire,
)
from retail.ids import iso, utcnow

from . import audit, identity, sync
from .oms_client import OmsClient
from .store.db import raise_counter
from .store.models import Category, Product, Staff, StockLevel, TaxCode, db


class EnrolError(RuntimeError):
    pass


@dataclass(frozen=True)
class Enrolled:
    terminal_code: str
    store_code: str
    store_name: str
    last_seq: int
    last_receipt_seq: int
    catalog_created: dict
    exported: Path | None


def export_undelivered(path: Path) -> int:
    """Write every event not yet delivered to `path` (JSON lines of the stored bytes)."""
    rows = db.execute_sql(
        "SELECT seq, id, state, payload FROM outbox WHERE state != 'delivered' ORDER BY seq"
    ).fetchall()
    with open(path, "w", encoding="utf-8") as out:
        for seq, event_id, state, payload in rows:
            out.write(
                json.dumps(
                    {"seq": seq, "id": event_id, "state": state, "event": bytes(payload).decode()}
                )
                + "\n"
            )
    return len(rows)


def till_catalog() -> TillCatalog:
    """This till's own catalog, as a standalone till built it, for the OMS to merge by sku."""
    barcodes: dict[str, list[BarcodeWire]] = {}
    for code, product_id, pack in db.execute_sql("SELECT code, product_id, pack_qty FROM barcode"):
        barcodes.setdefault(product_id, []).append(BarcodeWire(code=code, pack_qty=pack))
    categories = {c.id: c.name for c in Category.select()}
    return TillCatalog(
        tax_codes=[
            TaxCodeWire(
                code=t.code,
                name=t.name,
                rate_bp=t.rate_bp,
                base_num=t.base_num,
                base_den=t.base_den,
                active=t.active,
            )
            for t in TaxCode.select()
        ],
        categories=[CategoryWire(name=c.name, sort=c.sort) for c in Category.select()],
        products=[
            ProductWire(
                id=p.id,
                sku=p.sku,
                name=p.name,
                price=p.price,
                tax_code=p.tax_code_id,
                category=categories.get(p.category_id),
                unit=p.unit,
                plu=p.plu,
                active=p.active,
                barcodes=barcodes.get(p.id, [])[:50],
            )
            for p in Product.select()
        ],
        staff=[
            StaffWire(id=s.id, name=s.name, role=s.role, pin_hash=s.pin_hash, active=s.active)
            for s in Staff.select()
        ],
        stock=[
            TillStockWire(product_id=s.product_id, on_hand=max(0, s.on_hand))
            for s in StockLevel.select()
        ],
    )


def write_token(data_dir: Path, token: str) -> None:
    path = sync.token_path(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def enrol(
    config,
    data_dir: Path,
    url: str,
    code: str,
    *,
    name: str | None = None,
    force: bool = False,
    export_to: Path | None = None,
    client: OmsClient | None = None,
) -> Enrolled:
    data_dir = Path(data_dir)
    undelivered = db.execute_sql(
        "SELECT COUNT(*) FROM outbox WHERE state != 'delivered'"
    ).fetchone()[0]
    ident = identity.load()
    exported = None
    if ident.enrolled and undelivered:
        if not force:
            raise EnrolError(
                f"this till is enrolled and {undelivered} event(s) have not reached the OMS; "
                "sync first, or re-enrol with --force (which exports them to a file first)"
            )
        exported = export_to or data_dir / f"undelivered-{utcnow():%Y%m%dT%H%M%S}.jsonl"
        export_undelivered(exported)
    client = client or OmsClient(
        url, ca_file=config["oms.ca_file"] or None, allow_http=config["oms.allow_http"]
    )
    answer = client.enrol(code, name or config["till.name"])
    write_token(data_dir, answer.token)
    with db.atomic("IMMEDIATE"):
        if exported is not None:
            db.execute_sql(
                "UPDATE outbox SET state = 'quarantined', last_error = ? "
                "WHERE state != 'delivered'",
                (f"exported to {exported} before re-enrolment",),
            )
        clashing = db.execute_sql(
            "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND seq <= ?",
            (answer.last_seq,),
        ).fetchone()[0]
        if clashing:
            # Sold here before this card took over a terminal the OMS already has numbers
            # from: those numbers are taken, so the events are kept aside, not sent.
            exported = exported or data_dir / f"undelivered-{utcnow():%Y%m%dT%H%M%S}.jsonl"
            export_undelivered(exported)
            db.execute_sql(
                "UPDATE outbox SET state = 'quarantined', last_error = ? "
                "WHERE state = 'pending' AND seq <= ?",
                (
                    f"numbered before replacing terminal {answer.terminal_code}; exported to "
                    f"{exported}",
                    answer.last_seq,
                ),
            )
        raise_counter("outbox_seq", answer.last_seq)
        raise_counter("receipt_seq", answer.last_receipt_seq)
        identity.save(
            identity.Identity(
                answer.terminal_id, answer.terminal_code, answer.store_code, answer.store_name, True
            )
        )
        sync.put_state("oms_url", client.base_url)
        sync.put_state("enrolled_at", iso(utcnow()))
        sync.put_state("catalog_cursor", None)
    authed = OmsClient(
        client.base_url,
        token=answer.token,
        ca_file=config["oms.ca_file"] or None,
        allow_http=config["oms.allow_http"],
    )
    sync.put_state("catalog_merged", False)
    merged = authed.merge_catalog(till_catalog())
    sync.put_state("catalog_merged", True)
    sync.pull_catalog(authed)
    audit.record(
        "setting_changed",
        staff_id=None,
        detail={"enrolled": answer.terminal_code, "store": answer.store_code},
        tz=config["store.timezone"],
        send=False,
    )
    return Enrolled(
        answer.terminal_code,
        answer.store_code,
        answer.store_name,
        answer.last_seq,
        answer.last_receipt_seq,
        merged.created,
        exported,
    )
