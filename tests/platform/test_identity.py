"""Who acted: a person from the ID token, shown by name, stored whole, with a store-safe id."""

from __future__ import annotations

import hashlib
import json

import pytest

from shazam_assets.platform import layout
from shazam_assets.platform.identity import Person, Role, artist_id


def test_a_person_round_trips_and_is_shown_by_name_and_email_then_either_then_subject() -> None:
    anna = Person(sub="auth0|anna", name="Anna", email="anna@example.com")
    assert Person.from_json(json.loads(json.dumps(anna.to_json()))) == anna
    assert anna.display == "Anna <anna@example.com>"
    assert Person(sub="s", name="Anna", email="").display == "Anna"
    assert Person(sub="s", name="", email="e@x").display == "e@x"
    assert Person(sub="s", name="", email="").display == "s"
    with pytest.raises(ValueError):
        Person.from_json({"name": "no subject"})


def test_artist_ids_are_stable_and_store_safe_whatever_the_subject() -> None:
    for sub in ("auth0|anna", "a/../b", "us-east-1_x:1234", "ünï cödé"):
        found = artist_id(sub)
        assert found == hashlib.sha256(sub.encode()).hexdigest()[:24] == artist_id(sub)
        key = layout.artist_assignment_key(found, "B0TESTAAA1")
        assert layout.parse_artist_assignment_key(key) == "B0TESTAAA1"
    assert artist_id("a") != artist_id("b")


def test_roles_are_the_id_token_group_names() -> None:
    assert [str(r) for r in Role] == ["artist", "reviewer", "lead", "operator"]
    assert Role("lead") is Role.LEAD
