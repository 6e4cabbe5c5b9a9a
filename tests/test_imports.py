"""Bulk import from the office's spreadsheets, through the API and the CLI: templates with
Chinese column names, GBK and UTF-8 CSV and XLSX read alike, a per-row dry-run report, nothing
applied while a row is refused, a second import of the same file changes nothing, and the
imported people set their first password with an activation code."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from imports.files import MAX_ROWS, TooManyRows, read_table

HEADER = "外部编号,姓名,手机号,用户名,所属区域代码\n"
GOOD = HEADER + "R001,张三,13900000001,,sanyuan\nR002,李四,13900000002,lisi,nanfeng\n"


def upload(api, kind, data: bytes, dry_run=True, name="people.csv", as_="xindu_admin"):
    return api.post("/imports", as_=as_, data={
        "kind": kind, "dry_run": "true" if dry_run else "false",
        "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def test_templates_carry_the_chinese_column_names(api, world):
    response = api.get("/imports/templates/volunteers?format=csv", as_="xindu_admin")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == "外部编号,姓名,手机号,用户名,所属区域代码"
    book = api.get("/imports/templates/courtyards?format=xlsx", as_="xindu_admin")
    header = next(load_workbook(io.BytesIO(book.get_data())).active.iter_rows(values_only=True))
    assert header == ("院落代码", "院落名称", "所属网格代码", "中心纬度", "中心经度")
    assert api.get("/imports/templates/nope", as_="xindu_admin").status_code == 422
    assert api.get("/imports/templates/volunteers", as_="rider").status_code == 403


def test_a_gbk_file_with_bad_rows_is_reported_per_row_and_applies_nothing(app, api, world):
    bad = (HEADER + "R001,张三,13900000001,,sanyuan\nR001,张三重复,13900000009,,sanyuan\n"
           "R003,王五,13900000003,,nowhere\nR004,赵六,13900000004,,cuihu\n"
           "R005,,abc,,sanyuan\n").encode("gbk")
    report = upload(api, "volunteers", bad).get_json()
    assert report["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "refused": 4}
    refused = {row["line"]: row["problems"] for row in report["rows"]
               if row["action"] == "refused"}
    assert refused[3] == {"external_id": ["the same person as row 2"]}
    assert refused[4] == {"area": ["unknown area nowhere"]}
    assert refused[5] == {"area": ["area cuihu is outside your areas"]}
    assert set(refused[6]) == {"display_name", "phone"}
    applied = upload(api, "volunteers", bad, dry_run=False)
    assert applied.status_code == 422 and applied.get_json()["code"] == "import_refused"
    assert api.client.post("/api/v1/auth/reset", json={
        "username": "vR001", "code": "X", "new_password": "whatever-1"}).status_code == 400
    people = api.get("/audit-events", as_="xindu_admin", query_string={"kind": "import"})
    assert people.get_json()["items"] == []


def test_importing_twice_changes_nothing_and_a_changed_row_updates(api, world):
    first = upload(api, "volunteers", GOOD.encode("utf-8-sig"), dry_run=False)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["counts"] == {"created": 2, "updated": 0, "unchanged": 0,
                                          "refused": 0}
    again = upload(api, "volunteers", GOOD.encode("utf-8"), dry_run=False).get_json()
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "refused": 0}
    renamed = GOOD.replace("李四,13900000002", "李思,13900000002")
    changed = upload(api, "volunteers", renamed.encode("utf-8"), dry_run=False).get_json()
    assert changed["counts"] == {"created": 0, "updated": 1, "unchanged": 1, "refused": 0}
    # Keyed by phone when there is no external id: the same person, not a new one.
    by_phone = HEADER + ",李思,13900000002,,sanyuan\n"
    moved = upload(api, "volunteers", by_phone.encode("utf-8"), dry_run=False).get_json()
    assert moved["counts"]["updated"] == 1
    kinds = [e["kind"] for e in api.get("/audit-events", as_="xindu_admin", query_string={
        "kind": "import"}).get_json()["items"]]
    assert kinds == ["import.volunteers"] * 3


def test_imported_people_set_their_first_password_with_an_activation_code(api, world):
    upload(api, "volunteers", GOOD.encode("utf-8"), dry_run=False)
    assert api.client.post("/api/v1/auth/tokens", json={
        "username": "lisi", "password": ""}).status_code in (401, 422)
    response = api.post("/imports/activation-codes", as_="xindu_admin", json={"area": "dafeng"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["用户名", "姓名", "手机号", "激活码", "有效期至"]
    codes = {row[0]: row[3] for row in rows[1:]}
    assert set(codes) == {"vR001", "lisi"}
    assert api.post("/auth/reset", json={"username": "13900000002", "code": codes["lisi"],
                                         "new_password": "first-password"}).status_code == 200
    assert api.client.post("/api/v1/auth/tokens", json={
        "username": "lisi", "password": "first-password"}).status_code == 201
    again = api.post("/imports/activation-codes", as_="xindu_admin", json={"area": "dafeng"})
    assert [row[0] for row in csv.reader(io.StringIO(
        again.get_data().decode("utf-8-sig")))][1:] == ["vR001"]


def test_areas_and_courtyards_from_excel_workbooks(api, world):
    areas = xlsx([["区域代码", "名称", "级别", "上级区域代码", "中心纬度", "中心经度"],
                  ["xinfeng", "新丰社区", "社区", "dafeng", None, None],
                  ["xf-grid1", "新丰一网格", "网格", "xinfeng", 30.85, 104.15]])
    dry = upload(api, "areas", areas, name="areas.xlsx").get_json()
    assert dry["counts"]["created"] == 2 and not dry["applied"]
    assert api.get("/areas/xinfeng", as_="xindu_admin").status_code == 404
    assert upload(api, "areas", areas, dry_run=False, name="areas.xlsx").status_code == 200
    yards = xlsx([["院落代码", "院落名称", "所属网格代码", "中心纬度", "中心经度"],
                  ["xf-yard1", "一号院", "xf-grid1", "30.851", "104.151"],
                  ["xf-yard2", "二号院", "xinfeng", None, None]])
    report = upload(api, "courtyards", yards, dry_run=False, name="yards.xlsx")
    assert report.status_code == 422
    assert report.get_json()["errors"]["rows"][0]["problems"] == {
        "parent": ["a courtyard cannot sit under a community"]}
    yards_ok = xlsx([["院落代码", "院落名称", "所属网格代码"], ["xf-yard1", "一号院", "xf-grid1"]])
    assert upload(api, "courtyards", yards_ok, dry_run=False, name="y.xlsx").status_code == 200
    assert api.get("/areas/xf-yard1", as_="xindu_admin").get_json()["path"] == \
        "/root/xindu/dafeng/xinfeng/xf-grid1/xf-yard1/"


def test_merchants_are_keyed_by_programme_and_name(api, world):
    data = ("商户名称,项目代码,所属区域代码,地址,类别,电话\n"
            "大丰老茶馆,fengxingxia,dafeng,大丰街道1号,餐饮,028-12345678\n").encode()
    assert upload(api, "merchants", data, dry_run=False).get_json()["counts"]["created"] == 1
    again = upload(api, "merchants", data, dry_run=False).get_json()
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 1, "refused": 0}
    outside = data.replace(b"dafeng,", b"cuihu,")
    assert upload(api, "merchants", outside).get_json()["counts"]["refused"] == 1


def test_files_that_cannot_be_read_are_refused_whole(api, world):
    wrong = upload(api, "volunteers", "名字,电话号码\n张三,1\n".encode())
    assert wrong.status_code == 422 and "columns" in wrong.get_json()["errors"]
    binary = upload(api, "volunteers", b"\x81\xff\xfe\x00" * 10)
    assert binary.status_code == 422
    broken = upload(api, "areas", b"PK\x03\x04not really a workbook", name="a.xlsx")
    assert broken.status_code == 422
    # Read straight (a 600 kB upload through the test client leaves werkzeug's spool open).
    huge = (HEADER + "R1,张三,13900000001,,sanyuan\n" * (MAX_ROWS + 1)).encode()
    with pytest.raises(TooManyRows) as refused:
        read_table(huge)
    assert (refused.value.status, refused.value.code) == (413, "too_many_rows")
    no_kind = api.post("/imports", as_="xindu_admin", data={"kind": "people"},
                       content_type="multipart/form-data")
    assert set(no_kind.get_json()["errors"]) == {"file", "kind"}


def test_the_cli_imports_with_a_dry_run_and_writes_the_codes(app, api, world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(GOOD.encode("gbk"))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import", "volunteers", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "dry run: created 2" in dry.output
    codes = tmp_path / "codes.csv"
    applied = runner.invoke(args=["import", "volunteers", str(path), "--codes", str(codes)])
    assert applied.exit_code == 0 and "applied: created 2" in applied.output, applied.output
    assert len(codes.read_text(encoding="utf-8-sig").splitlines()) == 3
    again = runner.invoke(args=["import", "volunteers", str(path)])
    assert "applied: created 0, updated 0, unchanged 2" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "R9,某人,13900000009,,nowhere\n", encoding="utf-8")
    refused = runner.invoke(args=["import", "volunteers", str(bad)])
    assert refused.exit_code == 1 and "row 2 refused" in refused.output
