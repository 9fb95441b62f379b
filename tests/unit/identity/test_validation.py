"""Roles and subjects: exactly app, compliance and admin; printable subjects."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidRequestError
from gateway.identity.validation import checked_subject, parse_roles


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("app", ("app",)),
        ("app,compliance", ("app", "compliance")),
        ("admin, app", ("admin", "app")),
        ("compliance app app", ("app", "compliance")),
    ],
)
def test_roles(text: str, roles: tuple[str, ...]) -> None:
    assert parse_roles(text) == roles


@pytest.mark.parametrize("text", ["", ",", "App", "root", "app,root", "apps"])
def test_bad_roles(text: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_roles(text)
    assert caught.value.param == "roles"


@pytest.mark.parametrize("subject", ["svc", "billing@acme", "a" * 255])
def test_good_subjects(subject: str) -> None:
    assert checked_subject(subject) == subject


@pytest.mark.parametrize("subject", ["", "two words", "tab\there", "a" * 256, "naïve"])
def test_bad_subjects(subject: str) -> None:
    with pytest.raises(InvalidRequestError):
        checked_subject(subject)
