"""Every refusal a person can meet reads as a plain sentence in their language: each domain and
ledger error class, each code and each HTTP status has a translated message (web/messages.py),
the error pages say it without developer English, and the API answers with the same sentence as
``message`` (the developer's text as ``detail``)."""

from __future__ import annotations

import html
import importlib
import inspect
import re

import pytest

from tests.test_pages import login, text_of

ERROR_MODULES = ("volunteers.errors", "volunteers.roles", "activities.errors", "honours.errors",
                 "merchants.errors", "merchants.vouchers", "payments.errors", "ledger.errors")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Two English words side by side: a sentence (or its start) left untranslated. Units and the
# names of things we keep in Latin letters are allowed.
ENGLISH_WORDS = re.compile(r"\b(?!MB\b|API\b|QR\b|CSV\b)[A-Za-z]{2,}\b[\s,.:;]+"
                           r"\b(?!MB\b|API\b|QR\b|CSV\b)[A-Za-z]{2,}\b")
ERROR_STATUSES = (400, 403, 404, 409, 413, 429, 500)


def every_error_class():
    from ledger import LedgerError
    from volunteers.errors import DomainError

    for name in ERROR_MODULES:
        importlib.import_module(name)
    found, todo = [], [DomainError, LedgerError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def every_code():
    from web.errors import HTTP_CODES
    from web.messages import BY_CODE

    return sorted({cls.code for cls in every_error_class()} | set(HTTP_CODES.values())
                  | set(BY_CODE))


def sample(cls):
    """An instance with a developer's English message and the details its raisers give; other
    required arguments get a plain value (a class that carries its own code gets one of ours)."""
    details = {"step_points": 3, "remaining_points": 30, "monthly_maximum_points": 100}
    if cls.__name__ == "InsufficientFundsForBonuses":
        return cls("the fund lacks money", missing_fen=100)
    if cls.__name__ == "CounterLimitReached":
        return cls("over the counter's limit", limit="volunteer_daily_points", allowed=100)
    args, keywords = [], dict(details)
    for name, parameter in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if parameter.default is not parameter.empty or parameter.kind in (
                parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = {"message": "developer english text here", "code": "last_admin"}.get(name, 1)
        if parameter.kind == parameter.KEYWORD_ONLY:
            keywords[name] = value
        else:
            args.append(value)
    if not args:
        args = ["developer english text here"]
    return cls(*args, **keywords)


def in_language(app, language):
    return app.test_request_context("/", headers={"Accept-Language": language})


def assert_plain_chinese(text: str, what: str) -> None:
    assert CJK.search(text), f"{what}: no Chinese in {text!r}"
    assert not ENGLISH_WORDS.search(text), f"{what}: English in a Chinese text: {text!r}"


def test_every_error_class_and_code_reads_in_chinese_and_in_english(app):
    from web.messages import message_for

    classes = every_error_class()
    assert len(classes) > 40
    with in_language(app, "zh-CN"):
        chinese = {cls: message_for(sample(cls)) for cls in classes}
        chinese_codes = {code: message_for(code=code) for code in every_code()}
    with in_language(app, "en"):
        english = {cls: message_for(sample(cls)) for cls in classes}
        english_codes = {code: message_for(code=code) for code in every_code()}
    for cls, text in chinese.items():
        assert_plain_chinese(text, cls.__name__)
        assert "developer" not in text and text != english[cls], cls.__name__
        assert not CJK.search(english[cls]), cls.__name__
    for code, text in chinese_codes.items():
        assert_plain_chinese(text, code)
        assert text != english_codes[code], f"{code} is not translated"


def test_details_fill_the_sentence(app):
    from payments.errors import AmountNotConvertible, CashOutDisabled, LimitReached
    from web.messages import message_for

    with in_language(app, "zh-CN"):
        assert message_for(CashOutDisabled("programme x does not offer cash-out")) == (
            "该项目暂未开放积分兑现。")
        assert "3 的倍数" in message_for(AmountNotConvertible("no", step_points=3))
        limited = message_for(LimitReached("no", remaining_points=30,
                                           monthly_maximum_points=100))
        assert "30" in limited and "100" in limited
        # Without its details the sentence falls back to the code's.
        assert message_for(LimitReached("no")) == "已超出上限。"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_error_pages_are_translated_for_every_status(app, language):
    from web.errors import HTTP_CODES, error_response

    for status in ERROR_STATUSES:
        code = HTTP_CODES.get(status, "internal_error")
        with in_language(app, language):
            body, answered = error_response(status, code, "Some developer English sentence")
        assert answered == status
        main = visible_main(body)
        assert "developer" not in main, (status, main)
        if language == "zh-CN":
            assert_plain_chinese(main, f"error page {status}")
        else:
            assert not CJK.search(main), (status, main)


def test_a_missing_page_and_a_forbidden_one_say_so_in_chinese(client, world):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "找不到页面" in visible_main(text_of(missing))
    assert "requested URL" not in text_of(missing)
    login(client, "rider")
    forbidden = client.get("/admin")
    assert forbidden.status_code == 403
    main = visible_main(text_of(forbidden))
    assert "无权" in main and "needs the role" not in main
    assert_plain_chinese(main, "403 page")


def test_the_api_message_is_the_sentence_in_the_callers_language(api, world):
    answer = api.get("/api/v1/reports/999999", as_="rider",
                     headers={"Accept-Language": "zh-CN"})
    body = answer.get_json()
    assert (answer.status_code, body["code"]) == (404, "not_found")
    assert body["message"] == "没有找到这个页面或记录。"
    assert set(body) == {"code", "message"}  # CONTRACT section 4: no developer text
    english = api.get("/api/v1/reports/999999", as_="rider", headers={"Accept-Language": "en"})
    assert english.get_json()["message"] == "We could not find that page or record."


def test_cash_out_on_a_programme_without_it_shows_no_form(client, world):
    login(client, "rider")
    page = text_of(client.get("/cash-out"))
    assert "该项目暂未开放积分兑现" in page
    assert 'name="amount_points"' not in page


def visible_main(page: str) -> str:
    main = re.search(r"<main>(.*)</main>", page, re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", main)
    return " ".join(html.unescape(text).split())
