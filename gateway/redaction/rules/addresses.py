"""Postal addresses (``LOCATION``): Chinese administrative sequences and US street addresses.

Chinese: a sequence of the parts an address is written in, largest first — province
(by name), city (…市), district or county (…区/县/旗), town (…镇/乡/街道), street
(…路/街/大道/巷/弄/胡同), number (12号), building (A座, 3栋), unit (2单元), floor,
room (1203室) and a six-digit postcode. Two parts make an address if one is a street or
a number (0.85); two administrative parts alone (北京市朝阳区) are a place (0.6).

US: a house number, street words, optional unit, city, then a state code and ZIP
(0.85); or a house number and street words ending in a street suffix (0.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.redaction.findings import Finding

LOCATION = "LOCATION"

_PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西壮族", "广西", "西藏", "宁夏回族",
    "宁夏", "新疆维吾尔", "新疆", "香港", "澳门",
)  # fmt: skip
# A place-name character: Chinese, but not one that ends or links phrases (地址是, 寄到).
_P = r"(?:(?![的是在于到往至从住寄发送址和与及请把将你我他她们这那个条])[\u4e00-\u9fff])"
_CN_ADDRESS = re.compile(
    rf"(?P<province>(?:{'|'.join(_PROVINCES)})(?:省|市|自治区|特别行政区)?)?"
    rf"(?P<city>{_P}{{1,6}}?(?:市|州|盟|地区))?"
    rf"(?P<county>{_P}{{1,6}}?(?:区|县|旗))?"
    rf"(?P<town>{_P}{{1,8}}?(?:镇|乡|街道|村))?"
    rf"(?P<street>{_P}{{1,10}}?(?:大道|大街|胡同|路|街|巷|弄))?"
    r"(?P<number>\d{1,5}(?:号院|号楼|号|弄))?"
    r"(?P<building>[0-9A-Za-z]{1,4}(?:座|栋|幢|号楼))?"
    r"(?P<unit>\d{1,3}单元)?"
    r"(?P<floor>\d{1,3}(?:层|楼))?"
    r"(?P<room>\d{1,5}(?:室|房))?"
    r"(?P<postcode>[ \t]?[1-8]\d{5}(?!\d))?"
)
_CN_ADDRESS_HINT = re.compile(r"[省市区县镇乡路街巷弄号座栋室]")
_ADMINISTRATIVE = ("province", "city", "county", "town")
_STREET_LEVEL = ("street", "number", "building", "unit", "floor", "room")

_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
)  # fmt: skip
"""USPS state and territory codes."""
_STREET_SUFFIXES = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
    "Drive", "Dr", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Parkway", "Pkwy",
    "Circle", "Cir", "Square", "Sq", "Trail", "Highway", "Hwy", "Plaza", "Alley", "Row",
    "Crescent", "Loop", "Path", "Pike", "Run", "Walk", "Turnpike", "Expressway",
)  # fmt: skip
_HOUSE_AND_STREET = r"(?<![0-9A-Za-z])\d{1,6}(?: (?:[A-Z][a-z]+\.?|\d+(?:st|nd|rd|th))){1,4}"
_UNIT = r"(?: (?:Apt\.?|Apartment|Suite|Ste\.?|Unit|#) ?[0-9A-Za-z-]{1,6})?"
_US_WITH_STATE = re.compile(
    rf"{_HOUSE_AND_STREET}{_UNIT}(?:,? [A-Z][a-z]+(?: [A-Z][a-z]+){{0,2}})?"
    rf",? (?:{'|'.join(_STATES)}) \d{{5}}(?:-\d{{4}})?(?![0-9A-Za-z])"
)
_US_STREET = re.compile(
    rf"(?<![0-9A-Za-z])\d{{1,6}}(?: (?:[A-Z][a-z]+|\d+(?:st|nd|rd|th))){{0,3}}"
    rf" (?:{'|'.join(_STREET_SUFFIXES)})(?![A-Za-z])\.?{_UNIT}"
)


@dataclass(frozen=True, slots=True)
class ChineseAddressRule:
    entity_type: str = LOCATION

    def find(self, text: str, lowered: str) -> list[Finding]:
        if _CN_ADDRESS_HINT.search(text) is None:
            return []
        findings: list[Finding] = []
        for match in _CN_ADDRESS.finditer(text):
            if match.end() == match.start():
                continue
            score = _cn_address_score(match)
            if score is not None:
                start = match.start()
                end = match.end("postcode") if match.group("postcode") else match.end()
                findings.append(Finding(LOCATION, start, end, score))
        return findings


def _cn_address_score(match: re.Match[str]) -> float | None:
    administrative = sum(match.group(part) is not None for part in _ADMINISTRATIVE)
    street_level = sum(match.group(part) is not None for part in _STREET_LEVEL)
    if street_level and administrative + street_level >= 2:
        return 0.85
    if administrative >= 2:
        return 0.6
    return None


@dataclass(frozen=True, slots=True)
class UsAddressRule:
    entity_type: str = LOCATION

    def find(self, text: str, lowered: str) -> list[Finding]:
        findings = [
            Finding(LOCATION, *match.span(), 0.85) for match in _US_WITH_STATE.finditer(text)
        ]
        covered = [(finding.start, finding.end) for finding in findings]
        for match in _US_STREET.finditer(text):
            if not any(start <= match.start() < end for start, end in covered):
                findings.append(Finding(LOCATION, *match.span(), 0.6))
        return findings
