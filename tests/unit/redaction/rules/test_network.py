"""E-mail and IP addresses, next to Chinese characters too, and what only looks like them."""

from __future__ import annotations

import pytest

from tests.unit.redaction.rules.support import found, full_width, zero_width


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("mail jane.doe@example.com today", "jane.doe@example.com"),
        ("请把合同发到tang.li@example.cn,谢谢", "tang.li@example.cn"),
        ("邮箱:wang_fang+cv@mail.example.org。", "wang_fang+cv@mail.example.org"),
        (full_width("bob@example.com"), "bob@example.com"),
        (zero_width("bob@example.com"), "bob@example.com"),
    ],
)
def test_email_addresses_are_found(text: str, email: str) -> None:
    assert found(text, "EMAIL_ADDRESS") == [email]


@pytest.mark.parametrize(
    "text", ["the email is info@presidio.", "user@localhost logged in", "see @channel"]
)
def test_email_look_alikes_are_not(text: str) -> None:
    assert found(text, "EMAIL_ADDRESS") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("login from 203.0.113.7 failed", "203.0.113.7"),
        ("昨晚有人从192.168.1.20多次尝试登录", "192.168.1.20"),
        ("subnet 10.0.0.0/8 is internal", "10.0.0.0/8"),
        ("Server IP: 2001:db8::1", "2001:db8::1"),
        ("Connect to [2001:db8::1]:8080", "2001:db8::1"),
        ("loopback ::1 only", "::1"),
        (full_width("IP 192.168.0.1"), "192.168.0.1"),
        ("IP 192. 168. 0. 1".replace(". ", "."), "192.168.0.1"),
    ],
)
def test_ip_addresses_are_found(text: str, address: str) -> None:
    assert found(text, "IP_ADDRESS") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "Version 1.2.3",
        "Time 12:34:56",
        "MAC address aa:bb:cc:dd:ee:ff",
        "my ip: 192.168.0",
        "256.256.256.256",
        "Package 3.10.192.168.1 is out",
        "std::cout << x",
        "unspecified :: address",
        "room 4.12, 会议室4.12",
    ],
)
def test_ip_look_alikes_are_not(text: str) -> None:
    assert found(text, "IP_ADDRESS") == []
