"""Signature checks against the providers' own scheme; stripe-python is the oracle for Stripe."""

import hashlib
import hmac
import time

import pytest
import stripe

from devstack.support.signing import stripe_signature, typeform_signature
from webhook_bridge.signatures import InvalidSignatureError, MissingSignatureError, StaleTimestampError
from webhook_bridge.signatures.stripe import verify_stripe_signature
from webhook_bridge.signatures.typeform import verify_typeform_signature

SECRET = "whsec_test_secret"
BODY = '{"id":"evt_1","type":"customer.created","data":{"object":{"name":"Zoë"}}}'.encode()


def stripe_header(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """The oracle: the header exactly as stripe-python generates it."""
    ts = int(time.time()) if timestamp is None else timestamp
    return stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=ts)


@pytest.fixture
def header_factory():
    return stripe_header


def test_accepts_what_stripe_python_signs(header_factory):
    header = header_factory(BODY)
    assert verify_stripe_signature(BODY, header, [SECRET]) == int(header.split(",")[0][2:])
    # and stripe-python agrees with us on the same header
    stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)


def test_rejects_a_body_changed_by_one_byte(header_factory):
    header = header_factory(BODY)
    with pytest.raises(InvalidSignatureError, match=r"^no Stripe signature matches the payload$"):
        verify_stripe_signature(BODY.replace(b"Zo", b"Zu"), header, [SECRET])


def test_rejects_the_wrong_secret(header_factory):
    with pytest.raises(InvalidSignatureError):
        verify_stripe_signature(BODY, header_factory(BODY, "whsec_other"), [SECRET])


def test_any_v1_matches_during_rotation(header_factory):
    ts = int(time.time())
    old = header_factory(BODY, "whsec_old", ts)
    new_sig = header_factory(BODY, "whsec_new", ts).split("v1=")[1]
    rotated = f"{old},v1={new_sig},v0=deadbeef"
    assert verify_stripe_signature(BODY, rotated, ["whsec_new"]) == ts
    assert verify_stripe_signature(BODY, rotated, ["whsec_old"]) == ts


def test_v0_alone_is_not_enough():
    ts = int(time.time())
    v0 = hmac.new(SECRET.encode(), f"{ts}.".encode() + BODY, hashlib.sha256).hexdigest()
    with pytest.raises(MissingSignatureError):
        verify_stripe_signature(BODY, f"t={ts},v0={v0}", [SECRET])


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_stale_or_future_timestamps_are_refused(header_factory, age):
    now = time.time()
    header = header_factory(BODY, timestamp=int(now - age))
    with pytest.raises(StaleTimestampError, match=r"^Stripe signature timestamp is outside the tolerance$"):
        verify_stripe_signature(BODY, header, [SECRET], now=now)


def test_within_tolerance_is_accepted(header_factory):
    now = time.time()
    header = header_factory(BODY, timestamp=int(now - 299))
    verify_stripe_signature(BODY, header, [SECRET], now=now)


@pytest.mark.parametrize(
    "header", [None, "", "garbage", "t=abc,v1=00", "v1=00", "t=123", "t=123,v1=é", "t=123,v1=" + "g" * 64]
)
def test_missing_or_malformed_headers(header):
    with pytest.raises(MissingSignatureError):
        verify_stripe_signature(BODY, header, [SECRET])


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        # Signed over the body as if the timestamp were empty: without a timestamp nothing is checked.
        ("v1=" + hmac.new(SECRET.encode(), b"." + BODY, hashlib.sha256).hexdigest(), "no timestamp"),
        ("t=12=3,v1=" + "0" * 64, "a malformed timestamp"),
        ("t=123,v0=" + "0" * 64, "no v1 signature"),
    ],
    ids=["no-timestamp", "two-equals-signs", "no-v1"],
)
def test_a_malformed_header_is_refused_with_its_reason(header, reason):
    with pytest.raises(MissingSignatureError) as refused:
        verify_stripe_signature(BODY, header, [SECRET])
    assert str(refused.value) == f"Stripe-Signature has {reason}"


def test_no_header_is_refused_as_missing():
    with pytest.raises(MissingSignatureError, match=r"^missing Stripe-Signature header$"):
        verify_stripe_signature(BODY, None, [SECRET])


def test_an_item_without_an_equals_sign_is_skipped_as_stripe_python_skips_it(header_factory):
    header = "junk," + header_factory(BODY)
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, 300)
    assert verify_stripe_signature(BODY, header, [SECRET]) == int(header.split(",")[1].removeprefix("t="))


def test_the_shared_signer_signs_as_stripe_python_does():
    """devstack.send, events/, the tests and the benchmarks sign with it."""
    assert stripe_signature(BODY, SECRET, 1_700_000_000) == stripe_header(BODY, SECRET, 1_700_000_000)


def test_typeform_signature_roundtrip():
    header = typeform_signature(BODY, "tf_secret")
    verify_typeform_signature(BODY, header, ["tf_secret"])
    with pytest.raises(InvalidSignatureError):
        verify_typeform_signature(BODY + b" ", header, ["tf_secret"])
    with pytest.raises(InvalidSignatureError):
        verify_typeform_signature(BODY, header, ["other"])


@pytest.mark.parametrize("header", [None, "", "abc", "sha1=abc"])
def test_typeform_missing_header(header):
    # The message is the 401's answer to the caller.
    with pytest.raises(MissingSignatureError, match=r"^missing or malformed Typeform-Signature header$"):
        verify_typeform_signature(BODY, header, ["tf_secret"])


@pytest.mark.parametrize("age", [300, -300, 0])
def test_the_tolerance_boundary_itself_is_accepted(header_factory, age):
    now = 1_800_000_000.0
    header = header_factory(BODY, timestamp=int(now - age))
    assert verify_stripe_signature(BODY, header, [SECRET], now=now) == int(now - age)


@pytest.mark.parametrize(
    ("tolerance", "age", "fresh"), [(60, 60, True), (60, 61, False), (1, 2, False), (0, 10**6, True)]
)
def test_the_configured_tolerance_is_the_one_applied(header_factory, tolerance, age, fresh):
    now = 1_800_000_000.0
    header = header_factory(BODY, timestamp=int(now - age))
    if fresh:  # a tolerance of 0 turns the check off (sam local invoke of the stored events)
        verify_stripe_signature(BODY, header, [SECRET], tolerance=tolerance, now=now)
    else:
        with pytest.raises(StaleTimestampError):
            verify_stripe_signature(BODY, header, [SECRET], tolerance=tolerance, now=now)


def test_a_stale_header_with_a_wrong_signature_is_reported_as_invalid(header_factory):
    now = 1_800_000_000.0
    with pytest.raises(InvalidSignatureError):
        verify_stripe_signature(BODY, header_factory(BODY, "whsec_other", int(now - 3600)), [SECRET], now=now)


@pytest.mark.parametrize("order", [["whsec_old", "whsec_new"], ["whsec_new", "whsec_old"]])
@pytest.mark.parametrize("signer", ["whsec_old", "whsec_new"])
def test_stripe_rotation_accepts_either_configured_secret_in_either_order(header_factory, order, signer):
    verify_stripe_signature(BODY, header_factory(BODY, signer), order)
    with pytest.raises(InvalidSignatureError):
        verify_stripe_signature(BODY, header_factory(BODY, "whsec_retired"), order)


def test_stripe_header_items_may_carry_spaces_and_upper_case_hex(header_factory):
    ts, digest = header_factory(BODY).removeprefix("t=").split(",v1=")
    verify_stripe_signature(BODY, f" t={ts} , v1={digest.upper()} ", [SECRET])


def test_empty_configured_secrets_never_match():
    header = stripe_header(BODY, "")
    with pytest.raises(InvalidSignatureError):
        verify_stripe_signature(BODY, header, ["", SECRET])
    with pytest.raises(InvalidSignatureError):
        verify_typeform_signature(BODY, typeform_signature(BODY, ""), [""])


@pytest.mark.parametrize("order", [["tf_old", "tf_new"], ["tf_new", "tf_old"]])
@pytest.mark.parametrize("signer", ["tf_old", "tf_new"])
def test_typeform_rotation_accepts_either_configured_secret_in_either_order(order, signer):
    verify_typeform_signature(BODY, typeform_signature(BODY, signer), order)
    with pytest.raises(InvalidSignatureError, match=r"^no Typeform signature matches the payload$"):
        verify_typeform_signature(BODY, typeform_signature(BODY, "tf_retired"), order)


def test_typeform_header_may_carry_surrounding_spaces():
    verify_typeform_signature(BODY, f"  {typeform_signature(BODY, 'tf_secret')} ", ["tf_secret"])
