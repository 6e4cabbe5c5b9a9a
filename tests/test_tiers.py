"""The honour-tier rule as pure functions: properties over random inputs (hypothesis)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from honours.tiers import BASIS_POINTS, Candidate, TierRule, assign, check_rules, tier_ends

DEFAULT = [TierRule("daxia", "大侠", share_bp=500), TierRule("shaoxia", "少侠", share_bp=1500),
           TierRule("xiashi", "侠士", share_bp=3000)]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

candidate_lists = st.lists(
    st.tuples(st.integers(0, 30), st.integers(0, 1000)), max_size=120, unique_by=lambda t: t
).map(lambda rows: [Candidate(volunteer_id=index + 1, points=points,
                              reached_at=EPOCH + timedelta(minutes=minutes))
                    for index, (points, minutes) in enumerate(rows)])
share_lists = st.lists(st.integers(1, 4000), min_size=1, max_size=4).filter(
    lambda shares: sum(shares) <= BASIS_POINTS)


def rules_for(shares):
    return [TierRule(f"t{index}", f"tier {index}", share_bp=share, bonus_fen=100 * (9 - index))
            for index, share in enumerate(shares)]


@settings(max_examples=300, deadline=None)
@given(candidate_lists, share_lists, st.integers(0, 10))
def test_every_eligible_volunteer_is_placed_once_in_order_with_ties_together(
        candidates, shares, min_points):
    rules = rules_for(shares)
    placements = assign(candidates, rules, "proportion", min_points)
    eligible = [c for c in candidates if c.points > 0 and c.points >= min_points]
    assert sorted(p.volunteer_id for p in placements) == sorted(c.volunteer_id for c in eligible)
    assert [p.position for p in placements] == list(range(1, len(placements) + 1))
    order = [rule.key for rule in rules] + [None]
    indexes = [order.index(p.tier) for p in placements]
    assert indexes == sorted(indexes), "tiers are ordered from the top down"
    for earlier, later in zip(placements, placements[1:], strict=False):
        assert (earlier.points, -earlier.reached_at.timestamp(), -earlier.volunteer_id) > (
            later.points, -later.reached_at.timestamp(), -later.volunteer_id)
        if earlier.points == later.points:
            assert earlier.tier == later.tier, "equal points are never split across tiers"
            assert earlier.rank == later.rank
        else:
            assert later.rank == later.position


@settings(max_examples=300, deadline=None)
@given(candidate_lists, share_lists)
def test_each_tier_takes_its_share_unless_a_tie_forces_more(candidates, shares):
    rules = rules_for(shares)
    placements = assign(candidates, rules, "proportion", 0)
    ends = tier_ends(len(placements), rules)
    for index, (rule, end) in enumerate(zip(rules, ends, strict=True)):
        through = [p for p in placements
                   if p.tier is not None and [r.key for r in rules].index(p.tier) <= index]
        # At least the cumulative share is placed in this tier or above ...
        assert len(through) >= min(end, len(placements))
        # ... and anyone beyond that cut is only there because they tie with the one at it.
        for placement in through:
            if placement.position > end:
                assert placement.points == placements[end - 1].points
        assert all(p.bonus_fen == rule.bonus_fen for p in placements if p.tier == rule.key)
    untiered = [p for p in placements if p.tier is None]
    assert all(p.bonus_fen == 0 for p in untiered)


def test_default_tiers_of_twenty_volunteers_with_a_tie_at_the_top_boundary():
    points = [100, 90, 90, 80, 70, 60, 50, 40, 30, 20, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    candidates = [Candidate(i + 1, p, EPOCH) for i, p in enumerate(points)]
    placements = assign(candidates, DEFAULT, "proportion")
    tiers = [p.tier for p in placements]
    # 5 % of 20 is one 大侠; 20 % is four through 少侠; 50 % is ten through 侠士.
    assert tiers[:1] == ["daxia"]
    assert tiers[1:4] == ["shaoxia"] * 3
    assert tiers[4:10] == ["xiashi"] * 6
    assert tiers[10:] == [None] * 10
    tied_top = [Candidate(1, 100, EPOCH), Candidate(2, 100, EPOCH + timedelta(days=1))] + [
        Candidate(i, 50 - i, EPOCH) for i in range(3, 21)]
    placements = assign(tied_top, DEFAULT, "proportion")
    assert [p.tier for p in placements[:2]] == ["daxia", "daxia"], "the tie goes up whole"
    assert [p.volunteer_id for p in placements[:2]] == [1, 2], "earlier reach first"
    assert [p.tier for p in placements[2:4]] == ["shaoxia", "shaoxia"]


def test_thresholds_place_by_points():
    rules = [TierRule("gold", "金", min_points=100, bonus_fen=5), TierRule("silver", "银",
                                                                          min_points=50)]
    placements = assign([Candidate(1, 120), Candidate(2, 100), Candidate(3, 99),
                         Candidate(4, 49)], rules, "threshold")
    assert [p.tier for p in placements] == ["gold", "gold", "silver", None]
    assert [p.bonus_fen for p in placements] == [5, 5, 0, 0]


def test_bad_configurations_are_named():
    over = [TierRule("a", "A", share_bp=6000), TierRule("b", "B", share_bp=5000)]
    assert "more than 100 %" in " ".join(check_rules(over, "proportion")["tiers"])
    rising = [TierRule("a", "A", min_points=10), TierRule("b", "B", min_points=20)]
    assert check_rules(rising, "threshold")["tiers"] == ["thresholds must fall from tier to tier"]
    assert check_rules(DEFAULT, "proportion") == {}
