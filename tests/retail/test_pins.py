import doctest
import hashlib

import pytest

import retail.pins
from retail.pins import N, P, R, check_pin_format, hash_secret, verify_secret

# The production cost (n=2**14) takes tens of milliseconds a hash; most tests use a cheap one,
# which the format carries with it, so verifying needs no extra argument.
CHEAP = dict(n=2**4, r=8, p=1)


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_secret("4821")


def test_docstring_examples_hold():
    assert doctest.testmod(retail.pins).failed == 0


def test_hash_format_carries_its_parameters(stored):
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", N, R, P)
    assert (N, R, P) == (2**14, 8, 1)
    assert len(bytes.fromhex(salt)) == 16
    assert len(bytes.fromhex(digest)) == 32
    expected = hashlib.scrypt(b"4821", salt=bytes.fromhex(salt), n=N, r=R, p=P, dklen=32)
    assert digest == expected.hex()


def test_default_hash_verifies(stored):
    assert verify_secret("4821", stored)
    assert not verify_secret("4822", stored)


def test_hashes_are_salted():
    a, b = hash_secret("123456", **CHEAP), hash_secret("123456", **CHEAP)
    assert a != b
    assert a.split("$")[4] != b.split("$")[4]
    assert verify_secret("123456", a) and verify_secret("123456", b)


@pytest.mark.parametrize("wrong", ["1234", "12345", "1234567", "", " 123456", "123456 ", "654321"])
def test_wrong_pin_is_false(wrong):
    stored = hash_secret("123456", **CHEAP)
    assert verify_secret(wrong, stored) is False


def test_passwords_and_unicode():
    stored = hash_secret("kata sandi rahasia é", **CHEAP)
    assert verify_secret("kata sandi rahasia é", stored)
    assert not verify_secret("kata sandi rahasia e", stored)


def test_parameters_come_from_the_stored_hash():
    stored = hash_secret("0000", n=2**5, r=4, p=2)
    assert stored.startswith("scrypt$32$4$2$")
    assert verify_secret("0000", stored)
    # The same salt and digest under other parameters do not verify.
    assert not verify_secret("0000", stored.replace("scrypt$32$4$2$", "scrypt$32$4$1$"))


def _good() -> str:
    return hash_secret("4821", **CHEAP)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: "",
        lambda h: "garbage",
        lambda h: h + "$extra",
        lambda h: h.rsplit("$", 1)[0],  # no digest
        lambda h: h.replace("scrypt$", "bcrypt$", 1),
        lambda h: h.replace("scrypt$", "SCRYPT$", 1),
        lambda h: h.replace("$16$", "$sixteen$", 1),
        lambda h: h.replace("$16$", "$17$", 1),  # n must be a power of two
        lambda h: h.replace("$16$", "$0$", 1),
        lambda h: h.replace("$16$", "$-16$", 1),
        lambda h: h.replace("$16$", f"${2**30}$", 1),  # beyond scrypt's memory limit
        lambda h: h.replace("$16$", f"${10**30}$", 1),
        lambda h: h.replace("$8$1$", "$0$1$", 1),
        lambda h: h.replace("$8$1$", "$8$0$", 1),
        lambda h: h.replace("$8$1$", f"$8${10**30}$", 1),
        lambda h: "$".join([*h.split("$")[:4], "zz" * 16, h.split("$")[5]]),  # salt not hex
        lambda h: "$".join([*h.split("$")[:4], "abc", h.split("$")[5]]),  # odd-length hex
        lambda h: h[:-2],  # digest cut short
        lambda h: h[:-1] + ("0" if h[-1] != "0" else "1"),  # digest altered
        lambda h: h.upper(),
    ],
)
def test_malformed_stored_hash_is_false(mangle):
    bad = mangle(_good())
    assert verify_secret("4821", bad) is False


@pytest.mark.parametrize("pin", ["0000", "1234", "12345678", "000000", "98765"])
def test_pin_format_ok(pin):
    assert check_pin_format(pin) is None


@pytest.mark.parametrize(
    "pin",
    [
        "",
        "123",
        "123456789",
        "12a4",
        "12 34",
        " 1234",
        "1234\n",
        "-1234",
        "12.34",
        "١٢٣٤",  # Arabic-Indic digits: a till keypad cannot type them
        "²³⁴⁵",  # superscripts pass str.isdigit()
        "１２３４",  # full-width
    ],
)
def test_pin_format_errors(pin):
    with pytest.raises(ValueError) as info:
        check_pin_format(pin)
    assert str(info.value) == "a PIN is 4 to 8 digits"


def test_pin_format_with_other_lengths():
    check_pin_format("123456", (6, 6))
    with pytest.raises(ValueError, match=r"^a PIN is 6 to 6 digits$"):
        check_pin_format("12345", (6, 6))
    with pytest.raises(ValueError, match=r"^a PIN is 6 to 6 digits$"):
        check_pin_format("1234567", (6, 6))
