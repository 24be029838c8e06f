"""Retry-After and rate-limit header semantics, with a fixed clock."""

from __future__ import annotations

import time

import httpx
import pytest

from webhook_bridge.vendors.retry_after import (
    parse_rate_limit_reset,
    parse_retry_after,
    parse_structured_rate_limit,
    retry_after_from_headers,
)

NOW = 1_714_566_615.0  # 2024-05-01T12:30:15Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("120", 120.0),
        ("1.5", 1.5),
        ("Wed, 01 May 2024 12:31:15 GMT", 60.0),
        ("Wed, 01 May 2024 12:00:00 GMT", 0.0),  # in the past: now
        ("-5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (str(int(NOW) + 42), 42.0),  # an epoch in seconds
        (str(int(NOW * 1000) + 42_000), 42.0),  # an epoch in milliseconds
        ("5, 60", 60.0),  # several policies: the longest wait
    ],
)
def test_parse_rate_limit_reset(value, expected):
    assert parse_rate_limit_reset(value, now=NOW) == pytest.approx(expected)


def test_unreadable_rate_limit_reset_is_none():
    assert parse_rate_limit_reset("tomorrow", now=NOW) is None


def test_parse_structured_rate_limit():
    assert parse_structured_rate_limit("limit=100, remaining=0, reset=9") == 9.0
    assert parse_structured_rate_limit('"burst";r=0;t=2, "day";r=10;t=300') == 300.0
    assert parse_structured_rate_limit("limit=100") is None


def test_headers_are_case_insensitive_and_ordered():
    headers = httpx.Headers({"X-RateLimit-Reset": "8"})
    assert retry_after_from_headers(headers, now=NOW) == 8.0
    assert retry_after_from_headers(headers, now=NOW, rate_limit_headers=False) is None
    assert retry_after_from_headers(httpx.Headers({"Retry-After": "bogus", "RateLimit-Reset": "3"}), now=NOW) == 3.0
    assert retry_after_from_headers(httpx.Headers({}), now=NOW) is None


def test_an_http_date_without_a_zone_is_utc_whatever_the_machine_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/Lima")  # Lambda runs in UTC, where the two readings agree
    time.tzset()
    try:
        assert parse_retry_after("Wed, 01 May 2024 12:31:15 -0000", now=NOW) == 60.0
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5,60", 60.0),  # no space after the comma
        ("later, 30", 30.0),  # one unreadable policy does not hide the others
    ],
)
def test_rate_limit_reset_lists(value, expected):
    assert parse_rate_limit_reset(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["1000000000", "1000000000000"])
def test_the_epoch_readings_start_exactly_at_their_thresholds(value):
    """1e9 is an epoch in seconds and 1e12 one in milliseconds (not delays, capped at 24 h)."""
    assert parse_rate_limit_reset(value, now=1_000_000_000 - 100.0) == pytest.approx(100.0)


def test_the_clock_given_is_the_one_used():
    headers = httpx.Headers({"Retry-After": "Wed, 01 May 2024 12:31:15 GMT"})
    assert retry_after_from_headers(headers, now=NOW) == 60.0
    assert retry_after_from_headers(httpx.Headers({"RateLimit": "limit=10, reset=7"}), now=NOW) == 7.0
