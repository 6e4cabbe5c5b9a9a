"""The reports API (CONTRACT section 4) on SQLite and PostgreSQL: filing with photos, the
reviewer's steps, points paid once, and every refusal answering the contract's error body
while changing nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.reports_support import (
    GARBAGE_POINTS,
    SIGNAL_POINTS,
    build_reports_world,
    jpeg_with_gps,
    png_bytes,
    report_form,
)
from tests.web_support import ledger_snapshot


@pytest.fixture
def rworld(app, world):
    build_reports_world(app, world)
    return world


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart body encoded in memory (the test client spools big bodies to temporary
    files it does not always close)."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict(fields)
    for field, items in files.items():
        for name, content in items:
            values.add(field, FileStorage(io.BytesIO(content), name))
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def file(api, as_="rider", photos=(), **overrides):
    body, content_type = multipart(report_form(**overrides), {"photos": photos})
    return api.post("/reports", as_=as_, data=body, content_type=content_type)


def fetch(api, url, as_):
    """A file's status, type and bytes; the streamed response is closed."""
    response = api.get(url.removeprefix("/api/v1"), as_=as_)
    try:
        return response.status_code, response.mimetype, response.get_data()
    finally:
        response.close()


def wallet_points(api, as_):
    return api.get("/me", as_=as_).get_json()["wallet"]["posted_points"]


def assert_refused(response, status, code):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == code
    assert body["message"]
    return body


def test_categories_are_listed_for_anyone(api, rworld):
    response = api.get("/report-categories")
    assert response.status_code == 200
    by_code = {c["code"]: c for c in response.get_json()}
    assert by_code["traffic-signal"] == {
        "code": "traffic-signal", "name": "交通信号灯故障", "group": "traffic",
        "group_name": "交通设施", "points": SIGNAL_POINTS, "urgency": "urgent",
        "deadline_hours": 4, "department": "交警队", "legal_basis": "《道路交通安全法》第二十五条"}
    assert by_code["garbage"]["points"] == GARBAGE_POINTS


def test_a_volunteer_files_a_report_with_photos(api, rworld):
    response = file(api, photos=[("road.jpg", jpeg_with_gps()), ("b.png", png_bytes())])
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["status"] == "submitted"
    assert report["category"] == "traffic-signal"
    assert report["area"] == "sanyuan"
    assert report["programme"] == "fengxingxia"
    assert report["points_awarded"] == 0
    assert [m["kind"] for m in report["media"]] == ["photo", "photo"]
    assert report["media"][0]["width"] == 800
    assert [e["action"] for e in report["events"]] == ["submitted"]
    status, mimetype, data = fetch(api, report["media"][1]["url"], "rider")
    assert (status, mimetype) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_verify_pays_the_category_points_once(api, rworld):
    report_id = file(api).get_json()["id"]
    before = wallet_points(api, "rider")
    first = api.post(f"/reports/{report_id}/verify", as_="dafeng_reviewer",
                     headers={"Idempotency-Key": "k1"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["points_awarded"] == SIGNAL_POINTS
    retry = api.post(f"/reports/{report_id}/verify", as_="dafeng_reviewer",
                     headers={"Idempotency-Key": "k1"})
    assert retry.status_code == 200
    assert retry.get_json() == first.get_json()
    snapshot = ledger_snapshot(api.app)
    second = api.post(f"/reports/{report_id}/verify", as_="dafeng_reviewer")
    assert_refused(second, 409, "conflict")
    assert ledger_snapshot(api.app) == snapshot
    assert wallet_points(api, "rider") == before + SIGNAL_POINTS


def test_the_whole_life_of_a_report(api, rworld):
    report_id = file(api).get_json()["id"]
    path = f"/reports/{report_id}"
    assert api.post(path + "/verify", as_="dafeng_reviewer").status_code == 200
    dispatched = api.post(path + "/dispatch", as_="dafeng_reviewer", json={})
    assert dispatched.status_code == 200, dispatched.get_json()
    assert dispatched.get_json()["department"] == "交警队"
    assert dispatched.get_json()["deadline_at"]
    started = api.post(path + "/start", as_="traffic_officer", json={"note": "已出警"})
    assert started.get_json()["status"] == "in_progress"
    resolved = api.post(path + "/resolve", as_="traffic_officer",
                        json={"resolution": "信号灯已修复"})
    assert resolved.get_json()["status"] == "resolved"
    closed = api.post(path + "/close", as_="dafeng_reviewer", json={})
    assert closed.get_json()["status"] == "closed"
    assert [e["action"] for e in closed.get_json()["events"]] == [
        "submitted", "verified", "dispatched", "started", "resolved", "closed"]
    mine = api.get("/reports", as_="rider").get_json()
    assert [r["id"] for r in mine] == [report_id]
    assert mine[0]["reporter_name"] is None


def test_a_false_report_is_clawed_back(api, rworld):
    report_id = file(api).get_json()["id"]
    api.post(f"/reports/{report_id}/verify", as_="dafeng_reviewer")
    before = wallet_points(api, "rider")
    response = api.post(f"/reports/{report_id}/false", as_="dafeng_reviewer",
                        json={"reason": "现场核实，信号灯正常"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected"
    assert wallet_points(api, "rider") == before - SIGNAL_POINTS
    entries = api.get("/ledger/entries?kind=reversal", as_="root_admin").get_json()["items"]
    assert [e["reference"] for e in entries] == [f"report:{report_id}"]


def test_staff_see_their_area_and_volunteers_only_their_own(api, rworld):
    own = file(api).get_json()["id"]
    other = file(api, as_="rider2").get_json()["id"]
    assert [r["id"] for r in api.get("/reports", as_="rider").get_json()] == [own]
    assert {r["id"] for r in api.get("/reports", as_="dafeng_reviewer").get_json()} == \
        {own, other}
    assert [r["id"] for r in api.get("/reports", as_="nanfeng_reviewer").get_json()] == [other]
    staff_view = api.get(f"/reports/{own}", as_="dafeng_reviewer").get_json()
    assert staff_view["reporter_name"] == "rider"


# --- bad input: each answers the contract's error body and changes nothing ----------------


@pytest.mark.parametrize("overrides, field", [
    ({"category": "no-such-thing"}, "category"),
    ({"lat": "91"}, "lat"),
    ({"lng": "-181"}, "lng"),
    ({"lat": "nan"}, "lat"),
    ({"description": ""}, "description"),
])
def test_bad_reports_are_refused(api, rworld, overrides, field):
    snapshot = ledger_snapshot(api.app)
    body = assert_refused(file(api, **overrides), 422, "validation_error")
    assert field in body["errors"]
    assert api.get("/reports", as_="rider").get_json() == []
    assert ledger_snapshot(api.app) == snapshot


def test_a_text_file_named_jpg_is_refused(api, rworld, app):
    body = assert_refused(file(api, photos=[("photo.jpg", b"just some text, not a JPEG")]),
                          422, "validation_error")
    assert "photos" in body["errors"]
    assert api.get("/reports", as_="rider").get_json() == []


def test_ten_photos_are_refused(api, rworld):
    photos = [(f"p{n}.png", png_bytes()) for n in range(10)]
    body = assert_refused(file(api, photos=photos), 422, "validation_error")
    assert "photos" in body["errors"]


def test_a_50_megabyte_upload_is_refused(api, rworld):
    snapshot = ledger_snapshot(api.app)
    huge = b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024)
    assert_refused(file(api, photos=[("huge.jpg", huge)]), 413, "payload_too_large")
    assert ledger_snapshot(api.app) == snapshot
    assert api.get("/reports", as_="rider").get_json() == []


def test_a_photo_over_the_per_file_limit_is_refused(api, rworld):
    from reports.uploads import MAX_PHOTO_BYTES

    big = jpeg_with_gps() + b"\0" * MAX_PHOTO_BYTES
    body = assert_refused(file(api, photos=[("big.jpg", big)]), 422, "validation_error")
    assert "photos" in body["errors"]


def test_acting_outside_ones_area_is_forbidden(api, rworld):
    report_id = file(api).get_json()["id"]
    snapshot = ledger_snapshot(api.app)
    assert_refused(api.post(f"/reports/{report_id}/verify", as_="nanfeng_reviewer"),
                   403, "forbidden")
    assert_refused(api.post(f"/reports/{report_id}/reject", as_="nanfeng_reviewer",
                            json={"reason": "x"}), 403, "forbidden")
    assert_refused(api.post(f"/reports/{report_id}/verify", as_="rider"), 403, "forbidden")
    assert ledger_snapshot(api.app) == snapshot
    assert api.get(f"/reports/{report_id}", as_="rider").get_json()["status"] == "submitted"


def test_a_volunteer_cannot_read_anothers_report_or_photo(api, rworld):
    report = file(api, photos=[("a.jpg", jpeg_with_gps())]).get_json()
    assert_refused(api.get(f"/reports/{report['id']}", as_="rider2"), 404, "not_found")
    media = report["media"][0]["url"].removeprefix("/api/v1")
    assert_refused(api.get(media, as_="rider2"), 404, "not_found")
    assert_refused(api.get(media), 401, "unauthorized")


def test_steps_out_of_order_are_conflicts(api, rworld):
    report_id = file(api).get_json()["id"]
    assert_refused(api.post(f"/reports/{report_id}/dispatch", as_="dafeng_reviewer", json={}),
                   409, "conflict")
    assert_refused(api.post(f"/reports/{report_id}/close", as_="dafeng_reviewer", json={}),
                   409, "conflict")
    assert_refused(api.post(f"/reports/{report_id}/reject", as_="dafeng_reviewer", json={}),
                   422, "validation_error")


def test_the_openapi_document_describes_the_report_paths(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    for path in ("/api/v1/report-categories", "/api/v1/reports", "/api/v1/reports/{report_id}",
                 "/api/v1/reports/{report_id}/verify", "/api/v1/reports/{report_id}/reject",
                 "/api/v1/reports/{report_id}/dispatch", "/api/v1/reports/{report_id}/resolve"):
        assert path in paths, path
    form = paths["/api/v1/reports"]["post"]["requestBody"]["content"]["multipart/form-data"]
    schema_name = form["schema"]["$ref"].rsplit("/", 1)[1]
    properties = document["components"]["schemas"][schema_name]["properties"]
    assert {"category", "lat", "lng", "address", "description", "photos"} <= set(properties)
    headers = [p["name"] for p in paths["/api/v1/reports/{report_id}/verify"]["post"][
        "parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
