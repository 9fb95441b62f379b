"""E-mail addresses and IP addresses (IPv4 and IPv6, with an optional prefix length)."""

from __future__ import annotations

import ipaddress
import re

from gateway.redaction.rules.base import AFTER, PatternRule, fixed_score

EMAIL_ADDRESS = "EMAIL_ADDRESS"
IP_ADDRESS = "IP_ADDRESS"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(
    rf"(?<![0-9A-Za-z.])(?:{_OCTET}\.){{3}}{_OCTET}(?:/(?:3[0-2]|[12]?\d))?{AFTER}(?!\.\d)"
)
# A superset of IPv6 text (hex groups and colons, an optional IPv4 tail, zone and prefix),
# checked by ``ipaddress``; "12:34:56", "aa:bb:cc:dd:ee:ff" and "std::cout" do not pass.
_IPV6 = re.compile(
    r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{1,4}|:)?:(?:[0-9A-Fa-f]{0,4}:){1,7}"
    r"(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?:%[0-9A-Za-z]+)?(?:/\d{1,3})?"
    r"(?![0-9A-Za-z:])"
)

IP_CONTEXT = ("ip", "address", "server", "host", "login", "connect", "地址", "服务器", "登录")


def _ipv6_check(candidate: str) -> float | None:
    address, _, prefix = candidate.partition("/")
    address = address.partition("%")[0]
    if address.strip(":") == "" or not any(c.isalnum() and c != "0" for c in address):
        return None  # "::" and "::0" say nothing about anyone
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return None
    if prefix and int(prefix) > 128:
        return None
    return 0.6


def network_rules() -> list[PatternRule]:
    return [
        PatternRule(EMAIL_ADDRESS, _EMAIL, fixed_score(1.0)),
        PatternRule(IP_ADDRESS, _IPV4, fixed_score(0.6), IP_CONTEXT),
        PatternRule(IP_ADDRESS, _IPV6, _ipv6_check, IP_CONTEXT),
    ]
