"""An office's first day in Debian's chromium at a phone's size (390x844), against the real
app served over HTTP on each database: an administrator adds a community, imports two
volunteers from an Excel workbook after its preview, issues a reset code that the person uses
to set a password and sign in, and finds each change in the audit log. Screenshots go to
JINDOU_SCREENSHOT_DIR when set (else the test's tmp dir)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook

from tests.browser_support import assert_fits_the_phone, phone, serve, submit_login

pytestmark = [pytest.mark.browser, pytest.mark.commits]  # a served app commits for real


def workbook() -> bytes:
    book = Workbook()
    for row in (["外部编号", "姓名", "手机号", "用户名", "所属区域代码"],
                ["R001", "张阿姨", "13900000001", "张阿姨", "xinfeng"],
                ["R002", "李师傅", "13900000002", None, "xinfeng"]):
        book.active.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


@pytest.fixture
def served(app, world):
    with serve(app, "jindou-organisation-server") as base:
        yield base


def test_an_office_builds_imports_and_audits_on_a_phone(served, browser, screenshots, request):
    from playwright.sync_api import expect

    base, database = served, request.node.callspec.params["database"]
    context = phone(browser)
    page = context.new_page()
    try:
        page.goto(base + "/login")
        submit_login(page, "xindu_admin")
        page.goto(base + "/admin/areas")
        form = page.locator("[data-test=area-form]")
        form.locator("[name=parent]").select_option("dafeng")
        form.locator("[name=code]").fill("xinfeng")
        form.locator("[name=name]").fill("新丰社区")
        form.locator("[name=level]").select_option("community")
        form.locator("button[type=submit]").click()
        expect(page.locator("[data-test=area-tree]")).to_contain_text("新丰社区")
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-org-1-areas.png", full_page=True)

        page.goto(base + "/admin/imports")
        upload = page.locator("[data-test=import-form]")
        upload.locator("[name=kind]").select_option("volunteers")
        upload.locator("[name=file]").set_input_files(files=[{
            "name": "people.xlsx", "buffer": workbook(),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
        upload.locator("button[type=submit]").click()
        preview = page.locator("[data-test=import-preview]")
        expect(preview.locator("tr[data-action=create]")).to_have_count(2)
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-org-2-preview.png", full_page=True)
        page.locator("[data-test=apply-import]").click()
        expect(page.locator(".flash.success")).to_be_visible()

        page.goto(base + "/admin/people?q=张")
        page.get_by_role("link", name="张阿姨").click()
        page.locator("[data-test=reset-code]").click()
        code = page.locator("[data-test=issued-code] .code").inner_text().strip()
        assert re.fullmatch(r"[0-9A-Z]{10}", code)
        assert_fits_the_phone(page)

        resident = context.browser.new_context(viewport={"width": 390, "height": 844},
                                               locale="zh-CN")
        other = resident.new_page()
        other.goto(base + "/reset")
        other.locator("[name=username]").fill("13900000001")
        other.locator("[name=code]").fill(code)
        other.locator("[name=new_password]").fill("zhang-ayi-2026")
        other.locator("[data-test=reset]").click()
        other.wait_for_url(re.compile(r"/login$"))
        other.locator("[name=username]").fill("张阿姨")
        other.locator("[name=password]").fill("zhang-ayi-2026")
        other.locator("[data-test=login]").click()
        other.wait_for_url(re.compile(r"/wallet$"))
        resident.close()

        page.goto(base + "/admin/audit")
        events = page.locator("[data-test=audit-events]")
        for kind in ("area.create", "import.volunteers", "user.reset_code", "user.password"):
            expect(events.locator(f"li[data-kind='{kind}']").first).to_be_visible()
        page.locator("[data-test=audit-filters] [name=kind]").select_option("area.create")
        page.locator("[data-test=audit-filters] button").click()
        expect(events.locator("li")).to_have_count(1)
        expect(page.locator("[data-test=audit-csv]")).to_have_attribute(
            "href", re.compile(r"kind=area.create"))
        assert_fits_the_phone(page)
        page.screenshot(path=screenshots / f"{database}-org-3-audit.png", full_page=True)
    finally:
        context.close()
