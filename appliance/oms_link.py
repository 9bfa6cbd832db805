"""What the till's screens ask of the OMS: its state, pickup orders, another till's sales.

    >>> link = OmsLink()
    >>> link.status().text                                   # doctest: +SKIP
    'not enrolled'
    >>> link.pickup_orders()                                 # doctest: +SKIP
    Traceback (most recent call last):
    OmsUnavailable: this till is not enrolled with an OMS: ...

The screens call only this small interface, from a worker thread (a real link talks over the
network), and show `OmsUnavailable`'s message as it is. This module is the honest current
behaviour: the till's UI process holds no connection to the OMS, so a till that is not
enrolled says so, and an enrolled one reports the OMS as offline from here, with the number
of events still waiting in its outbox. The sync service fills these methods in with real calls;
the screens do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import identity

if TYPE_CHECKING:  # the wire schema (pydantic) costs ~100 ms at start: loaded when used
    from retail.schema import StoreSale


class OmsUnavailable(RuntimeError):
    """The OMS cannot answer this now; the message says why in words for the cashier."""


@dataclass(frozen=True)
class LinkStatus:
    enrolled: bool
    online: bool
    pending: int  # events waiting to be sent
    quarantined: int  # events the OMS rejected, shown until someone deals with them

    @property
    def state(self) -> str:
        if not self.enrolled:
            return "not_enrolled"
        return "online" if self.online else "offline"


@dataclass(frozen=True)
class PickupLine:
    name: str
    qty: int
    total: int


@dataclass(frozen=True)
class PickupOrder:
    order_id: str
    number: str  # the order number the customer quotes
    customer: str
    total: int
    paid: int  # already paid online
    lines: tuple[PickupLine, ...] = ()

    @property
    def due(self) -> int:
        return max(0, self.total - self.paid)


NOT_ENROLLED = (
    "this till is not enrolled with an OMS, so it only knows its own sales and has no pickup "
    "orders; a manager can enrol it with `kasir enrol`"
)


class OmsLink:
    """The till's view of the OMS. Every method may block: call it off the UI thread.

    Status and pickup orders come from what the sync service (`kasir sync`, its own process)
    last learned, kept in the store; pickup payments and collections are till events that go
    to the OMS through the outbox like every sale, so they work offline too. Looking up another
    till's sale asks the OMS directly."""

    def status(self) -> LinkStatus:
        from . import outbox, sync  # the event schema they load is not needed before this

        counts = outbox.depth()
        return LinkStatus(
            enrolled=identity.load().enrolled,
            online=bool(sync.get_state("reachable")),
            pending=counts["pending"],
            quarantined=counts["quarantined"],
        )

    def _unavailable(self) -> OmsUnavailable:
        status = self.status()
        if not status.enrolled:
            return OmsUnavailable(NOT_ENROLLED)
        return OmsUnavailable(
            f"the OMS cannot be reached from this till right now ({status.pending} events "
            "waiting to be sent); try again when it is back online"
        )

    def pickup_orders(self) -> list[PickupOrder]:
        """Orders waiting to be collected at this store, as the sync service last fetched them
        (less those collected here since)."""
        from . import sync

        if not identity.load().enrolled:
            raise OmsUnavailable(NOT_ENROLLED)
        fetched = sync.get_state("pickup_orders")
        if fetched is None:
            raise self._unavailable()
        done = set(sync.get_state("pickup_done", []))
        paid_here = _paid_since(sync.get_state("pickup_orders_at") or "")
        return [
            PickupOrder(
                order_id=o["order_id"],
                number=o["number"],
                customer=o.get("customer_name") or "",
                total=o["total"],
                paid=min(o["total"], o["total"] - o["due"] + paid_here.get(o["order_id"], 0)),
                lines=tuple(PickupLine(ln["name"], ln["qty"], 0) for ln in o.get("lines", [])),
            )
            for o in fetched
            if o["order_id"] not in done
        ]

    def take_payment(
        self,
        order_id: str,
        tender: str,
        amount: int,
        reference: str | None,
        staff_id: str | None = None,
        tendered: int | None = None,
    ) -> PickupOrder:
        """Record the payment of a pickup order's balance at this till (an `order.paid`
        event, and the cash in this shift's drawer count); returns the order as it was."""
        from .pickup import pay_order

        order = self._order(order_id)
        pay_order(
            order_id,
            order.number,
            tender,
            amount,
            reference,
            staff_id=staff_id,
            tendered=tendered,
        )
        return order

    def mark_collected(self, order_id: str, staff_id: str) -> None:
        from . import sync
        from .pickup import collected

        self._order(order_id)
        collected(order_id, staff_id)
        sync.put_state("pickup_done", [*sync.get_state("pickup_done", []), order_id])

    def _order(self, order_id: str) -> PickupOrder:
        for order in self.pickup_orders():
            if order.order_id == order_id:
                return order
        raise OmsUnavailable("that order is no longer waiting for pickup")

    def remote_sale(self, receipt_no: str) -> StoreSale:
        """A sale of any till of this store as the OMS holds it, with the refunds booked
        against it (for `refunds.adopt_remote`). Runs on the network thread."""
        from . import sync
        from .oms_client import OmsError, OmsUnauthorized
        from .store.models import db

        if not identity.load().enrolled:
            raise OmsUnavailable(NOT_ENROLLED)
        data_dir = Path(db.obj.database).parent
        try:
            link = sync.SyncLink.from_store(_config(), data_dir)
            sale = link.client.past_sale(receipt_no)
        except OmsUnauthorized as exc:
            raise OmsUnavailable(str(exc)) from None
        except OmsError:
            raise self._unavailable() from None
        if sale is None:
            raise LookupError(
                "the OMS knows no sale of this store with that number (a sale reaches the OMS "
                "when its till syncs)"
            )
        return sale


def _paid_since(fetched_at: str) -> dict[str, int]:
    """Money this till took for pickup orders that the last fetched list cannot show yet: its
    `order.paid` events not delivered before that fetch (the fetch follows the upload in each
    sync round). Without it, a paid order would ask to be paid again until the next round."""
    import json

    from .store.models import db

    paid: dict[str, int] = {}
    rows = db.execute_sql(
        "SELECT payload FROM outbox WHERE type = 'order.paid' "
        "AND (state != 'delivered' OR delivered_at >= ?)",
        (fetched_at,),
    )
    for (payload,) in rows:
        event = json.loads(bytes(payload))["payload"]
        paid[event["order_id"]] = paid.get(event["order_id"], 0) + event["total"]
    return paid


def _config():
    from .config import Config

    config = Config.load()
    config.attach_store()
    return config
