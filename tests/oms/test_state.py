"""The order state machine: every legal and illegal move, payment state apart, and every move
recorded with actor and time."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orders_factory import make_product, make_store

from cloud_oms import orders, state
from cloud_oms.models.orders import Order, OrderTransition
from cloud_oms.stock import adjust

EXPECTED = {
    ("pending", "confirmed"), ("pending", "cancelled"),
    ("confirmed", "processing"), ("confirmed", "partially_fulfilled"),
    ("confirmed", "fulfilled"), ("confirmed", "cancelled"),
    ("processing", "partially_fulfilled"), ("processing", "fulfilled"),
    ("processing", "cancelled"),
    ("partially_fulfilled", "partially_fulfilled"), ("partially_fulfilled", "fulfilled"),
    ("fulfilled", "shipped"), ("fulfilled", "ready_for_pickup"),
    ("shipped", "delivered"), ("shipped", "partially_returned"), ("shipped", "returned"),
    ("ready_for_pickup", "collected"), ("ready_for_pickup", "cancelled"),
    ("delivered", "partially_returned"), ("delivered", "returned"),
    ("collected", "partially_returned"), ("collected", "returned"),
    ("partially_returned", "partially_returned"), ("partially_returned", "returned"),
}  # fmt: skip


def test_the_transition_table_is_exactly_the_documented_one():
    legal = {(a, b) for a, b in itertools.product(state.STATUSES, repeat=2) if state.allowed(a, b)}
    assert legal == EXPECTED
    assert set(state.TRANSITIONS) == set(state.STATUSES)
    for terminal in ("cancelled", "returned"):
        assert not state.TRANSITIONS[terminal]


def test_every_state_is_reachable_from_pending_and_can_end():
    seen, frontier = {"pending"}, ["pending"]
    while frontier:
        for nxt in state.TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(state.STATUSES)
    ends = {s for s in state.STATUSES if not state.TRANSITIONS[s] - {s}}
    assert ends == {"cancelled", "returned"}


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "expected"),
    [
        (100, 0, 0, "unpaid"),
        (100, 40, 0, "partially_paid"),
        (100, 100, 0, "paid"),
        (100, 100, 30, "partially_refunded"),
        (100, 100, 100, "refunded"),
        (100, 40, 40, "refunded"),
        (0, 0, 0, "unpaid"),
    ],
)
def test_payment_state_follows_the_amounts(total, paid, refunded, expected):
    assert state.payment_state_for(total, paid, refunded) == expected


def test_illegal_transition_names_the_current_state_and_the_action():
    exc = state.IllegalTransition("shipped", "cancelled", "WEB-7")
    assert str(exc) == "order WEB-7 is shipped; cannot cancel"
    assert (exc.current, exc.wanted) == ("shipped", "cancelled")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(state.STATUSES), max_size=12))
def test_random_walks_only_take_listed_moves(moves):
    """Model check: a walk that tries arbitrary moves ends where the table says it can."""
    current, taken = "pending", []
    for wanted in moves:
        if state.allowed(current, wanted):
            taken.append((current, wanted))
            current = wanted
    assert all(step in EXPECTED for step in taken)
    assert current in state.STATUSES


def test_transitions_are_recorded_with_actor_and_refused_moves_change_nothing(oms_db):
    store = make_store()
    kopi = make_product("KOPI", 45_000)
    adjust(store, kopi, 5, "opening", "system")
    spec = orders.OrderSpec(kind="phone", store=store, lines=[orders.LineSpec(sku="KOPI", qty=1)])
    order = orders.create_order(spec, "user:a@toko.id")
    orders.confirm(order, "user:b@toko.id")
    with pytest.raises(state.IllegalTransition, match=r"is confirmed; cannot deliver"):
        orders.deliver(order, "user:c@toko.id")
    with pytest.raises(
        state.IllegalTransition, match=r"is confirmed; cannot make ready for pickup"
    ):
        orders.ready_for_pickup(order, "user:c@toko.id")
    orders.cancel(order, "user:d@toko.id", "double order")
    with pytest.raises(state.IllegalTransition, match=r"is cancelled; cannot confirm"):
        orders.confirm(order, "user:e@toko.id")
    with pytest.raises(state.IllegalTransition, match=r"is cancelled; cannot take a payment"):
        orders.add_payment(order, orders.PaymentSpec("cash"), "user:e@toko.id")
    rows = list(
        OrderTransition.select()
        .where((OrderTransition.order == order.id) & (OrderTransition.machine == "status"))
        .order_by(OrderTransition.at, OrderTransition.id)
    )
    assert [(r.from_state, r.to_state, r.actor) for r in rows] == [
        (None, "pending", "user:a@toko.id"),
        ("pending", "confirmed", "user:b@toko.id"),
        ("confirmed", "cancelled", "user:d@toko.id"),
    ]
    assert rows[-1].note == "double order"
    assert all(r.at.tzinfo is not None for r in rows)
    assert rows[0].at <= rows[1].at <= rows[2].at
    assert Order.get_by_id(order.id).status == "cancelled"
