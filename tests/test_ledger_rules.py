"""The ledger's pure rules, without a database: properties checked with hypothesis."""

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import rules
from ledger.errors import InvalidEntry
from ledger.rules import MAX_AMOUNT, Posting

CHINA = timezone(timedelta(hours=8))
ACCOUNTS = ("world:points", "world:cny", "volunteer:1:wallet", "volunteer:2:wallet",
            "merchant:7:accepted", "programme:xindu:budget")

account_codes = st.sampled_from(ACCOUNTS)
units = st.sampled_from(rules.UNITS)
amounts = st.integers(min_value=1, max_value=MAX_AMOUNT)
signed_amounts = st.one_of(amounts, amounts.map(lambda amount: -amount))
postings = st.builds(Posting, account_codes, signed_amounts, units)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def balanced_postings(draw, max_transfers: int = rules.MAX_POSTINGS_PER_ENTRY // 2):
    """Transfers (one debit, one credit of the same amount and unit), shuffled."""
    transfers = draw(st.lists(
        st.tuples(account_codes, account_codes, amounts, units),
        min_size=1, max_size=max_transfers,
    ))
    result = []
    for source, target, amount, unit in transfers:
        result += [Posting(source, -amount, unit), Posting(target, amount, unit)]
    return draw(st.permutations(result))


def sums_by_unit(postings_list) -> dict[str, int]:
    sums = Counter()
    for posting in postings_list:
        sums[posting.unit] += posting.amount
    return {unit: total for unit, total in sums.items() if total}


def sums_by_account(postings_list) -> dict[tuple[str, str], int]:
    sums = Counter()
    for posting in postings_list:
        sums[(posting.account, posting.unit)] += posting.amount
    return {key: total for key, total in sums.items() if total}


# --- check_balanced ------------------------------------------------------------------------


@given(balanced_postings())
def test_every_balanced_list_of_postings_is_accepted(entry):
    assert rules.check_balanced(entry) is None
    assert rules.check_balanced(tuple(entry)) is None


@given(balanced_postings(max_transfers=31), st.data())
def test_a_list_that_does_not_sum_to_zero_is_refused(entry, data):
    index = data.draw(st.integers(0, len(entry) - 1))
    target = entry[index]
    delta = data.draw(st.integers(-1000, 1000).filter(
        lambda d: d != 0 and target.amount + d != 0 and abs(target.amount + d) <= MAX_AMOUNT
    ))
    changed = list(entry)
    changed[index] = Posting(target.account, target.amount + delta, target.unit)
    with pytest.raises(InvalidEntry, match="does not balance"):
        rules.check_balanced(changed)


@given(balanced_postings(max_transfers=31), account_codes, amounts, units)
def test_an_extra_one_sided_posting_is_refused(entry, account, amount, unit):
    with pytest.raises(InvalidEntry, match="does not balance"):
        rules.check_balanced(list(entry) + [Posting(account, amount, unit)])


@pytest.mark.parametrize(
    "amount",
    [0, 1.0, 2.5, True, "5", None, MAX_AMOUNT + 1, 10**30],
    ids=["zero", "float", "fraction", "bool", "string", "none", "over-max", "huge"],
)
def test_an_invalid_amount_is_refused_even_when_the_entry_would_balance(amount):
    # The negated twin makes the pair sum to zero wherever negation is defined.
    twin = -amount if isinstance(amount, int | float) else amount
    entry = [Posting("volunteer:1:wallet", amount, "POINT"),
             Posting("world:points", twin, "POINT")]
    with pytest.raises(InvalidEntry):
        rules.check_balanced(entry)


def test_the_largest_amount_is_accepted():
    rules.check_balanced([Posting("world:points", -MAX_AMOUNT, "POINT"),
                          Posting("volunteer:1:wallet", MAX_AMOUNT, "POINT")])


@given(account_codes, signed_amounts, units)
def test_an_entry_needs_at_least_two_postings(account, amount, unit):
    with pytest.raises(InvalidEntry, match="at least two"):
        rules.check_balanced([Posting(account, amount, unit)])
    with pytest.raises(InvalidEntry, match="at least two"):
        rules.check_balanced([])


def test_an_entry_with_more_than_the_maximum_postings_is_refused():
    pairs = (rules.MAX_POSTINGS_PER_ENTRY // 2) + 1
    entry = [Posting("world:points", -1, "POINT"), Posting("volunteer:1:wallet", 1, "POINT")]
    with pytest.raises(InvalidEntry, match="at most"):
        rules.check_balanced(entry * pairs)


@pytest.mark.parametrize("unit", ["EUR", "point", ""])
def test_an_unknown_unit_is_refused(unit):
    with pytest.raises(InvalidEntry, match="unknown unit"):
        rules.check_balanced([Posting("world:points", -5, unit),
                              Posting("volunteer:1:wallet", 5, unit)])


@pytest.mark.parametrize("code", ["", "x" * (rules.MAX_CODE_LENGTH + 1)])
def test_a_bad_account_code_is_refused(code):
    with pytest.raises(InvalidEntry, match="bad account code"):
        rules.check_balanced([Posting(code, -5, "POINT"), Posting("world:points", 5, "POINT")])


@given(balanced_postings(max_transfers=8), balanced_postings(max_transfers=8))
def test_an_entry_in_two_units_must_balance_in_each(points_part, other_part):
    mixed = [Posting(p.account, p.amount, "POINT") for p in points_part]
    mixed += [Posting(p.account, p.amount, "CNY") for p in other_part]
    rules.check_balanced(mixed)
    # Moving one posting into the other unit leaves both units unbalanced.
    first = mixed[0]
    mixed[0] = Posting(first.account, first.amount, "CNY")
    with pytest.raises(InvalidEntry, match="does not balance"):
        rules.check_balanced(mixed)


# --- merge_postings ------------------------------------------------------------------------


@given(st.lists(postings, max_size=40))
def test_merging_keeps_every_account_total(postings_list):
    merged = rules.merge_postings(postings_list)
    assert sums_by_account(merged) == sums_by_account(postings_list)


@given(st.lists(postings, max_size=40))
def test_merging_gives_one_non_zero_posting_per_account_and_unit_in_order(postings_list):
    merged = rules.merge_postings(postings_list)
    keys = [(p.account, p.unit) for p in merged]
    assert keys == sorted(set(keys))
    assert all(p.amount != 0 for p in merged)


@given(st.lists(postings, max_size=40), st.randoms(use_true_random=False))
def test_merging_ignores_order_and_is_idempotent(postings_list, random):
    shuffled = list(postings_list)
    random.shuffle(shuffled)
    merged = rules.merge_postings(postings_list)
    assert rules.merge_postings(shuffled) == merged
    assert rules.merge_postings(merged) == merged


@given(balanced_postings())
def test_merging_a_balanced_entry_keeps_it_balanced(entry):
    merged = rules.merge_postings(entry)
    assert sums_by_unit(merged) == {}
    assert len(merged) != 1
    # Merged amounts may add up past MAX_AMOUNT; those the limit refuses, as it should.
    if merged and all(abs(p.amount) <= MAX_AMOUNT for p in merged):
        rules.check_balanced(merged)


def test_merging_drops_accounts_that_net_to_zero():
    merged = rules.merge_postings([
        Posting("volunteer:1:wallet", 30, "POINT"),
        Posting("world:points", -50, "POINT"),
        Posting("volunteer:1:wallet", 20, "POINT"),
        Posting("merchant:7:accepted", 10, "POINT"),
        Posting("merchant:7:accepted", -10, "POINT"),
    ])
    assert merged == (Posting("volunteer:1:wallet", 50, "POINT"),
                      Posting("world:points", -50, "POINT"))


# --- fingerprints and hashes ---------------------------------------------------------------


@given(balanced_postings(max_transfers=8), st.randoms(use_true_random=False))
def test_a_fingerprint_ignores_the_order_of_postings(entry, random):
    shuffled = list(entry)
    random.shuffle(shuffled)
    first = rules.request_fingerprint("transfer", entry, reference="r1", memo="m")
    assert rules.request_fingerprint("transfer", shuffled, reference="r1", memo="m") == first
    assert len(first) == 64 and int(first, 16) >= 0


@given(moments)
def test_a_fingerprint_names_a_deadline_by_its_instant_not_its_timezone(deadline):
    entry = [Posting("volunteer:1:wallet", -5, "POINT"), Posting("merchant:7:accepted", 5, "POINT")]
    in_utc = rules.request_fingerprint("voucher_hold", entry, status="pending",
                                       expires_at=deadline)
    in_china = rules.request_fingerprint("voucher_hold", entry, status="pending",
                                         expires_at=deadline.astimezone(CHINA))
    naive_utc = rules.request_fingerprint("voucher_hold", entry, status="pending",
                                          expires_at=deadline.replace(tzinfo=None))
    assert in_utc == in_china == naive_utc


FINGERPRINT_BASE = dict(reference="report:1", memo="thanks", status="posted",
                        pending_id=None, reverses_id=None, expires_at=None)
FINGERPRINT_CHANGES = [
    ("reference", "report:2"), ("reference", None), ("memo", "thank you"), ("memo", None),
    ("status", "pending"), ("pending_id", 3), ("reverses_id", 3),
    ("expires_at", datetime(2025, 1, 1, tzinfo=UTC)),
]


@pytest.mark.parametrize(("field", "value"), FINGERPRINT_CHANGES)
def test_a_fingerprint_changes_with_every_field_a_retry_must_repeat(field, value):
    entry = [Posting("world:points", -5, "POINT"), Posting("volunteer:1:wallet", 5, "POINT")]
    base = rules.request_fingerprint("manual_award", entry, **FINGERPRINT_BASE)
    assert rules.request_fingerprint("manual_award", entry, **FINGERPRINT_BASE) == base
    changed = {**FINGERPRINT_BASE, field: value}
    assert rules.request_fingerprint("manual_award", entry, **changed) != base


@given(balanced_postings(max_transfers=4), balanced_postings(max_transfers=4))
def test_a_fingerprint_changes_with_the_movement(first, second):
    same_postings = sorted((p.account, p.unit, p.amount) for p in first) == sorted(
        (p.account, p.unit, p.amount) for p in second)
    first_print = rules.request_fingerprint("transfer", first)
    assert (rules.request_fingerprint("transfer", second) == first_print) == same_postings
    assert rules.request_fingerprint("donation", first) != first_print


def entry_document(**changes) -> dict:
    document = dict(
        idempotency_key="award-1", fingerprint="f" * 64, kind="manual_award",
        reference="report:1", memo="thanks", created_by="admin:1",
        created_at=datetime(2024, 5, 1, 8, 30, 0, 123456, tzinfo=UTC), status="posted",
        pending_id=None, reverses_id=None, expires_at=None,
    )
    document.update(changes)
    return document


ENTRY_POSTINGS = [Posting("world:points", -5, "POINT"), Posting("volunteer:1:wallet", 5, "POINT")]


@pytest.mark.parametrize("field", rules.CONTENT_FIELDS)
def test_a_content_hash_covers_every_content_field(field):
    base = rules.content_hash(entry_document(), ENTRY_POSTINGS)
    current = entry_document()[field]
    if isinstance(current, datetime):
        value = current + timedelta(microseconds=1)
    elif field == "expires_at":
        value = datetime(2024, 6, 1, tzinfo=UTC)
    elif isinstance(current, str):
        value = current + "x"
    else:
        value = 7
    assert rules.content_hash(entry_document(**{field: value}), ENTRY_POSTINGS) != base


def test_a_content_hash_covers_every_posting():
    base = rules.content_hash(entry_document(), ENTRY_POSTINGS)
    for changed in (
        [Posting("world:points", -6, "POINT"), Posting("volunteer:1:wallet", 5, "POINT")],
        [Posting("world:points", -5, "POINT"), Posting("volunteer:2:wallet", 5, "POINT")],
        [Posting("world:points", -5, "CNY"), Posting("volunteer:1:wallet", 5, "POINT")],
        ENTRY_POSTINGS[:1],
    ):
        assert rules.content_hash(entry_document(), changed) != base
    assert rules.content_hash(entry_document(), list(reversed(ENTRY_POSTINGS))) == base


def test_a_content_hash_reads_a_naive_timestamp_as_utc():
    aware = entry_document()
    naive = entry_document(created_at=aware["created_at"].replace(tzinfo=None))
    in_china = entry_document(created_at=aware["created_at"].astimezone(CHINA))
    hashes = {rules.content_hash(doc, ENTRY_POSTINGS) for doc in (aware, naive, in_china)}
    assert len(hashes) == 1


def test_a_chain_link_covers_the_previous_link_the_entry_and_its_hash():
    link = rules.chain_link(rules.GENESIS_HASH, 1, "a" * 64)
    assert link == rules.chain_link(rules.GENESIS_HASH, 1, "a" * 64)
    assert len({
        link,
        rules.chain_link("1" * 64, 1, "a" * 64),
        rules.chain_link(rules.GENESIS_HASH, 2, "a" * 64),
        rules.chain_link(rules.GENESIS_HASH, 1, "b" * 64),
    }) == 4


# --- the booking year ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (datetime(2023, 12, 31, 15, 59, 59, 999999, tzinfo=UTC), 2023),
        (datetime(2023, 12, 31, 16, 0, 0, tzinfo=UTC), 2024),
        (datetime(2023, 12, 31, 23, 0, 0, tzinfo=UTC), 2024),
        (datetime(2024, 1, 1, 0, 0, 0, tzinfo=CHINA), 2024),
        (datetime(2023, 12, 31, 23, 59, 59, tzinfo=CHINA), 2023),
        (datetime(2023, 12, 31, 16, 0, 0), 2024),  # naive: read as UTC
        (datetime(2023, 12, 31, 15, 59, 59), 2023),
        (datetime(2024, 12, 31, 10, 0, 0, tzinfo=timezone(timedelta(hours=-8))), 2025),
    ],
)
def test_the_booking_year_turns_at_midnight_in_china(moment, year):
    assert rules.year_of(moment) == year


@given(moments)
def test_the_booking_year_is_the_calendar_year_eight_hours_ahead_of_utc(moment):
    assert rules.year_of(moment) == (moment + timedelta(hours=8)).year
    assert rules.year_of(moment.astimezone(CHINA)) == rules.year_of(moment)


# --- overdraft arithmetic ------------------------------------------------------------------


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(-10**6, 10**6),
       st.integers(-10**6, 10**6))
def test_a_change_overdraws_exactly_when_it_takes_available_below_zero_by_spending(
    posted, pending_out, posted_delta, pending_out_delta
):
    before = rules.available(posted, pending_out)
    after = rules.available(posted + posted_delta, pending_out + pending_out_delta)
    spends = posted_delta < 0 or pending_out_delta > 0
    assert rules.overdraws(posted, pending_out, posted_delta, pending_out_delta) == (
        spends and after < 0
    )
    assert before == posted - pending_out
