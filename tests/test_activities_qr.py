"""The organiser's check-in QR decoded for real (zbar through pyzbar): it carries the scan
page's URL with the current code, and that code checks the volunteer in."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from tests.activities_support import build_scene
from tests.test_activities_api import create

MAX_QR_URL_LENGTH = 80


def test_the_check_in_qr_decodes_to_a_scan_url_whose_code_checks_in(app, api, world):
    build_scene(app, world)
    activity = create(api)
    api.post(f"/activities/{activity['id']}/signups", as_="rider")
    response = api.get(f"/activities/{activity['id']}/qr.png?direction=in",
                       as_="sanyuan_organiser")
    assert response.status_code == 200 and response.mimetype == "image/png"
    symbols = decode(Image.open(io.BytesIO(response.data)), symbols=[ZBarSymbol.QRCODE])
    assert len(symbols) == 1
    url = symbols[0].data.decode()
    assert len(url) <= MAX_QR_URL_LENGTH, url
    parts = urlsplit(url)
    assert parts.path == f"/activities/{activity['id']}/scan"
    query = parse_qs(parts.query)
    assert query["d"] == ["in"] and len(query["code"][0]) == 8
    checked = api.post(f"/activities/{activity['id']}/checkins", as_="rider",
                       json={"code": query["code"][0]})
    assert checked.status_code == 201, checked.get_json()
    out = decode(Image.open(io.BytesIO(api.get(
        f"/activities/{activity['id']}/qr.png?direction=out", as_="sanyuan_organiser").data)))
    assert parse_qs(urlsplit(out[0].data.decode()).query)["d"] == ["out"]
    assert api.get(f"/activities/{activity['id']}/qr.png", as_="rider").status_code == 403
