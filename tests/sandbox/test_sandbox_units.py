"""Pieces that need no server: the sliding window, masking, form decoding."""

from __future__ import annotations

from devstack.sandbox import ManualClock
from devstack.sandbox.ratelimit import SlidingWindowRateLimiter
from devstack.sandbox.store import BoundedDict, mask_authorization, redact_headers
from devstack.sandbox.wire import unflatten_form


def test_sliding_window_retry_after_is_whole_seconds_at_least_one() -> None:
    clock = ManualClock(0.0)
    limiter = SlidingWindowRateLimiter(2, clock)
    assert limiter.acquire().allowed
    clock.advance(0.75)
    assert limiter.acquire().remaining == 0
    refused = limiter.acquire()
    assert (refused.allowed, refused.retry_after) == (False, 1)
    assert refused.headers()["Retry-After"] == "1"
    clock.advance(0.25)  # the first request leaves the window at exactly t=1.0
    assert limiter.acquire().allowed
    assert not limiter.acquire().allowed


def test_mask_authorization() -> None:
    assert mask_authorization("Basic c2FuZGJveC1hcHA6c2VjcmV0") == "Basic sandbox-app:****"
    assert mask_authorization("Bearer abcdefghijklmnop") == "Bearer ****mnop"
    assert mask_authorization("Bearer short") == "Bearer ****"
    assert mask_authorization("raw-api-key-value-1234") == "****1234"
    assert mask_authorization("Basic !!!") == "Basic ****"
    assert redact_headers({"Cookie": "a=b", "X-Other": "v"}) == {"Cookie": "****", "X-Other": "v"}


def test_unflatten_form() -> None:
    assert unflatten_form([("name", "purchased"), ("data[price]", "23.45"), ("data[item][sku]", "x")]) == {
        "name": "purchased",
        "data": {"price": "23.45", "item": {"sku": "x"}},
    }


def test_bounded_dict_forgets_least_recently_written() -> None:
    table: BoundedDict[str, int] = BoundedDict(2)
    table["a"], table["b"] = 1, 2
    table["a"] = 3
    table["c"] = 4
    assert list(table) == ["a", "c"]
