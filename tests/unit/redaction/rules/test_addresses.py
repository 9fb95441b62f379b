# ruff: noqa: RUF001 - Chinese punctuation in the examples.
"""Postal addresses: Chinese administrative sequences and US street addresses."""

from __future__ import annotations

import pytest

from tests.unit.redaction.rules.support import found, full_width


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "收货地址：江苏省南京市鼓楼区中山路88号A座1203室 210008，收件人",
            "江苏省南京市鼓楼区中山路88号A座1203室 210008",
        ),
        ("公司新地址是上海市浦东新区世纪大道100号，欢迎来访。", "上海市浦东新区世纪大道100号"),
        (
            "请把发票寄到宁夏回族自治区银川市兴庆区解放西街5号。",
            "宁夏回族自治区银川市兴庆区解放西街5号",
        ),
        ("寄到北京市朝阳区建国路88号3栋2单元501室", "北京市朝阳区建国路88号3栋2单元501室"),
        ("住在天津市涛县闵行吴路x座 702734。", "天津市涛县闵行吴路x座 702734"),
        (full_width("寄到北京市朝阳区建国路88号"), "北京市朝阳区建国路88号"),
    ],
)
def test_chinese_addresses_are_found(text: str, address: str) -> None:
    assert found(text, "LOCATION") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "会议改到下午三点，地点4.12会议室。",
        "和平路店今天开业。",
        "走这条路最近。",
        "订单号ORD-2024-000123已于2024年5月1日发货。",
        "去超市买点东西。",
    ],
)
def test_chinese_look_alikes_are_not_addresses(text: str) -> None:
    assert found(text, "LOCATION") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "Ship it to 825 Garrett Circles, Port Taylorside, IN 25633, attention Ann.",
            "825 Garrett Circles, Port Taylorside, IN 25633",
        ),
        (
            "876 Jesse Drive Suite 012, West Kimberlyview, NJ 78456-1234 is the office",
            "876 Jesse Drive Suite 012, West Kimberlyview, NJ 78456-1234",
        ),
        ("I live in 1234 Oak Street, Seattle, WA 98101", "1234 Oak Street, Seattle, WA 98101"),
        ("The package is addressed to 350 Fifth Avenue today", "350 Fifth Avenue"),
        ("Meet at 77 Massachusetts Ave. Apt 4B", "77 Massachusetts Ave. Apt 4B"),
    ],
)
def test_us_addresses_are_found(text: str, address: str) -> None:
    assert found(text, "LOCATION") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "Part number PN-123-4567 costs $12.50 per unit, minimum order 250.",
        "Order volume 12,345 units in Q3.",
        "Q3 Planning is in Room 4B, Building 7, at 10:30.",
        "We shipped 3 Drives and 2 Routers.",
    ],
)
def test_english_look_alikes_are_not_addresses(text: str) -> None:
    assert found(text, "LOCATION") == []
