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

from . import identity


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


@dataclass(frozen=True)
class RemoteSale:
    """A sale made on another till, as the OMS holds it, for a refund here."""

    receipt_no: str
    till: str
    created_at: str
    total: int
    lines: tuple[PickupLine, ...] = ()


NOT_ENROLLED = (
    "this till is not enrolled with an OMS, so it only knows its own sales and has no pickup "
    "orders; a manager can enrol it with `kasir enrol`"
)


class OmsLink:
    """The till's view of the OMS. Every method may block: call it off the UI thread."""

    def status(self) -> LinkStatus:
        from . import outbox  # the event schema it loads is not needed before this

        counts = outbox.depth()
        return LinkStatus(
            enrolled=identity.load().enrolled,
            online=False,
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
        """Orders waiting to be collected at this store."""
        raise self._unavailable()

    def take_payment(self, order_id: str, tender: str, amount: int, reference: str | None) -> None:
        """Record the payment of a pickup order's balance at this till."""
        raise self._unavailable()

    def mark_collected(self, order_id: str, staff_id: str) -> None:
        raise self._unavailable()

    def remote_sale(self, receipt_no: str) -> RemoteSale:
        """A sale of another till of this store, to refund here."""
        raise self._unavailable()
