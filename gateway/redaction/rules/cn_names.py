# ruff: noqa: RUF001 - Chinese words and punctuation.
"""Chinese personal names (``PERSON``): a surname, one or two given-name characters, a hint.

spaCy's English model cannot read Chinese, so names are found by rule: a known surname
(``cn_name_lists.py``; compound ones such as 欧阳 first) followed by one or two Chinese
characters, where the words around say a person is meant. Hints come in three strengths:

- *labels*, trusted as they are: 姓名, 我叫, 联系人, 收件人, 收款人, 户名, 持卡人...;
- *strong*: 我是, 本人, 患者... before, or a title after (先生, 女士, 经理, 老师...);
  the candidate must not be an ordinary word (我是高级工程师);
- *weak*: 客户, 员工, 同事, 给, 提醒, 和, 由... before, a possessive personal-data noun
  after (的手机, 的邮箱, 的账号...), or a clause that starts with the candidate and goes
  on with a verb of saying or doing (张伟说, 王芳表示); then the surname must not be one
  that is mostly an ordinary word (海, 国...), every given-name character must be common
  in names, and the candidate must not be an ordinary word (客户关系, 给方便, 高兴说).

A bare "surname + characters" without a hint is not reported: most two-character
Chinese words start with a character that is also a surname. A candidate is cut before
a function character (的, 是, 已...) or a word that usually follows a name (一致, 已经,
先生...), so ``姓名张伟一致`` finds ``张伟``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

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

LABELS_BEFORE = (
    "我叫", "名叫", "叫做", "姓名", "名字是", "名字叫", "联系人", "收件人", "收货人", "寄件人",
    "收款人", "付款人", "汇款人", "户名", "持卡人", "开户人", "申请人", "负责人", "经办人",
    "签字人", "署名",
)  # fmt: skip
STRONG_BEFORE = ("我是", "本人", "患者", "病人", "乘客", "租客", "房东")
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
VERBS_AFTER = (
    "说", "表示", "认为", "告诉", "问", "打电话", "发邮件", "来电", "负责", "签字", "同意",
    "确认", "提交", "报销", "请假", "出差", "已经", "刚刚", "明天", "今天", "下周", "昨天",
)  # fmt: skip
"""Words that, right after a clause-initial candidate, make it the clause's subject."""

_HAN = r"[\u4e00-\u9fff]"
_SURNAMES = "".join(sorted(SURNAMES | WORDLIKE_SURNAMES))
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{_SURNAMES}])"
_CANDIDATE = rf"{_SURNAME}{_HAN}{{1,2}}"
_CLAUSE_START = r"(?:^|(?<=[\s，。！？；：、,.!?;:]))"


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


class Hint(IntEnum):
    WEAK = 1
    STRONG = 2
    LABEL = 3


_BEFORE = re.compile(
    rf"(?:(?P<label>{_alternation(LABELS_BEFORE)})|(?P<strong>{_alternation(STRONG_BEFORE)})"
    rf"|{_alternation(WEAK_BEFORE)})[:：]?[ \t]?(?P<name>{_CANDIDATE})"
)
_AFTER = re.compile(
    rf"(?P<name>{_CANDIDATE}?)(?=(?P<title>{_alternation(TITLES_AFTER)})"
    rf"|{_alternation(POSSESSIONS_AFTER)})"
)
_SUBJECT = re.compile(rf"{_CLAUSE_START}(?P<name>{_CANDIDATE}?)(?={_alternation(VERBS_AFTER)})")
_SURNAME_AT_START = re.compile(_SURNAME)


@dataclass(frozen=True, slots=True)
class ChineseNameRule:
    """``PERSON`` in Chinese text, from a surname list and the words around it."""

    entity_type: str = PERSON

    def find(self, text: str, lowered: str) -> list[Finding]:
        if not _has_han(text):
            return []
        spans: dict[tuple[int, int], None] = {}
        for match, hint in _candidates(text):
            span = _name_span(text, match.start("name"), match.end("name"))
            if span and _plausible(text[span[0] : span[1]], hint):
                spans[span] = None
        return [Finding(PERSON, start, end, NAME_SCORE) for start, end in spans]


def _candidates(text: str) -> list[tuple[re.Match[str], Hint]]:
    found: list[tuple[re.Match[str], Hint]] = []
    for match in _BEFORE.finditer(text):
        hint = Hint.LABEL if match.group("label") else Hint.STRONG
        found.append((match, hint if match.group("label") or match.group("strong") else Hint.WEAK))
    found += [
        (match, Hint.STRONG if match.group("title") else Hint.WEAK)
        for match in _AFTER.finditer(text)
    ]
    found += [(match, Hint.WEAK) for match in _SUBJECT.finditer(text)]
    return found


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
        if text.startswith(WORDS_AFTER_NAMES, cut):
            break
        cut += 1
    return (start, cut) if cut > given_start else None


def _plausible(name: str, hint: Hint) -> bool:
    """Whether a candidate can be a name, given how strongly the words around announce one."""
    if hint is Hint.LABEL:
        return True
    surname = _SURNAME_AT_START.match(name)
    if surname is None or name[:2] in NOT_NAMES or name[-2:] in NOT_NAMES:
        return False
    if hint is Hint.STRONG:
        return True
    given = name[surname.end() :]
    return surname.group() not in WORDLIKE_SURNAMES and all(
        character in GIVEN_NAME_CHARACTERS for character in given
    )
