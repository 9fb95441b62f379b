# ruff: noqa: RUF001 - Chinese templates use full-width punctuation on purpose.
"""A labelled PII corpus for ``bench/pii_accuracy.py``: generated, deterministic, offline.

    corpus = generated_corpus(samples=300, seed=7)    # English and Chinese, with controls
    corpus += presidio_style_corpus()                # Presidio's shipped examples + ours

Every sample is a text with the character spans of the personal data in it (labels are
the evaluated categories below). Values come from Faker (``en_US``, ``zh_CN``) with fixed
seeds, or are built here where Faker's are not realistic enough: US phone numbers with
real area codes, Chinese mobiles (``1[3-9]`` + 9 digits), Chinese resident IDs with a
valid ISO 7064 check character, UnionPay (62...), Mastercard 2-series (2221-2720) and Visa
numbers with a valid Luhn digit, IBANs with valid mod-97 check digits, US SSNs in valid
ranges. Controls carry no personal data but look like it: order numbers, versions,
dates, invoice totals, ticket ids, tracking numbers, 18-digit and 16-digit numbers that
fail their checksums, commit hashes, UUIDs, MAC addresses, long numbers next to Chinese
characters, capitalized English phrases that are not names, and Chinese sentences where
words that often announce a name (客户, 给, 员工) are followed by ordinary words. Texts
are NFKC-normalized as the gateway normalizes them, so spans hold in what the analyzer
sees.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as _date
from pathlib import Path

import yaml
from faker import Faker

from gateway.redaction.normalize import normalize_text

STRUCTURED = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CN_MOBILE",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "CN_RESIDENT_ID",
    "IP_ADDRESS",
)
NAMES_AND_PLACES = ("PERSON", "LOCATION")
LABELS = STRUCTURED + NAMES_AND_PLACES
"""Evaluated categories; ``LOCATION`` is a postal address."""


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    language: str
    """``en`` or ``zh``."""
    source: str
    """``generated``, ``generated control`` or ``presidio-style``."""
    spans: tuple[Span, ...]


# Template fields → label. Each template inserts 1-3 values.
FIELDS = {
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "mobile": "CN_MOBILE",
    "card": "CREDIT_CARD",
    "iban": "IBAN_CODE",
    "ssn": "US_SSN",
    "cnid": "CN_RESIDENT_ID",
    "ip": "IP_ADDRESS",
    "name": "PERSON",
    "address": "LOCATION",
}

EN_TEMPLATES = (
    "Hi, this is {name}. Please reply to {email} when you have a minute.",
    "You can reach me on {phone} after 5pm, or by mail at {email}.",
    "My card number is {card}, expiring next year; please charge the deposit to it.",
    "Wire the refund to IBAN {iban} and send the confirmation to {email}.",
    "Employee {name} listed SSN {ssn} on the onboarding form.",
    "The login came from {ip} and the account belongs to {name}.",
    "Ship the package to {address}, attention {name}.",
    "Customer {name} ({email}) called from {phone} about a double charge on {card}.",
    "Can you summarise this ticket? The user at {ip} keeps failing to log in.",
    "Our new office is at {address}; the front desk number is {phone}.",
    "Please update the payroll record: name {name}, SSN {ssn}, IBAN {iban}.",
    "Draft a polite reminder to {name} that the invoice is overdue.",
    "The firewall blocked {ip} three times last night, then {ip2} tried too.",
    "Forward the contract to {email} and copy {email2}.",
    "Card on file: {card}. Billing address: {address}.",
    "My Chinese colleague's mobile is {mobile}; she prefers WeChat though.",
    "Resident ID {cnid} was uploaded with the visa application of {name}.",
    "Call {name} at {phone} to confirm the appointment.",
    "Translate into French: my name is {name} and I live at {address}.",
    "Why does the server at {ip} reject requests signed by {email}?",
    "Is {iban} a valid German IBAN? The payer is {name}.",
    "Social security number {ssn} belongs to a new hire starting Monday.",
    "Reset the password for {email}; the request came from {ip}.",
    "Refund {card} and notify the cardholder {name} by phone at {phone}.",
    "{name} asked whether the refund for the March invoice was processed.",
    "Add {name} to the on-call rota; she can be paged at {phone}.",
)

ZH_TEMPLATES = (
    "你好，我是{name}，请把合同发到{email}。",
    "我的手机号是{mobile}，有事随时联系我。",
    "客户{name}的身份证号码是{cnid}，请核对。",
    "收货地址：{address}，收件人{name}，电话{mobile}。",
    "请用银联卡{card}支付这笔订单。",
    "退款请打到这个账户：{iban}，户名{name}。",
    "昨晚有人从{ip}多次尝试登录{name}的账号。",
    "帮我写一封邮件给{name}，提醒他周五前提交报销单。",
    "员工{name}，身份证{cnid}，手机{mobile}，请录入系统。",
    "公司新地址是{address}，欢迎来访。",
    "信用卡号{card}被盗刷了，持卡人{name}已经报警。",
    "服务器{ip}的日志里出现了{email}的登录记录。",
    "请把发票寄到{address}。",
    "他的美国社保号是{ssn}，用于办理报税。",
    "我的邮箱是{email}，手机是{mobile}。",
    "请核实身份证号{cnid}是否与姓名{name}一致。",
    "把这段话翻译成英文：我叫{name}，住在{address}。",
    "海外汇款信息：收款人{name}，IBAN {iban}。",
    "防火墙拦截了来自{ip}和{ip2}的请求。",
    "联系人：{name}，电话：{mobile}，邮箱：{email}。",
    "万事达卡{card}的账单地址是{address}。",
    "美国同事的电话是{phone}，请在北京时间晚上打。",
    "{name}说下周一把报销单交给财务。",
    "这个项目由{name}负责，有问题直接找他。",
)

EN_CONTROLS = (
    "Order {order} was shipped on {date} and the invoice total is {money}.",
    "Please upgrade the client from {version} to {version2} before Friday.",
    "Ticket {ticket} is a duplicate of {ticket2}; close it.",
    "The build {version} failed on {date} at {time}; see job {ticket}.",
    "Tracking number {tracking} shows the parcel left the warehouse on {date}.",
    "Invoice {invoice} for {money} is due on {date}.",
    "Reference {digits18} was rejected by the batch job; retry tomorrow.",
    "Serial number {digits16} is printed under the battery.",
    "The meeting moved to {date} at {time}, room 4.12.",
    "Quarterly revenue grew 12.5% to {money}, order volume {order_count} units.",
    "Summarise release notes for {version}: fixed login bug and improved caching.",
    "Part number {part} costs {money} per unit, minimum order 250.",
    "Commit {hexid} fixed the race; deployment {uuid} is live.",
    "The MAC address {mac} belongs to the lab printer on port 8080.",
    "Please ask Customer Service or the Help Desk about the Black Friday sale.",
    "Batch {digits10} finished in {number} seconds with {pct} of rows updated.",
    "Q3 Planning is in Room 4B, Building 7, at {time}; bring the Sales Forecast.",
    "Call the front desk on extension 204 if the Wi-Fi password {hexid8} fails.",
)

ZH_CONTROLS = (
    "订单号{order}已于{date}发货，发票金额{money}。",
    "请在周五前把客户端从{version}升级到{version2}。",
    "工单{ticket}与{ticket2}重复，请关闭。",
    "构建{version}在{date} {time}失败，详见任务{ticket}。",
    "快递单号{tracking}显示包裹已于{date}出库。",
    "发票{invoice}金额{money}，到期日{date}。",
    "批次编号{digits18}处理失败，明天重试。",
    "设备序列号{digits16}印在电池下方。",
    "会议改到{date} {time}，地点4.12会议室。",
    "本季度营收增长12.5%，达到{money}，订单量{order_count}件。",
    "请总结{version}的发布说明：修复了登录问题，改进了缓存。",
    "零件编号{part}单价{money}，起订量250件。",
    "提交{hexid}修复了竞态问题，部署编号{uuid}已上线。",
    "客户关系管理系统将于{date}升级，请联系客服。",
    "本次共处理{digits11}条记录，耗时{number}秒，更新率{pct}。",
    "给高级用户发放优惠券后，和平路店的营业额增长了{pct}。",
    "金额{number}元已转入对公账户，详见第{digits8}号文件。",
    "版本{version}于{date}发布，构建号{digits8}，员工手册第3章已更新。",
)

_US_AREA_CODES = (212, 415, 312, 617, 206, 303, 512, 646, 718, 202, 305, 404, 713, 818)
_CN_MOBILE_PREFIXES = tuple(
    str(prefix)
    for prefix in (*range(130, 140), *range(150, 160), 166, 170, *range(176, 190), 191, 198, 199)
    if prefix not in (154, 179)
)
_CN_REGIONS = ("110101", "310104", "440305", "330106", "510107", "320102", "420102", "610113")
_IBAN_BBANS = {  # country → BBAN layout: "9" a digit, "A" an upper-case letter
    "DE": "999999999999999999",
    "GB": "AAAA99999999999999",
    "FR": "99999999999999999999999",
    "NL": "AAAA9999999999",
    "ES": "99999999999999999999",
    "IT": "A9999999999999999999999",
}


def luhn_complete(payload: str) -> str:
    """``payload`` with the Luhn check digit appended."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return payload + str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_complete(number[:-1]) == number


def resident_id_complete(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def iban_complete(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


class _Values:
    """Generators of one value per field, from seeded Faker instances and ``random``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.en = Faker("en_US")
        self.en.seed_instance(seed)
        self.zh = Faker("zh_CN")
        self.zh.seed_instance(seed + 1)

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(count))

    def value(self, field: str, language: str) -> str:
        return str(getattr(self, field.rstrip("2"))(language))

    def email(self, language: str) -> str:
        return (self.en if language == "en" else self.zh).email()

    def phone(self, _language: str) -> str:
        area = self.rng.choice(_US_AREA_CODES)
        exchange = self.rng.randrange(201, 999)
        while exchange % 100 == 11 or exchange == 555:
            exchange = self.rng.randrange(201, 999)
        line = self.digits(4)
        layout = self.rng.choice(
            ("({a}) {e}-{n}", "{a}-{e}-{n}", "+1 {a} {e} {n}", "+1-{a}-{e}-{n}", "{a}.{e}.{n}")
        )
        return layout.format(a=area, e=exchange, n=line)

    def mobile(self, _language: str) -> str:
        number = self.rng.choice(_CN_MOBILE_PREFIXES) + self.digits(8)
        layout = self.rng.choice(("bare", "bare", "spaced", "plus86"))
        if layout == "spaced":
            return f"{number[:3]} {number[3:7]} {number[7:]}"
        return f"+86 {number}" if layout == "plus86" else number

    def card(self, _language: str) -> str:
        kind = self.rng.choice(("unionpay", "unionpay", "mc2", "mc2", "visa"))
        if kind == "unionpay":
            number = luhn_complete("62" + self.digits(self.rng.choice((13, 16))))
        elif kind == "mc2":
            number = luhn_complete(str(self.rng.randrange(2221, 2721)) + self.digits(11))
        else:
            number = luhn_complete("4" + self.digits(14))
        if len(number) == 16 and self.rng.random() < 0.5:
            separator = self.rng.choice((" ", "-"))
            return separator.join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def iban(self, _language: str) -> str:
        country = self.rng.choice(sorted(_IBAN_BBANS))
        bban = "".join(
            self.rng.choice(string.digits if char == "9" else string.ascii_uppercase)
            for char in _IBAN_BBANS[country]
        )
        iban = iban_complete(country, bban)
        if self.rng.random() < 0.5:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban

    def ssn(self, _language: str) -> str:
        area = self.rng.randrange(1, 900)
        while area == 666:
            area = self.rng.randrange(1, 900)
        group, serial = self.rng.randrange(1, 100), self.rng.randrange(1, 10000)
        separator = self.rng.choice(("-", "-", "-", " "))
        return f"{area:03d}{separator}{group:02d}{separator}{serial:04d}"

    def cnid(self, _language: str) -> str:
        birth = self.en.date_between_dates(
            date_start=_date(1950, 1, 1), date_end=_date(2005, 12, 31)
        )
        first17 = self.rng.choice(_CN_REGIONS) + birth.strftime("%Y%m%d") + self.digits(3)
        return resident_id_complete(first17)

    def ip(self, _language: str) -> str:
        return self.en.ipv4_public() if self.rng.random() < 0.7 else self.en.ipv4_private()

    def name(self, language: str) -> str:
        if language == "zh":
            return self.zh.name()
        return f"{self.en.first_name()} {self.en.last_name()}"

    def address(self, language: str) -> str:
        if language == "zh":
            return self.zh.address()
        en = self.en
        return f"{en.street_address()}, {en.city()}, {en.state_abbr()} {en.zipcode()}"

    # Look-alike control values (no personal data).
    def control(self, field: str, language: str) -> str:
        rng, base = self.rng, field.rstrip("2")
        if base == "order":
            return f"ORD-{rng.randrange(2019, 2026)}-{self.digits(6)}"
        if base == "version":
            return f"v{rng.randrange(1, 12)}.{rng.randrange(0, 20)}.{rng.randrange(0, 40)}"
        if base == "date":
            day = self.en.date_between_dates(
                date_start=_date(2020, 1, 1), date_end=_date(2026, 12, 31)
            )
            if language == "zh":
                return f"{day.year}年{day.month}月{day.day}日"
            return day.strftime(rng.choice(("%Y-%m-%d", "%B %d, %Y", "%d/%m/%Y")))
        if base == "time":
            return f"{rng.randrange(0, 24):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        if base == "money":
            amount = f"{rng.randrange(10, 99999):,}.{rng.randrange(0, 100):02d}"
            return f"¥{amount}" if language == "zh" else f"${amount}"
        if base == "ticket":
            return rng.choice(("JIRA-", "TK-", "INC", "#")) + self.digits(rng.randrange(4, 8))
        if base == "tracking":
            return rng.choice(("SF", "1Z", "YT")) + self.digits(12)
        if base == "invoice":
            return f"INV-{self.digits(4)}-{self.digits(5)}"
        if base == "digits18":  # an 18-digit number whose check character is wrong
            valid = resident_id_complete(rng.choice(_CN_REGIONS) + "19900101" + self.digits(3))
            wrong = next(c for c in "0123456789" if c != valid[-1])
            return valid[:-1] + wrong
        if base == "digits16":  # 16 digits that fail Luhn
            number = "4" + self.digits(15)
            return number if not luhn_ok(number) else number[:-1] + str((int(number[-1]) + 1) % 10)
        if base == "order_count":
            return f"{rng.randrange(1000, 99999):,}"
        if base == "part":
            return f"PN-{self.digits(3)}-{self.digits(4)}"
        return self._more_control(base)

    def _more_control(self, base: str) -> str:
        rng = self.rng
        if base in ("hexid", "hexid8"):
            length = 8 if base == "hexid8" else 40
            return "".join(rng.choice("0123456789abcdef") for _ in range(length))
        if base == "uuid":
            return str(self.en.uuid4())
        if base == "mac":
            return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
        if base == "digits10":  # ten digits that are not a phone number here
            return rng.choice("56789") + self.digits(9)
        if base == "digits11":  # eleven digits next to Chinese text, not a mobile
            return rng.choice("2456789") + self.digits(10)
        if base == "digits8":
            return self.digits(8)
        if base == "number":
            return str(rng.randrange(2, 99999))
        if base == "pct":
            return f"{rng.randrange(1, 99)}.{rng.randrange(10)}%"
        raise KeyError(base)


def _fill(template: str, fill: Callable[[str], str]) -> tuple[str, tuple[Span, ...]]:
    """The template with each ``{field}`` replaced by ``fill(field)``, and the spans."""
    text, spans = "", []
    for literal, field, _, _ in string.Formatter().parse(template):
        text += normalize_text(literal)
        if field is None:
            continue
        value = normalize_text(fill(field))
        label = FIELDS.get(field.rstrip("2"))
        if label is not None:
            spans.append(Span(len(text), len(text) + len(value), label, value))
        text += value
    return text, tuple(spans)


def generated_corpus(samples: int, seed: int = 7) -> list[Sample]:
    """``samples`` PII texts per language (templates in turn) and a quarter as many controls."""
    values = _Values(seed)
    corpus: list[Sample] = []
    for language, templates, controls in (
        ("en", EN_TEMPLATES, EN_CONTROLS),
        ("zh", ZH_TEMPLATES, ZH_CONTROLS),
    ):
        for index in range(samples):
            template = templates[index % len(templates)]
            text, spans = _fill(template, lambda f, lang=language: values.value(f, lang))
            corpus.append(Sample(text, language, "generated", spans))
        for index in range(max(1, samples // 4)):
            template = controls[index % len(controls)]
            text, _ = _fill(template, lambda f, lang=language: values.control(f, lang))
            corpus.append(Sample(text, language, "generated control", ()))
    return corpus


# Presidio's labels → ours (others, such as DATE_TIME or ORGANIZATION, are not evaluated).
_PRESIDIO_LABELS = {label: label for label in LABELS}

# Sentences in the style of Presidio's own tests (written here: there is no network, and
# the installed presidio_analyzer ships no test data): (text, [(value, label), ...]).
PRESIDIO_STYLE = (
    ("my credit card number is 4095-2609-9393-4932", [("4095-2609-9393-4932", "CREDIT_CARD")]),
    ("Please charge 4012888888881881 for the order", [("4012888888881881", "CREDIT_CARD")]),
    ("The card 5555555555554444 was declined", [("5555555555554444", "CREDIT_CARD")]),
    ("my email is info@presidio.site", [("info@presidio.site", "EMAIL_ADDRESS")]),
    (
        "Send it to john.smith@microsoft.com and jane_doe99@gmail.com",
        [("john.smith@microsoft.com", "EMAIL_ADDRESS"), ("jane_doe99@gmail.com", "EMAIL_ADDRESS")],
    ),
    ("my phone number is (425) 882-9090", [("(425) 882-9090", "PHONE_NUMBER")]),
    ("Call me at 212-555-0199 tomorrow", [("212-555-0199", "PHONE_NUMBER")]),
    ("His office line is +1 415 796 3421 extension 12", [("+1 415 796 3421", "PHONE_NUMBER")]),
    ("my SSN is 432-23-8945", [("432-23-8945", "US_SSN")]),
    ("Social security: 078 51 1120 on file", [("078 51 1120", "US_SSN")]),
    ("The server IP is 192.168.0.1", [("192.168.0.1", "IP_ADDRESS")]),
    (
        "Traffic from 8.8.8.8 and 52.14.201.7 was blocked",
        [("8.8.8.8", "IP_ADDRESS"), ("52.14.201.7", "IP_ADDRESS")],
    ),
    ("my iban is GB82 WEST 1234 5698 7654 32", [("GB82 WEST 1234 5698 7654 32", "IBAN_CODE")]),
    ("Pay to DE89370400440532013000 by Friday", [("DE89370400440532013000", "IBAN_CODE")]),
    ("FR1420041010050500013M02606 is the account", [("FR1420041010050500013M02606", "IBAN_CODE")]),
    ("My name is David Johnson", [("David Johnson", "PERSON")]),
    (
        "Dan Smith and Maria Garcia went to the meeting",
        [("Dan Smith", "PERSON"), ("Maria Garcia", "PERSON")],
    ),
    ("I met Jennifer Lee yesterday", [("Jennifer Lee", "PERSON")]),
    ("Please tell Michael Brown that his order is ready", [("Michael Brown", "PERSON")]),
    (
        "I live in 1234 Oak Street, Seattle, WA 98101",
        [("1234 Oak Street, Seattle, WA 98101", "LOCATION")],
    ),
    (
        "We moved to 77 Massachusetts Avenue, Cambridge, MA 02139",
        [("77 Massachusetts Avenue, Cambridge, MA 02139", "LOCATION")],
    ),
    (
        "Contact Robert Miller at robert.miller@example.com or 617-253-1000",
        [
            ("Robert Miller", "PERSON"),
            ("robert.miller@example.com", "EMAIL_ADDRESS"),
            ("617-253-1000", "PHONE_NUMBER"),
        ],
    ),
    (
        "Patient Susan Clark, SSN 219-09-9999, was admitted",
        [("Susan Clark", "PERSON"), ("219-09-9999", "US_SSN")],
    ),
    (
        "Thomas Anderson logged in from 10.20.30.40",
        [("Thomas Anderson", "PERSON"), ("10.20.30.40", "IP_ADDRESS")],
    ),
    (
        "Transfer to NL91ABNA0417164300 for Emily Davis",
        [("NL91ABNA0417164300", "IBAN_CODE"), ("Emily Davis", "PERSON")],
    ),
    (
        "Visa 4111 1111 1111 1111 belongs to Kevin Wright",
        [("4111 1111 1111 1111", "CREDIT_CARD"), ("Kevin Wright", "PERSON")],
    ),
    (
        "Reach Laura Martinez on (312) 555-0147",
        [("Laura Martinez", "PERSON"), ("(312) 555-0147", "PHONE_NUMBER")],
    ),
    (
        "The package is addressed to 350 Fifth Avenue, New York, NY 10118",
        [("350 Fifth Avenue, New York, NY 10118", "LOCATION")],
    ),
    ("Nothing personal here: version 1.2.3 shipped on 2021-05-04", []),
    ("Order number 123456789 was delivered", []),
    ("The total was $1,234.56 for 3 items", []),
    ("Room 101 is booked from 10:00 to 11:30", []),
)


# Sentences taken verbatim from Presidio's public test suite (github.com/microsoft/presidio,
# MIT licence), presidio-analyzer/tests/: data/context_sentences_tests.txt, data/demo.txt,
# test_analyzer_engine.py, test_email_recognizer.py, test_credit_card_recognizer.py,
# test_us_ssn_recognizer.py, test_ip_recognizer.py, test_iban_recognizer.py,
# test_phone_recognizer.py, test_spacy_recognizer.py. Labels are the tests' expectations.
# Left out: 078-05-1120 (the voided "Woolworth" SSN, which Presidio's own recognizer
# refuses while its context file expects it) and lone first names the tests expect no
# finding for. Texts with no label are the tests' negative cases (controls here).
PRESIDIO_TESTS = (
    ("my ip: 192.168.0.1", [("192.168.0.1", "IP_ADDRESS")]),
    ("my phone number is (425) 882-9090", [("(425) 882-9090", "PHONE_NUMBER")]),
    ("my phone number is:(425) 882-9090", [("(425) 882-9090", "PHONE_NUMBER")]),
    ("my phone number is 425 8829090", [("425 8829090", "PHONE_NUMBER")]),
    (
        "try one of these phones 052 5552606 074-7111234",
        [("052 5552606", "PHONE_NUMBER"), ("074-7111234", "PHONE_NUMBER")],
    ),
    ("my phone number is 4258829090", [("4258829090", "PHONE_NUMBER")]),
    ("Credit card: 4012-8888-8888-1881", [("4012-8888-8888-1881", "CREDIT_CARD")]),
    ("Email address: test@presidio.site", [("test@presidio.site", "EMAIL_ADDRESS")]),
    ("IBAN: IL150120690000003111111", [("IL150120690000003111111", "IBAN_CODE")]),
    ("IP: 192.168.0.1", [("192.168.0.1", "IP_ADDRESS")]),
    ("Person name: David Johnson", [("David Johnson", "PERSON")]),
    ("Phone number: (555) 253-0000.", [("(555) 253-0000", "PHONE_NUMBER")]),
    (
        " Credit card: 4095-2609-9393-4932,  my phone is 425 8829090",
        [("4095-2609-9393-4932", "CREDIT_CARD"), ("425 8829090", "PHONE_NUMBER")],
    ),
    (
        "My name is David and I live in Seattle.",
        [("David", "PERSON"), ("Seattle", "LOCATION")],
    ),
    ("my email is info@presidio.site", [("info@presidio.site", "EMAIL_ADDRESS")]),
    (
        "try one of this emails: info@presidio.site or anotherinfo@presidio.site",
        [("info@presidio.site", "EMAIL_ADDRESS"), ("anotherinfo@presidio.site", "EMAIL_ADDRESS")],
    ),
    ("the email is my email is info@presidio.", []),
    (
        "4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881",
        [
            ("4012888888881881", "CREDIT_CARD"),
            ("4012-8888-8888-1881", "CREDIT_CARD"),
            ("4012 8888 8888 1881", "CREDIT_CARD"),
        ],
    ),
    ("my credit card: 122000000000003", [("122000000000003", "CREDIT_CARD")]),
    ("371449635398431", [("371449635398431", "CREDIT_CARD")]),
    ("my credit card number is 4012-8888-8888-1882", []),
    ("my credit card number is 36168002586008", []),
    ("078-05-1123", [("078-05-1123", "US_SSN")]),
    ("078.05.1123", [("078.05.1123", "US_SSN")]),
    ("078 05 1123", [("078 05 1123", "US_SSN")]),
    ("078-05-0000", []),
    ("078 00 1123", []),
    ("666000000", []),
    ("microsoft.com 192.168.0.1", [("192.168.0.1", "IP_ADDRESS")]),
    (
        "IPs: 192.168.1.1, 10.0.0.1, 2001:db8::1",
        [("192.168.1.1", "IP_ADDRESS"), ("10.0.0.1", "IP_ADDRESS"), ("2001:db8::1", "IP_ADDRESS")],
    ),
    ("Server IP: 2001:db8::1", [("2001:db8::1", "IP_ADDRESS")]),
    ("Connect to [2001:db8::1]:8080", [("2001:db8::1", "IP_ADDRESS")]),
    ("MAC address aa:bb:cc:dd:ee:ff", []),
    ("Time 12:34:56", []),
    ("Version 1.2.3", []),
    ("my ip: 192.168.0", []),
    ("256.256.256.256", []),
    ("AL47 2121 1009 0000 0002 3569 8741", [("AL47 2121 1009 0000 0002 3569 8741", "IBAN_CODE")]),
    ("DE89370400440532013000", [("DE89370400440532013000", "IBAN_CODE")]),
    ("GB29 NWBK 6016 1331 9268 19", [("GB29 NWBK 6016 1331 9268 19", "IBAN_CODE")]),
    ("AL47 2121 1009 0000 0002 3569 8740", []),
    ("DE89 3704 0044 0532 0130 01", []),
    (
        "My US number is (415) 555-0132, and my international one is +1 415 555 0132",
        [("(415) 555-0132", "PHONE_NUMBER"), ("+1 415 555 0132", "PHONE_NUMBER")],
    ),
    ("my name is Dan", [("Dan", "PERSON")]),
    ("Dan Tailor", [("Dan Tailor", "PERSON")]),
    ("John Oliver is the funniest comedian", [("John Oliver", "PERSON")]),
    ("Richard Milhous Nixon", [("Richard Milhous Nixon", "PERSON")]),
    ("Richard M. Nixon", [("Richard M. Nixon", "PERSON")]),
)


def _labelled(text: str, values: list[tuple[str, str]]) -> tuple[Span, ...]:
    spans, cursor = [], 0
    for value, label in values:
        start = text.find(value, cursor)
        start = start if start >= 0 else text.find(value)
        if start < 0:
            raise ValueError(f"{value!r} not in {text!r}")
        spans.append(Span(start, start + len(value), label, value))
        cursor = start + len(value)
    return tuple(spans)


def presidio_shipped_examples() -> list[Sample]:
    """The labelled examples ``presidio_analyzer`` ships (its LangExtract prompt examples)."""
    import presidio_analyzer

    path = (
        Path(presidio_analyzer.__file__).parent
        / "conf/langextract_prompts/default_pii_phi_examples.yaml"
    )
    if not path.is_file():
        return []
    samples = []
    for example in yaml.safe_load(path.read_text(encoding="utf-8")).get("examples", []):
        text = normalize_text(example["text"])
        values = [
            (normalize_text(item["extraction_text"]), _PRESIDIO_LABELS[item["extraction_class"]])
            for item in example.get("extractions", [])
            if item["extraction_class"] in _PRESIDIO_LABELS
        ]
        samples.append(Sample(text, "en", "presidio-shipped", _labelled(text, values)))
    return samples


def presidio_style_corpus() -> list[Sample]:
    return [
        Sample(text, "en", "presidio-style", _labelled(text, values))
        for text, values in PRESIDIO_STYLE
    ]


def presidio_test_sentences() -> list[Sample]:
    """Sentences from Presidio's public test suite (``PRESIDIO_TESTS``)."""
    return [
        Sample(normalize_text(text), "en", "presidio-tests", _labelled(text, values))
        for text, values in PRESIDIO_TESTS
    ]
