"""The report services against real SQLite and PostgreSQL: payment once and by the nearest
programme, duplicates, claw-back, escalation (idempotent and concurrent), notifications,
photo cleaning and the assessment figures."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

import ledger
from ledger.clock import CHINA, now
from reports import assessment, reports, uploads
from reports.models import Report
from reports.uploads import Upload
from tests.reports_support import (
    DAFENG,
    GPS_IFD,
    SIGNAL_POINTS,
    build_reports_world,
    jpeg_with_gps,
)
from volunteers import notifications, programmes, users
from volunteers.errors import Conflict, Invalid, NotFound, NotInYourArea, Unauthorized

METRES_PER_DEGREE = 111_320


@pytest.fixture
def ctx(app, world, tmp_path):
    """An app context on the report world; yields (session, world, people, storage dir)."""
    from web.extensions import db

    build_reports_world(app, world)
    with app.app_context():
        session = db.session
        people = {name: users.get_user(session, user_id) for name, user_id in world.ids.items()}
        yield session, world, people, tmp_path / "uploads"
        session.remove()


def draft(category="traffic-signal", lat=DAFENG[0], lng=DAFENG[1], **extra) -> reports.Draft:
    return reports.Draft(category, lat, lng, "蜀龙大道与大丰大道路口", "红绿灯不亮", **extra)


def file(ctx, who="rider", photos=(), **extra) -> Report:
    session, _world, people, storage = ctx
    report = reports.file_report(session, people[who] if who else None, draft(**extra),
                                 list(photos), None, storage)
    session.commit()
    return report


def wallet(ctx, who="rider") -> int:
    session, world, _people, _storage = ctx
    return ledger.balance(session, world.wallet(who)).posted


def texts(ctx, who="rider") -> list[str]:
    session, _world, people, _storage = ctx
    return [n.message % n.params for n in
            reversed(notifications.latest(session, people[who].id, 50))]


def test_verify_pays_once_and_tells_the_reporter(ctx):
    session, _world, people, _storage = ctx
    report = file(ctx)
    reports.verify(session, people["dafeng_reviewer"], report.id, "key-1")
    session.commit()
    assert wallet(ctx) == SIGNAL_POINTS
    assert reports.verify(session, people["dafeng_reviewer"], report.id, "key-1") is report
    with pytest.raises(Conflict):
        reports.verify(session, people["dafeng_reviewer"], report.id, "key-2")
    session.rollback()
    assert wallet(ctx) == SIGNAL_POINTS
    reports.dispatch(session, people["dafeng_reviewer"], report.id)
    session.commit()
    assert texts(ctx)[-1] == "Handed to 交警队 for handling; this report earned you 10 points."
    assert report.feedback_due_at - report.created_at == timedelta(hours=12)
    assert report.deadline_at - report.dispatched_at == timedelta(hours=4)


def test_the_nearest_enclosing_programme_pays(ctx):
    session, _world, people, _storage = ctx
    programmes.create_programme(session, people["root_admin"], "sanyuan-jindou", "三元金豆",
                                "sanyuan", points_per_yuan=1)
    programmes.fund_programme(session, people["root_admin"], "sanyuan-jindou", 100_00, "测试",
                              "fund:sanyuan")
    report = file(ctx)
    assert report.programme.code == "sanyuan-jindou"
    reports.verify(session, people["dafeng_reviewer"], report.id)
    session.commit()
    assert ledger.balance(session, "programme:sanyuan-jindou:budget").posted == 100 - \
        SIGNAL_POINTS


def test_a_duplicate_is_linked_and_earns_the_programmes_share(ctx):
    session, _world, people, _storage = ctx
    reports.set_duplicate_share(session, people["root_admin"],
                                programmes.get_programme(session, "fengxingxia"), 50)
    first = file(ctx)
    near = file(ctx, who="rider2", lat=DAFENG[0] + 30 / METRES_PER_DEGREE)
    far = file(ctx, who="rider2", lat=DAFENG[0] - 80 / METRES_PER_DEGREE)
    other_category = file(ctx, category="garbage")
    assert near.duplicate_of_id == first.id
    assert far.duplicate_of_id is None
    assert other_category.duplicate_of_id is None
    for report in (first, near):
        reports.verify(session, people["dafeng_reviewer"], report.id)
    session.commit()
    assert (first.points_awarded, near.points_awarded) == (SIGNAL_POINTS, SIGNAL_POINTS // 2)


def test_a_false_report_is_reversed_and_a_spent_reward_recorded_as_shortfall(ctx):
    session, world, people, _storage = ctx
    report, spent = file(ctx), file(ctx, category="garbage")
    for each in (report, spent):
        reports.verify(session, people["dafeng_reviewer"], each.id)
    session.commit()
    reports.mark_false(session, people["dafeng_reviewer"], report.id, "现场无此问题")
    session.commit()
    assert report.claw_back_entry_id is not None
    assert ledger.get_entry(session, report.claw_back_entry_id).reverses_id == \
        report.reward_entry_id
    ledger.open_account(session, "merchant:1:accepted", "POINT", "liability")
    ledger.post(session, idempotency_key="spend", kind="voucher_redeem", postings=[
        ledger.Posting(world.wallet("rider"), -wallet(ctx), "POINT"),
        ledger.Posting("merchant:1:accepted", wallet(ctx), "POINT")])
    reports.mark_false(session, people["dafeng_reviewer"], spent.id, "照片系网图")
    session.commit()
    assert (spent.status, spent.claw_back_entry_id) == ("rejected", None)
    assert spent.claw_back_shortfall_points == spent.points_awarded
    assert wallet(ctx) == 0
    assert "was found false: 现场无此问题" in texts(ctx)[-2]


def test_a_resident_reports_at_a_courtyard_without_points(ctx):
    session, _world, people, _storage = ctx
    with pytest.raises(Unauthorized):
        file(ctx, who=None, reporter_name="王阿姨", reporter_phone="13900001111")
    session.rollback()
    with pytest.raises(Invalid):
        file(ctx, who=None, area_code="sanyuan-g1-c1", reporter_name="王阿姨")
    session.rollback()
    report = file(ctx, who=None, area_code="sanyuan-g1-c1", reporter_name="王阿姨",
                  reporter_phone="139 0000 1111")
    reports.verify(session, people["dafeng_reviewer"], report.id)
    session.commit()
    assert (report.reporter_id, report.points_awarded) == (None, 0)
    assert report.area.code == "sanyuan-g1-c1"


def test_who_sees_and_acts(ctx):
    session, _world, people, _storage = ctx
    report = file(ctx)
    with pytest.raises(NotFound):
        reports.get_report(session, people["rider2"], report.id)
    with pytest.raises(NotInYourArea):
        reports.verify(session, people["nanfeng_reviewer"], report.id)
    session.rollback()
    reports.verify(session, people["dafeng_reviewer"], report.id)
    reports.dispatch(session, people["dafeng_reviewer"], report.id)
    session.commit()
    assert reports.get_report(session, people["traffic_officer"], report.id) is report
    reports.start(session, people["traffic_officer"], report.id)
    reports.resolve(session, people["traffic_officer"], report.id, "已修复")
    session.commit()
    assert report.resolved_on_time is True
    assert [r.id for r in reports.list_reports(session, people["traffic_officer"],
                                               reports.Filter())] == [report.id]


def test_overdue_reports_escalate_one_level_at_a_time_and_only_once(ctx):
    session, _world, people, _storage = ctx
    report = file(ctx, area_code="sanyuan-g1-c1")
    later = report.created_at + timedelta(hours=13)
    assert report.overdue(later) and not report.overdue(report.created_at)
    assert reports.escalate_overdue(session, later) == [report.id]
    assert reports.escalate_overdue(session, later) == []
    session.commit()
    session.refresh(report)
    assert (report.escalation_level, report.responsible_area.code) == (1, "sanyuan")
    assert reports.escalate_overdue(session, later + timedelta(hours=13)) == [report.id]
    session.commit()
    session.refresh(report)
    assert report.responsible_area.code == "dafeng"
    assert "escalated to 大丰街道" in texts(ctx)[-1]
    # The street's reviewer now has it; nobody else's inbox hears of it.
    assert texts(ctx, "dafeng_reviewer")[-1] == (
        f"Report #{report.id} ({report.category.name}) is overdue and was escalated to "
        "大丰街道: it is now yours to handle.")
    assert not any("overdue" in text for text in texts(ctx, "nanfeng_reviewer"))


@pytest.mark.commits
@pytest.mark.postgres_only("real concurrency needs PostgreSQL")
def test_concurrent_escalation_runs_escalate_each_report_once(ctx):
    session, _world, _people, _storage = ctx
    ids = [file(ctx).id for _ in range(8)]
    later = now() + timedelta(hours=13)
    engine = session.get_bind()
    results, barrier = [], threading.Barrier(4)

    def run():
        from sqlalchemy.orm import Session

        with Session(engine) as own:
            barrier.wait()
            results.append(reports.escalate_overdue(own, later))
            own.commit()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(i for batch in results for i in batch) == sorted(ids)
    session.expire_all()
    assert {session.get(Report, i).escalation_level for i in ids} == {1}


def test_stored_photos_carry_no_gps_or_other_metadata(ctx):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    report = file(ctx, photos=[Upload("road.jpg", original)])
    storage = ctx[3]
    media = report.media[0]
    for name in (media.stored_name, media.thumbnail_name):
        data = (storage / name).read_bytes()
        stored = Image.open(io.BytesIO(data))
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert stored.getexif().get_ifd(GPS_IFD) == {}
        assert "exif" not in stored.info and "comment" not in stored.info
        assert b"Jindou Test Camera" not in data and b"Exif" not in data
    assert (media.width, media.height) == (800, 600)


def test_a_bad_upload_stores_nothing(ctx):
    storage = ctx[3]
    with pytest.raises(Invalid):
        file(ctx, photos=[Upload("ok.jpg", jpeg_with_gps()), Upload("x.jpg", b"GIF89a nope")])
    assert not storage.exists() or list(storage.iterdir()) == []


def test_the_monthly_assessment(ctx):
    session, _world, people, _storage = ctx
    done, late = file(ctx), file(ctx, lat=DAFENG[0] + 0.001)
    open_one = file(ctx, category="garbage")
    reviewer = people["dafeng_reviewer"]
    for report in (done, late):
        reports.verify(session, reviewer, report.id)
        reports.dispatch(session, reviewer, report.id)
    late.deadline_at = late.dispatched_at - timedelta(minutes=1)
    reports.resolve(session, reviewer, done.id, "已修复")
    reports.resolve(session, reviewer, late.id, "已修复")
    reports.close(session, reviewer, done.id)
    session.commit()
    today = now().astimezone(CHINA).date().replace(day=1)
    result = assessment.monthly_report(session, reviewer, None, today)
    assert result.totals["all"] == 3
    assert result.totals["closed"] == 1 and result.totals["submitted"] == 1
    assert result.points_awarded == 2 * SIGNAL_POINTS
    [row] = result.departments
    assert (row.department, row.urgency, row.dispatched, row.resolved, row.on_time,
            row.closed) == ("交警队", "urgent", 2, 2, 1, 1)
    assert row.on_time_rate == 0.5 and row.closure_rate == 1.0
    assert row.average_handling_days is not None and row.average_handling_days < 0.01
    assert dict(result.by_group) == {"交通设施": 2, "市容环境": 1}
    assert ("交通信号灯故障", "三元社区", 2) in result.hotspots
    assert sum(count for _day, count in result.daily) == 3
    assert open_one.status == "submitted"
    with pytest.raises(NotInYourArea):
        assessment.monthly_report(session, people["nanfeng_reviewer"], "sanyuan", today)


@pytest.mark.commits
@pytest.mark.postgres_only("real concurrency needs PostgreSQL")
def test_two_reviewers_verifying_at_once_pay_once(ctx):
    session, world, people, _storage = ctx
    report_id = file(ctx).id
    engine = session.get_bind()
    outcomes, barrier = [], threading.Barrier(2)

    def run(reviewer_name):
        from sqlalchemy.orm import Session

        with Session(engine) as own:
            reviewer = users.get_user(own, world.ids[reviewer_name])
            barrier.wait()
            try:
                reports.verify(own, reviewer, report_id)
                own.commit()
                outcomes.append("verified")
            except Conflict:
                own.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(name,))
               for name in ("dafeng_reviewer", "xindu_admin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "verified"]
    session.expire_all()
    assert wallet(ctx) == SIGNAL_POINTS
    entries = session.scalars(select(ledger.Entry).where(
        ledger.Entry.reference == f"report:{report_id}")).all()
    assert len(entries) == 1


FILMED_AT = "+30.8231+104.1587/"


def video_filmed_with_a_location(tmp_path) -> bytes:
    """A one-second MP4 as a phone writes it: the place it was filmed in its metadata."""
    require_ffmpeg()
    target = tmp_path / "filmed.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                    "-i", "color=c=orange:s=64x64:d=1", "-c:v", "mpeg4",
                    "-metadata", f"location={FILMED_AT}", "-metadata", "title=Jindou Phone",
                    str(target)], check=True)
    assert "location" in format_tags(target) and b"loci" in target.read_bytes()
    return target.read_bytes()


def format_tags(path) -> dict:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags",
                            "-of", "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(probe.stdout).get("format", {}).get("tags", {})


def require_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None:
        if os.environ.get("JINDOU_REQUIRE_TOOLS") == "1":
            pytest.fail("ffmpeg is missing (apt-get install ffmpeg)")
        pytest.skip("ffmpeg is missing")


def test_a_video_is_stored_without_the_place_it_was_filmed(ctx, tmp_path):
    session, _world, people, storage = ctx
    filmed = video_filmed_with_a_location(tmp_path)

    report = reports.file_report(session, people["rider"], draft(), [],
                                 Upload("clip.mp4", filmed), storage)
    session.commit()

    [media] = report.media
    assert (media.kind, media.content_type) == ("video", "video/mp4")
    stored = uploads.path_of(storage, media.stored_name)
    # What is left is the container's own brand, not anything about the film or the phone.
    assert set(format_tags(stored)) <= {"major_brand", "minor_version", "compatible_brands"}
    assert b"loci" not in stored.read_bytes() and b"Jindou Phone" not in stored.read_bytes()


def test_one_short_video_is_kept_and_a_fake_one_refused(ctx, tmp_path):
    video = Upload("clip.mp4", video_filmed_with_a_location(tmp_path))
    session, _world, people, storage = ctx
    report = reports.file_report(session, people["rider"], draft(), [], video, storage)
    session.commit()
    assert [(m.kind, m.content_type) for m in report.media] == [("video", "video/mp4")]
    with pytest.raises(Invalid) as refused:
        reports.file_report(session, people["rider"], draft(), [],
                            Upload("clip.mp4", b"not a video at all"), storage)
    assert "video" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        reports.file_report(session, people["rider"], draft(), [],
                            Upload("clip.mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 2048), storage)
    assert "video" in refused.value.errors
    session.rollback()
    with pytest.raises(Invalid):
        reports.file_report(session, people["rider"], draft(),
                            [Upload("a.jpg", jpeg_with_gps())], video, storage)
