"""Shared pieces the earning and spending features build on: the notification centre, teams,
and paying (and clawing back) a reward for one source object."""

import pytest

import ledger
from tests.web_support import PASSWORD, csrf_token, ledger_snapshot
from volunteers import notifications, programmes, teams, users
from volunteers.errors import BudgetExhausted, Conflict, Forbidden, NotInYourArea


def in_app(app, work):
    from web.extensions import db

    with app.app_context():
        result = work(db.session)
        db.session.commit()
        ledger.seal_all(db.session)
        return result


def rider_notified(app, world, message, params=None, link=None):
    return in_app(app, lambda s: notifications.notify(
        s, world.ids["rider"], message, params, link=link, reference="report:1").id)


# --- notifications ----------------------------------------------------------------------------

def test_a_notification_is_shown_in_the_readers_language_with_its_parameters(app, api, world):
    message = notifications.N_("Your report was passed to %(department)s; %(points)s points.")
    rider_notified(app, world, message, {"department": "交警队", "points": 10}, link="/reports/1")

    body = api.get("/me/notifications", as_="rider").get_json()

    assert body["unread"] == 1
    [item] = body["items"]
    assert item["message"] == message and item["params"] == {"department": "交警队", "points": 10}
    assert item["text"] == "Your report was passed to 交警队; 10 points."
    assert item["link"] == "/reports/1" and item["read_at"] is None


def test_marking_read_clears_only_my_unread_count(app, api, world):
    rider_notified(app, world, "First")
    rider_notified(app, world, "Second")
    in_app(app, lambda s: notifications.notify(s, world.ids["rider2"], "Not yours"))

    assert api.post("/me/notifications/read", as_="rider").get_json() == {"marked": 2}

    assert api.get("/me/notifications", as_="rider").get_json()["unread"] == 0
    assert api.get("/me/notifications", as_="rider2").get_json()["unread"] == 1


def test_a_volunteer_never_sees_anothers_notifications(app, api, world):
    rider_notified(app, world, "Private")
    assert api.get("/me/notifications", as_="rider2").get_json() == {"unread": 0, "items": []}


def test_notifications_need_a_token(api, world):
    response = api.get("/me/notifications")
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


def test_the_notification_centre_page_shows_the_badge_and_marks_read(app, world):
    rider_notified(app, world, "Your report was verified")
    client = app.test_client()
    login = client.get("/login")
    client.post("/login", data={"username": "rider", "password": PASSWORD,
                                "csrf_token": csrf_token(login.get_data(as_text=True))})

    page = client.get("/notifications").get_data(as_text=True)
    assert 'data-test="unread">1<' in page
    assert "Your report was verified" in page

    client.post("/notifications/read", data={"csrf_token": csrf_token(page)})
    assert 'data-test="unread"' not in client.get("/notifications").get_data(as_text=True)


def test_an_empty_or_overlong_message_is_refused(session):
    from volunteers.errors import Invalid

    with pytest.raises(Invalid):
        notifications.notify(session, 1, "")
    with pytest.raises(Invalid):
        notifications.notify(session, 1, "x" * (notifications.MAX_MESSAGE_LENGTH + 1))


# --- teams ------------------------------------------------------------------------------------

def as_user(session, world, name):
    return users.get_user(session, world.ids[name])


def test_an_admin_forms_a_team_whose_leader_is_its_first_member(app, world):
    def work(session):
        admin = as_user(session, world, "xindu_admin")
        team = teams.create_team(session, admin, "丰行侠骑手队", "dafeng", world.ids["rider"])
        teams.add_member(session, admin, team.id, world.ids["rider2"])
        return team.id, [u.username for u in teams.members(session, team.id)], [
            t.name for t in teams.teams_of(session, world.ids["rider2"])]

    team_id, names, rider2_teams = in_app(app, work)
    assert names == ["rider", "rider2"]
    assert rider2_teams == ["丰行侠骑手队"]


def test_teams_are_formed_only_by_staff_of_the_area(app, world):
    def work(session):
        with pytest.raises(NotInYourArea):
            teams.create_team(session, as_user(session, world, "wuhua_admin"), "队", "dafeng",
                              world.ids["rider"])
        with pytest.raises(Forbidden):
            teams.create_team(session, as_user(session, world, "rider"), "队", "dafeng",
                              world.ids["rider"])
    in_app(app, work)


def test_the_leader_manages_members_but_cannot_leave(app, world):
    def work(session):
        admin = as_user(session, world, "xindu_admin")
        team = teams.create_team(session, admin, "三元志愿队", "sanyuan", world.ids["rider"])
        leader = as_user(session, world, "rider")
        teams.add_member(session, leader, team.id, world.ids["rider2"])
        with pytest.raises(Conflict):
            teams.add_member(session, leader, team.id, world.ids["rider2"])
        with pytest.raises(Conflict):
            teams.remove_member(session, admin, team.id, world.ids["rider"])
        with pytest.raises(Forbidden):
            teams.add_member(session, as_user(session, world, "rider2"), team.id,
                             world.ids["kunming_volunteer"])
        teams.remove_member(session, leader, team.id, world.ids["rider2"])
        return [u.username for u in teams.members(session, team.id)]

    assert in_app(app, work) == ["rider"]


# --- rewards ----------------------------------------------------------------------------------

def pay(session, world, amount_points=10, source="report:1"):
    programme = programmes.get_programme(session, world.programme)
    return programmes.reward(session, programme, as_user(session, world, "rider"), amount_points,
                             kind="report_reward", source=source, memo="信号灯故障",
                             actor=as_user(session, world, "dafeng_reviewer"))


def test_a_reward_for_one_source_is_paid_once(app, world):
    first = in_app(app, lambda s: pay(s, world))
    again = in_app(app, lambda s: pay(s, world))

    assert first == again
    snapshot = ledger_snapshot(app)
    assert snapshot["accounts"][world.wallet("rider")][0] == 10
    entry = in_app(app, lambda s: (lambda e: (e.kind, e.reference))(ledger.get_entry(s, first)))
    assert entry == ("report_reward", "report:1")


def test_a_reward_beyond_the_budget_is_refused_and_moves_nothing(app, world):
    before = ledger_snapshot(app)

    def work(session):
        with pytest.raises(BudgetExhausted):
            pay(session, world, amount_points=10_000_000)
    in_app(app, work)

    assert ledger_snapshot(app) == before


def test_clawing_back_reverses_the_reward_once(app, world):
    in_app(app, lambda s: pay(s, world))

    def claw(session):
        programme = programmes.get_programme(session, world.programme)
        return programmes.claw_back(session, programme, "report:1", "虚假上报",
                                    as_user(session, world, "dafeng_reviewer"))

    first = in_app(app, claw)
    assert in_app(app, claw) == first
    assert ledger_snapshot(app)["accounts"][world.wallet("rider")][0] == 0
    assert in_app(app, lambda s: ledger.verify(s).ok)


def test_clawing_back_what_was_never_paid_does_nothing(app, world):
    def claw(session):
        programme = programmes.get_programme(session, world.programme)
        return programmes.claw_back(session, programme, "report:99", "虚假上报", None)

    assert in_app(app, claw) is None
