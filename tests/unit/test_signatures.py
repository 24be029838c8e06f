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
    with pytest.raises(InvalidSignatureError):
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
    with pytest.raises(StaleTimestampError):
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
    with pytest.raises(MissingSignatureError):
        verify_typeform_signature(BODY, header, ["tf_secret"])
