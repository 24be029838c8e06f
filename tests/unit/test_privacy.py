"""Masking: every token holding @ or %40 is masked whole, whatever surrounds the address."""

from __future__ import annotations

import pytest

from webhook_bridge.privacy import mask_data, mask_text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("jane.doe@example.com", "j***@e***.com"),
        ("Contact jane.doe@example.com. is invalid", "Contact j***@e***.com. is invalid"),
        ('"jane doe"@example.com is taken', '"j***@e***.com is taken'),
        ("(jane@localhost)", "(j***@l***)"),
        ("jane.doe%40example.com", "j***%40e***.com"),
        ("JANE%40EXAMPLE.ORG,", "J***%40E***.ORG,"),
        ("zoë.núñez@exämple.fr!", "z***@e***.fr!"),
        ("用户@例子.广告", "用***@例***.广告"),
        ('{"email":"jane@example.com"}', '{"e***@e***.com"}'),
        ("no address here", "no address here"),
    ],
)
def test_every_token_with_an_at_sign_is_masked(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "email",
    ["jane.doe@example.com.", '"jane doe"@example.com', "zoë.núñez@exämple.fr", "jane.doe%40example.com", "a@b"],
)
def test_nothing_of_the_local_part_or_host_survives(email):
    masked = mask_text(f"user {email}, again <{email}>")
    for part in ("ane", "doe", "oë", "úñ", "xample", "xämple"):
        assert part not in masked


def test_structures_are_masked_by_key_and_by_content():
    data = {"email": "jane@example.com", "name": "Jane Doe", "traits": ["jane%40example.com"], "plan": "pro"}
    assert mask_data(data) == {"email": "j***@e***.com", "name": "***", "traits": ["j***%40e***.com"], "plan": "pro"}


def test_a_url_keeps_its_route_and_loses_the_address():
    url = "https://track.customer.io/api/v1/customers/jane.doe%40example.com/events?email=jane@example.com&x=1"
    assert mask_text(url) == "https://track.customer.io/api/v1/customers/j***%40e***.com/events?email=j***@e***.com&x=1"
