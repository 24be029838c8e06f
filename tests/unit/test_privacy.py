"""Masking: every token holding @ or %40 is masked whole, whatever surrounds the address."""

from __future__ import annotations

import json

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
        # Nothing before or after the sign: only what is there is hinted at.
        ("@jane_doe wrote", "***@j*** wrote"),
        ("(jane.doe@)", "(j***@)"),
        ("jane%40", "j***%40"),
        ("'jane'", "'jane'"),
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


# Names and emails never survive, in any letter case; what is not personal does.
EMAILS = [
    "jane.doe@example.com",
    "Jane.Doe@Example.COM",
    "ZOË.NÚÑEZ@EXAMPLE.CO.UK",
    "a+tag@sub.example.org",
    "x@y.io",
]


def absent(secret: str, masked: str) -> bool:
    """Neither the whole value nor its local part, compared case-insensitively."""
    lowered = masked.casefold()
    local = secret.split("@")[0].casefold()
    return secret.casefold() not in lowered and (len(local) < 2 or local not in lowered)


@pytest.mark.parametrize("email", EMAILS)
@pytest.mark.parametrize(
    "template",
    [
        "HTTP 400: {} is not a valid contact",
        "contact '{}' already exists",
        'body {{"email": "{}"}} refused',
        "<{}>, <other@example.net>",
        "/customers/{}/events",
        "email={}&plan=pro",
    ],
)
def test_emails_inside_text_are_masked_and_the_text_kept(template, email):
    masked = mask_text(template.format(email))
    assert absent(email, masked) and "other@example.net" not in masked
    for word in ("HTTP 400", "already exists", "refused", "/customers/", "/events", "plan=pro"):
        if word in template:
            assert word in masked


def test_url_encoded_emails_are_masked():
    assert absent("jane.doe@example.com", mask_text("GET /contacts?email=jane.doe%40example.com"))


def test_text_without_personal_data_is_unchanged():
    text = "loops: HTTP 503: upstream timed out after 30 s (retry in 5 min) v1.2"
    assert mask_text(text) == text


@pytest.mark.parametrize(
    "key", ["name", "Name", "NAME", "first_name", "First_Name", "FIRSTNAME", "last_name", "LastName", "LASTNAME"]
)
def test_names_are_masked_under_any_letter_case(key):
    masked = mask_data({key: "Zoë Núñez", "plan": "pro"})
    assert masked == {key: "***", "plan": "pro"}
    assert "zoë" not in json.dumps(masked, ensure_ascii=False).casefold()


@pytest.mark.parametrize("key", ["phone", "Phone_Number", "address", "EMAIL"])
def test_other_personal_fields_are_masked(key):
    assert mask_data({key: "+1 555 0100 Main St"}) == {key: "***"}


def test_structures_are_masked_all_the_way_down_and_keep_their_shape():
    data = {
        "person": {"First_Name": "Zoë", "email": "Zoe.Nunez@Example.com", "id": 42, "active": True},
        "attendees": [{"Last_Name": "Núñez"}, "Bob.Smith@example.org", None, 3.5],
        "pair": ("Zoe.Nunez@Example.com", 1),
        "note": "paid by bob.smith@example.org",
    }
    masked = mask_data(data)
    text = json.dumps(masked, ensure_ascii=False).casefold()
    for personal in ("zoë", "núñez", "zoe.nunez", "bob.smith"):
        assert personal not in text
    assert masked["person"]["First_Name"] == "***"
    assert (masked["person"]["id"], masked["person"]["active"]) == (42, True)
    assert masked["attendees"][0] == {"Last_Name": "***"}
    assert masked["attendees"][2:] == [None, 3.5]
    assert masked["pair"][1] == 1 and len(masked["pair"]) == 2
    assert masked["note"].startswith("paid by ")


def test_an_email_under_a_name_key_is_masked():
    masked = mask_data({"name": "Jane.Doe@Example.com"})
    assert absent("Jane.Doe@Example.com", masked["name"])


def test_every_value_under_a_personal_key_is_masked_whatever_its_type():
    masked = mask_data({"name": None, "phone": 5551234, "address": {"city": "Lima", "lines": ["1 Main St"]}})
    assert masked == {"name": None, "phone": "***", "address": {"city": "***", "lines": ["***"]}}


@pytest.mark.parametrize("container", ["traits", "metadata", "hidden", "answers", "custom_fields"])
def test_containers_with_free_keys_are_masked_whole(container):
    # Typeform answers are keyed by opaque field refs: the key says nothing of the phone number under it.
    masked = mask_data({container: {"c9f0f895fb98": "+1 555 0100", "score": 12, "ok": True}, "plan": "pro"})
    assert masked == {container: {"c9f0f895fb98": "***", "score": "***", "ok": True}, "plan": "pro"}


def test_a_lone_address_under_a_personal_key_keeps_its_correlating_mask_and_text_around_one_does_not():
    masked = mask_data({"name": "Jane.Doe@Example.com", "traits": {"contact": "Jane Doe <jane@example.com>"}})
    assert masked == {"name": "J***@E***.com", "traits": {"contact": "***"}}
