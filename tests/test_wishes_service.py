"""Micro-wishes on SQLite and PostgreSQL: masked names, one claim at a time, abandon,
fulfilment photos cleaned of EXIF, confirmation pays once and tells the claimer."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import ledger
from activities import wishes
from activities.errors import WishAlreadyClaimed, WishWrongState
from activities.photos import clean_photo
from activities.wishes import WishDraft
from tests.activities_support import build_scene, jpeg_with_gps, png_bytes
from volunteers import users
from volunteers.errors import Forbidden, Invalid, NotInYourArea


@pytest.fixture
def scene(app, world):
    return build_scene(app, world)


@pytest.fixture
def session(app, scene):
    from web.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()


def person(session, scene, name):
    return users.get_user(session, scene.ids[name])


def publish(session, scene, points=15, area="sanyuan"):
    return wishes.publish_wish(session, person(session, scene, "sanyuan_organiser"), WishDraft(
        title="帮独居老人更换灯泡", resident_name="王秀英", story="王奶奶家客厅灯坏了一周。",
        needs="一个 LED 灯泡和上门更换", area=area, programme="fengxingxia",
        reward_points=points))


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("王秀英", "王*英"),
                                          ("欧阳娜娜", "欧**娜"), ("李", "李")])
def test_resident_names_are_masked(name, masked):
    assert wishes.mask_name(name) == masked


def test_the_resident_name_is_stored_masked_only(session, scene):
    wish = publish(session, scene)
    session.commit()
    assert wish.resident_name == "王*英"


def test_an_organiser_cannot_publish_outside_their_area(session, scene):
    with pytest.raises(NotInYourArea):
        publish(session, scene, area="nanfeng")


def test_a_claimed_wish_cannot_be_claimed_again_until_abandoned(session, scene):
    wish = publish(session, scene)
    rider, other = person(session, scene, "rider"), person(session, scene, "volunteer_a")
    wishes.claim(session, rider, wish.id)
    session.commit()
    with pytest.raises(WishAlreadyClaimed):
        wishes.claim(session, other, wish.id)
    session.rollback()
    with pytest.raises(Forbidden):
        wishes.abandon(session, other, wish.id)
    session.rollback()
    wishes.abandon(session, rider, wish.id, "临时出差")
    session.commit()
    listed = wishes.list_wishes(session, other, "open")
    assert [(w.id, w.abandon_count) for w in listed] == [(wish.id, 1)]
    wishes.claim(session, other, wish.id)
    session.commit()
    assert [(c.user_id, c.status) for c in wish.claims] == [
        (rider.id, "abandoned"), (other.id, "active")]


def test_a_volunteer_from_another_district_cannot_claim(session, scene):
    wish = publish(session, scene)
    with pytest.raises(NotInYourArea):
        wishes.claim(session, person(session, scene, "kunming_volunteer"), wish.id)


def test_photos_are_re_encoded_without_exif_and_text_is_refused():
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)
    clean = clean_photo(raw)
    image = Image.open(io.BytesIO(clean.data))
    assert image.format == "JPEG" and (image.width, image.height) == (64, 48)
    assert dict(image.getexif()) == {}
    assert b"TestCam" not in clean.data
    with pytest.raises(Invalid) as refused:
        clean_photo(b"this is a text file named photo.jpg\n" * 10)
    assert "photo" in refused.value.errors
    big = clean_photo(png_bytes((4000, 1000)))
    assert (big.width, big.height) == (1600, 400)


def test_fulfil_confirm_pays_once_and_notifies_the_claimer(session, scene):
    from volunteers.notifications import latest

    wish = publish(session, scene, points=15)
    rider = person(session, scene, "rider")
    organiser = person(session, scene, "sanyuan_organiser")
    wishes.claim(session, rider, wish.id)
    session.commit()
    with pytest.raises(WishWrongState):
        wishes.confirm(session, organiser, wish.id)
    session.rollback()
    with pytest.raises(Invalid):
        wishes.fulfil(session, rider, wish.id, "换好了", [b"not an image"])
    session.rollback()
    assert wishes.get_wish(session, wish.id).status == "claimed"
    wishes.fulfil(session, rider, wish.id, "换好了", [jpeg_with_gps()])
    wishes.confirm(session, organiser, wish.id)
    session.commit()
    assert (wish.status, wish.paid_user_id) == ("confirmed", rider.id)
    assert ledger.balance(session, rider.wallet_code).posted == 15
    entry = ledger.get_entry(session, wish.entry_id)
    assert (entry.kind, entry.reference) == ("wish_reward", f"wish:{wish.id}")
    with pytest.raises(WishWrongState):
        wishes.confirm(session, organiser, wish.id)
    session.rollback()
    assert ledger.balance(session, rider.wallet_code).posted == 15
    notes = latest(session, rider.id, 5)
    assert notes[0].reference == f"wish:{wish.id}"
    assert notes[0].params["points"] == 15


def test_a_team_claim_is_made_and_paid_to_the_leader(session, scene):
    from volunteers import teams

    organiser = person(session, scene, "sanyuan_organiser")
    rider, member = person(session, scene, "rider"), person(session, scene, "volunteer_a")
    team = teams.create_team(session, organiser, "三元社区志愿服务队", "sanyuan", rider.id)
    teams.add_member(session, organiser, team.id, member.id)
    wish = publish(session, scene, points=20)
    session.commit()
    with pytest.raises(Forbidden):
        wishes.claim(session, member, wish.id, team.id)
    session.rollback()
    wishes.claim(session, rider, wish.id, team.id)
    wishes.fulfil(session, rider, wish.id, "", [png_bytes()])
    wishes.confirm(session, organiser, wish.id)
    session.commit()
    assert wish.claimed_team_id == team.id
    assert ledger.balance(session, rider.wallet_code).posted == 20
    assert ledger.balance(session, member.wallet_code).posted == 0
