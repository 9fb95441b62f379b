# ruff: noqa: RUF001 - Chinese punctuation in the examples.
"""Chinese names: a surname, one or two characters, and words around that announce a person."""

from __future__ import annotations

import pytest

from gateway.redaction.rules.cn_names import ChineseNameRule
from tests.unit.redaction.rules.support import found, zero_width


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("你好，我是张伟，请把合同发到我的邮箱。", "张伟"),
        ("我叫王秀英，住在北京。", "王秀英"),
        ("收件人李娜，电话13812345678。", "李娜"),
        ("退款请打到这个账户，户名海建国。", "海建国"),  # a word-like surname after a strong hint
        ("联系人：欧阳娜娜，邮箱见附件。", "欧阳娜娜"),  # compound surname
        ("请核实身份证号是否与姓名陈伟一致。", "陈伟"),  # cut before 一致
        ("客户刘洋的身份证号码是多少？", "刘洋"),  # cut before 的
        ("持卡人赵磊已经报警。", "赵磊"),
        ("昨晚有人多次尝试登录周杰的账号。", "周杰"),
        ("黄晓明先生明天到。", "黄晓明"),
        ("帮我写一封邮件给孙丽，提醒她周五前提交。", "孙丽"),
        ("这个项目由郭峰负责。", "郭峰"),
        (zero_width("我是张伟"), "张伟"),
    ],
)
def test_names_with_a_hint_are_found(text: str, name: str) -> None:
    assert found(text, "PERSON") == [name]


@pytest.mark.parametrize(
    "text",
    [
        "客户关系管理系统将于明天升级，请联系客服。",
        "给高级用户发放优惠券后，营业额增长了。",
        "和平路店今天开业。",
        "员工手册第3章已更新。",
        "我是新来的实习生。",
        "美国同事的电话是多少？",
        "给海外客户的报价单已发出。",  # 海 is a surname, but not after a weak hint
        "王先生明天到。",  # a surname alone is not a name
        "张伟",  # no hint at all
        "我是高级工程师。",
    ],
)
def test_ordinary_words_after_such_hints_are_not_names(text: str) -> None:
    assert found(text, "PERSON") == []


def test_english_text_is_not_read_as_chinese_names() -> None:
    text = "My name is Wang Wei"
    assert ChineseNameRule().find(text, text.lower()) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("李红梅说下周一把报销单交给财务。", "李红梅"),
        ("会上，王阳表示同意。", "王阳"),
        ("请核实是否与姓名黄金凤一致。", "黄金凤"),  # a label is trusted even if 黄金 is a word
        ("联系人：陈刚，电话见附件。", "陈刚"),
    ],
)
def test_clause_subjects_and_labelled_names_are_found(text: str, name: str) -> None:
    assert found(text, "PERSON") == [name]


@pytest.mark.parametrize("text", ["高兴说不出话。", "明天说吧。", "大家说好了。", "方便说一下吗？"])
def test_ordinary_clause_openings_are_not_names(text: str) -> None:
    assert found(text, "PERSON") == []
