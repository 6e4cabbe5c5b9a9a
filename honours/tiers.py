"""The honour-tier rule as pure functions over plain data (no database): order the eligible,
then cut tiers by share of the eligible or by points threshold, never splitting equal points.

Order: more points first, then the earlier moment of reaching them, then the lower volunteer
id. By share, tier i ends at position floor(N x (share_1 + ... + share_i)) (the top 5 % of 30
is one person: position 1.5 is not within the top 5 %), moved down past everyone tied with the
last one there: a tied group that straddles a boundary goes wholly to the higher tier, and the
next tier starts after it (so a tier can be empty). Only ties ever make a tier larger than
its share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BASIS_POINTS = 10_000  # shares are in basis points: 500 = 5 %
MAX_TIERS = 10


@dataclass(frozen=True)
class TierRule:
    key: str
    name: str
    share_bp: int | None = None  # proportion mode
    min_points: int | None = None  # threshold mode
    bonus_fen: int = 0


# slots: a ranking holds a million of these at once.
@dataclass(frozen=True, slots=True)
class Candidate:
    volunteer_id: int
    points: int
    reached_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    position: int
    rank: int
    volunteer_id: int
    points: int
    reached_at: datetime | None
    tier: str | None
    bonus_fen: int


def ordering_key(candidate: Candidate):
    reached = candidate.reached_at.timestamp() if candidate.reached_at else float("inf")
    return (-candidate.points, reached, candidate.volunteer_id)


def rank_order(candidates) -> list[Candidate]:
    return sorted(candidates, key=ordering_key)


def eligible(candidates, min_points: int) -> list[Candidate]:
    return [c for c in candidates if c.points > 0 and c.points >= min_points]


def check_rules(rules: list[TierRule], mode: str) -> dict[str, list[str]]:
    """What is wrong with a tier configuration, by field (empty when it is fine)."""
    problems: dict[str, list[str]] = {}
    if mode not in ("proportion", "threshold"):
        problems["mode"] = ["proportion or threshold"]
    if not 1 <= len(rules) <= MAX_TIERS:
        problems["tiers"] = [f"1 to {MAX_TIERS} tiers"]
    keys = [rule.key for rule in rules]
    if len(set(keys)) != len(keys):
        problems.setdefault("tiers", []).append("tier keys must differ")
    if any(rule.bonus_fen < 0 for rule in rules):
        problems.setdefault("tiers", []).append("a bonus cannot be negative")
    if mode == "proportion":
        shares = [rule.share_bp for rule in rules]
        if any(share is None or share <= 0 for share in shares):
            problems.setdefault("tiers", []).append("every tier needs a share above 0 %")
        elif sum(shares) > BASIS_POINTS:
            problems.setdefault("tiers", []).append("the shares add up to more than 100 %")
    elif mode == "threshold":
        thresholds = [rule.min_points for rule in rules]
        if any(value is None or value <= 0 for value in thresholds):
            problems.setdefault("tiers", []).append("every tier needs a points threshold")
        elif any(high <= low for high, low in zip(thresholds, thresholds[1:], strict=False)):
            problems.setdefault("tiers", []).append("thresholds must fall from tier to tier")
    return problems


def tier_ends(count: int, rules: list[TierRule]) -> list[int]:
    """Where each tier would end by its share alone (cumulative, before ties move it)."""
    ends, cumulative_bp = [], 0
    for rule in rules:
        cumulative_bp += rule.share_bp
        ends.append(count * cumulative_bp // BASIS_POINTS)
    return ends


def assign(candidates, rules: list[TierRule], mode: str, min_points: int = 0) -> list[Placement]:
    """Every eligible candidate, in rank order, with its tier (or None) and bonus."""
    assert not check_rules(rules, mode), check_rules(rules, mode)
    ordered = rank_order(eligible(candidates, min_points))
    tiers: list[str | None] = [None] * len(ordered)
    if mode == "proportion":
        start = 0
        for rule, end in zip(rules, tier_ends(len(ordered), rules), strict=True):
            if end <= start:
                continue
            while end < len(ordered) and ordered[end].points == ordered[end - 1].points:
                end += 1
            for index in range(start, end):
                tiers[index] = rule.key
            start = end
    else:
        for index, candidate in enumerate(ordered):
            tiers[index] = next(
                (rule.key for rule in rules if candidate.points >= rule.min_points), None)
    bonuses = {rule.key: rule.bonus_fen for rule in rules}
    placements, rank = [], 0
    for index, candidate in enumerate(ordered):
        if index == 0 or candidate.points != ordered[index - 1].points:
            rank = index + 1
        placements.append(Placement(
            position=index + 1, rank=rank, volunteer_id=candidate.volunteer_id,
            points=candidate.points, reached_at=candidate.reached_at, tier=tiers[index],
            bonus_fen=bonuses.get(tiers[index], 0)))
    return placements
