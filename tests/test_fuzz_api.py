"""Schemathesis over the whole OpenAPI document (issue 19, part 2): every operation, as an
administrator, a volunteer, a merchant's till user and anonymously, with the
not-a-server-error, status-code, content-type and response-schema checks. The shared app
answers in process (WSGI) inside the test's rolled-back transaction; generation is
derandomized, so a run is the same every time, and bounded (``EXAMPLES`` per operation and
mode) to keep its time small.

PostgreSQL only: it is the strict backend (NUL in text, int32 columns, dates), where the 500s
were found; SQLite would take what PostgreSQL refuses. The document has no OpenAPI links, so
there is no stateful phase: each operation is fuzzed on its own, in the positive mode (what the
document allows) and the negative one (what it does not: every refusal a documented 4xx)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.merchants_support import build_shops

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 2}
KNOWN = 2  # positive cases per operation whose path names things that exist
ROLES = ["root_admin", "rider", "till", None]


@pytest.fixture
def app(make_app):
    """Card funding configured against the local fake Stripe (unconfigured, it is a
    documented 503, which the not-a-server-error check would count)."""
    fake = FakeStripe().start()
    yield make_app(STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                   STRIPE_API_BASE=fake.base_url)
    fake.stop()


def fuzz(app, headers: dict, mode: GenerationMode, statuses: Counter,
         known: dict | None = None) -> list[str]:
    """Every operation, ``EXAMPLES[mode]`` cases each (``KNOWN`` with ``known``, the path
    parameters naming what exists); the failures, described (the first per operation)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        if known is not None and not names & set(known):
            continue
        path = {name: value for name, value in (known or {}).items() if name in names}
        strategy = operation.as_strategy(generation_mode=mode, headers=headers,
                                         path_parameters=path or None)

        @given(case=strategy)
        @settings(max_examples=KNOWN if known else EXAMPLES[mode], derandomize=True, database=None,
                  deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case):
            try:
                response = case.call_and_validate(headers=headers, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as error:
                failures.append(f"{mode.value} {case.method} {case.formatted_path} "
                                f"{case.query} {case.body!r:.200}: {error}")
                raise
            statuses[response.status_code] += 1

        try:
            run()
        except (AssertionError, BaseExceptionGroup):
            pass  # recorded above
        except Unsatisfiable:
            pass  # nothing to break in the negative mode: no parameters, no body
    return failures


@pytest.mark.postgres_only("the strict backend: SQLite stores what PostgreSQL refuses")
@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_no_operation_fails_a_check(app, api, world, session, role):
    shops = build_shops(session, world)  # merchants, offers and a till user to reach
    session.commit()
    known = {"code": world.programme, "merchant_id": shops.merchant, "offer_id": shops.offer,
             "user_id": world.ids["rider"], "account_code": world.budget, "year": 2026}
    headers = {"Authorization": f"Bearer {api.token(role)}"} if role else {}
    statuses: Counter = Counter()
    failures = []
    for mode in EXAMPLES:
        failures += fuzz(app, headers, mode, statuses)
    failures += fuzz(app, headers, GenerationMode.POSITIVE, statuses, known)
    assert failures == [], "\n".join(failures)
    # The run reached the application, not only its refusals.
    assert sum(n for status, n in statuses.items() if 200 <= status < 300) > 0, statuses
    assert statuses.get(500, 0) == 0
