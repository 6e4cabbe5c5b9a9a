"""The JSON API under /api/v1 (CONTRACT section 4): one module of endpoints per resource,
their payloads in ``schemas/``, the Idempotency-Key mechanism in ``idempotency``."""


def register(api) -> list:
    """Registers every API blueprint on ``api`` and returns them (module-level objects,
    shared by every app built in this process)."""
    from . import (
        accounts,
        activities,
        audit,
        auth,
        counter,
        funds,
        imports,
        me,
        merchant_team,
        merchants,
        organisation,
        payments,
        payouts,
        programmes,
        rankings,
        reports,
        settlements,
        teams,
        tokens,
        trust,
        vouchers,
        wishes,
    )

    blueprints = [module.blp for module in (
        auth, me, tokens, programmes, accounts, reports, activities, wishes, teams, merchants,
        vouchers, counter, settlements, payments, payouts, funds, rankings, audit, organisation,
        imports, merchant_team, trust)]
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return blueprints
