"""The tier rule in SQL (``ranking.ranked_from``, what previews and publications run) gives
exactly what the Python rule (``tiers.assign``, what ``ranking check`` runs) gives, on random
scores with ties, missing reach times, thresholds and shares, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer, literal, select, union_all

from honours import ranking
from honours.tiers import BASIS_POINTS, Candidate, assign
from ledger.db import UtcDateTime

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

scores = st.lists(
    st.tuples(st.integers(1, 12), st.one_of(st.none(), st.integers(0, 5))),
    min_size=1, max_size=60,
).map(lambda rows: [Candidate(index + 1, points, None if minutes is None
                              else EPOCH + timedelta(minutes=minutes))
                    for index, (points, minutes) in enumerate(rows)])
shares = st.lists(st.integers(1, 5000), min_size=1, max_size=4).filter(
    lambda values_: sum(values_) <= BASIS_POINTS)
thresholds = st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True).map(
    lambda values_: sorted(values_, reverse=True))


def config_for(mode: str, numbers: list[int], min_points: int) -> dict:
    field = "share_bp" if mode == "proportion" else "min_points"
    return {"mode": mode, "min_points": min_points,
            "tiers": [{"key": f"t{i}", "name": f"tier {i}", field: number,
                       "bonus_fen": 100 * (9 - i)} for i, number in enumerate(numbers)]}


def in_sql(session, candidates, config):
    table = union_all(*[
        select(literal(c.volunteer_id, Integer).label("volunteer_id"),
               literal(c.points, BigInteger).label("points"),
               literal(c.reached_at, UtcDateTime()).label("reached_at"))
        for c in candidates]).subquery("given")
    eligible = select(table).where(
        table.c.points >= max(config["min_points"], 1)).subquery("scores")
    ranked = ranking.ranked_from(eligible, config).subquery("ranked")
    rows = session.execute(select(ranked).order_by(ranked.c.position)).all()
    return [(r.position, r.rank, r.volunteer_id, r.points, r.tier, r.bonus_fen) for r in rows]


def in_python(candidates, config):
    placements = assign(candidates, ranking.tier_rules(config), config["mode"],
                        config["min_points"])
    return [(p.position, p.rank, p.volunteer_id, p.points, p.tier, p.bonus_fen)
            for p in placements]


@pytest.fixture
def sql_session(session):
    session.execute(select(literal(1)))
    return session


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(candidates=scores, mode=st.sampled_from(["proportion", "threshold"]), data=st.data(),
       min_points=st.integers(0, 4))
def test_the_sql_tiers_are_the_python_tiers(sql_session, candidates, mode, data, min_points):
    numbers = data.draw(shares if mode == "proportion" else thresholds, label="tiers")
    config = config_for(mode, numbers, min_points)
    assert in_sql(sql_session, candidates, config) == in_python(candidates, config)
