# ruff: noqa: RUF001 - Chinese words and punctuation.
"""Chinese personal names (``PERSON``): a surname, one or two given-name characters, a hint.

spaCy's English model cannot read Chinese, so names are found by rule: a known surname
(``cn_name_lists.py``; compound ones such as 欧阳 first) followed by one or two Chinese
characters, where the words around say a person is meant:

- *before*, strongly: 我是, 我叫, 姓名, 联系人, 收件人, 收款人, 户名, 持卡人, 申请人...;
- *before*, weakly: 客户, 员工, 同事, 给, 提醒, 和...; then the surname must not be one
  that is mostly an ordinary word (海, 国...), every given-name character must be a
  common one, and the candidate must not be an ordinary word (客户管理, 给方便);
- *after*: a title (先生, 女士, 经理, 老师...), strongly, or a possessive personal-data
  noun (的手机, 的邮箱, 的账号, 的身份证...), weakly.

A bare "surname + characters" without such a hint is not reported: most two-character
Chinese words start with a character that is also a surname. The end of a candidate is
cut before a function character (的, 是, 已...) or a word that usually follows a name
(一致, 已经, 先生...), so ``姓名张伟一致`` finds ``张伟``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.redaction.findings import Finding
from gateway.redaction.rules.cn_name_lists import (
    COMPOUND_SURNAMES,
    FUNCTION_CHARACTERS,
    GIVEN_NAME_CHARACTERS,
    NOT_NAMES,
    SURNAMES,
    WORDLIKE_SURNAMES,
    WORDS_AFTER_NAMES,
)

PERSON = "PERSON"
NAME_SCORE = 0.85
"""As sure as spaCy's named-entity recognizer is taken to be (Presidio's default)."""

STRONG_BEFORE = (
    "我是", "我叫", "名叫", "叫做", "姓名", "名字是", "名字叫", "本人", "联系人", "收件人",
    "收货人", "寄件人", "收款人", "付款人", "汇款人", "户名", "持卡人", "开户人", "申请人",
    "负责人", "经办人", "签字人", "患者", "病人", "乘客", "租客", "房东", "署名",
)  # fmt: skip
WEAK_BEFORE = (
    "客户", "员工", "同事", "用户", "老师", "经理", "主管", "同学", "朋友", "学生", "给",
    "提醒", "通知", "告诉", "转告", "联系", "感谢", "谢谢", "问候", "邀请", "拜访", "和",
    "与", "跟", "找", "致", "由",
)  # fmt: skip
TITLES_AFTER = (
    "先生", "女士", "小姐", "老师", "经理", "总监", "主任", "医生", "大夫", "教授", "博士",
    "同学", "律师", "总裁", "董事长", "处长", "局长", "科长", "部长", "院长", "校长", "师傅",
)  # fmt: skip
POSSESSIONS_AFTER = (
    "的手机", "的电话", "的邮箱", "的账号", "的账户", "的身份证", "的地址", "的银行卡",
    "的信用卡", "的护照", "的简历", "的工资", "的生日", "的微信", "的密码", "的病历", "的档案",
)  # fmt: skip

_HAN = r"[\u4e00-\u9fff]"
_SURNAME = (
    "(?:"
    + "|".join(COMPOUND_SURNAMES)
    + "|["
    + "".join(sorted(SURNAMES | WORDLIKE_SURNAMES))
    + "])"
)
_CANDIDATE = rf"{_SURNAME}{_HAN}{{1,2}}"


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_BEFORE = re.compile(
    rf"(?:(?P<strong>{_alternation(STRONG_BEFORE)})|(?P<weak>{_alternation(WEAK_BEFORE)}))"
    rf"[:：]?[ \t]?(?P<name>{_CANDIDATE})"
)
_BEFORE_WORDS_AFTER = re.compile(
    rf"(?P<name>{_CANDIDATE}?)(?=(?P<title>{_alternation(TITLES_AFTER)})"
    rf"|{_alternation(POSSESSIONS_AFTER)})"
)
_SURNAME_AT_START = re.compile(_SURNAME)


@dataclass(frozen=True, slots=True)
class ChineseNameRule:
    """``PERSON`` in Chinese text, from a surname list and the words around it."""

    entity_type: str = PERSON

    def find(self, text: str, lowered: str) -> list[Finding]:
        if not _has_han(text):
            return []
        spans: dict[tuple[int, int], None] = {}
        for match in _BEFORE.finditer(text):
            span = _name_span(text, match.start("name"), match.end("name"))
            if span and _plausible(text[span[0] : span[1]], weak_hint=not match.group("strong")):
                spans[span] = None
        for match in _BEFORE_WORDS_AFTER.finditer(text):
            span = _name_span(text, match.start("name"), match.end("name"))
            if span and _plausible(text[span[0] : span[1]], weak_hint=not match.group("title")):
                spans[span] = None
        return [Finding(PERSON, start, end, NAME_SCORE) for start, end in spans]


def _has_han(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def _name_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name within a candidate: cut before function characters and following words."""
    surname = _SURNAME_AT_START.match(text, start)
    if surname is None:
        return None
    given_start = surname.end()
    cut = given_start
    while cut < end and text[cut] not in FUNCTION_CHARACTERS:
        if cut > given_start and text.startswith(WORDS_AFTER_NAMES, cut):
            break
        cut += 1
    return (start, cut) if cut > given_start else None


def _plausible(name: str, *, weak_hint: bool) -> bool:
    """Whether a candidate is no ordinary word; after a weak hint, made of name characters."""
    surname = _SURNAME_AT_START.match(name)
    if surname is None or name[:2] in NOT_NAMES or name[-2:] in NOT_NAMES:
        return False
    if not weak_hint:
        return True
    given = name[surname.end() :]
    return surname.group() not in WORDLIKE_SURNAMES and all(
        character in GIVEN_NAME_CHARACTERS for character in given
    )
