"""Payout runs under /api/v1 (docs/payments.md): prepare (an administrator of the programme's
area), approve (a second one), export the batch-transfer file, take the channel's results;
what a payee is owed and was paid; payees' payment details (shown masked only)."""

from __future__ import annotations

import io

from flask import request, send_file
from flask_smorest import Blueprint
from marshmallow import ValidationError

from payouts import details, runs
from volunteers.errors import Invalid

from ..auth import actor_required, current_actor
from ..extensions import db
from ..transactions import commit
from .schemas.common import ErrorSchema
from .schemas.payouts import (
    ExportArgsSchema,
    MerchantSettlementSchema,
    MyPayoutsSchema,
    PaymentDetailsRequestSchema,
    PaymentDetailsSchema,
    PayoutRunRequestSchema,
    PayoutRunSchema,
    PayoutRunSummarySchema,
    ResultsSchema,
    RunListArgsSchema,
)

blp = Blueprint("payouts", __name__, url_prefix="/api/v1",
                description="Payout runs: cash-outs, year-end bonuses and settlements paid")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/payout-runs", methods=["POST"])
@actor_required("admin")
@blp.arguments(PayoutRunRequestSchema)
@blp.response(201, PayoutRunSchema)
@blp.alt_response(403, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="nothing_owed")
def prepare_run(payload):
    """Gather the programme's owed lines (``kinds``: cash_out, bonus, settlement; owed since
    at most ``up_to``) into a run, at most 1000 lines; payees without payment details are
    listed under ``waiting``. A second administrator approves it."""
    prepared = runs.prepare(db.session, current_actor(), payload["programme"],
                            kinds=payload.get("kinds"), up_to=payload.get("up_to"))
    document = runs.run_document(db.session, prepared.run, prepared.waiting)
    commit()
    return document


@blp.route("/payout-runs", methods=["GET"])
@actor_required("admin")
@blp.arguments(RunListArgsSchema, location="query")
@blp.response(200, PayoutRunSummarySchema(many=True))
def list_runs(args):
    """Runs of the programmes in the caller's areas, newest first (at most 200)."""
    found = runs.list_runs(db.session, current_actor(), args.get("programme"))
    return [runs.run_document(db.session, run) for run in found]


@blp.route("/payout-runs/<int:run_id>", methods=["GET"])
@actor_required("admin")
@blp.response(200, PayoutRunSchema)
def get_run(run_id):
    return runs.run_document(db.session, runs.get_run(db.session, current_actor(), run_id))


@blp.route("/payout-runs/<int:run_id>/approve", methods=["POST"])
@actor_required("admin")
@blp.response(200, PayoutRunSchema)
@blp.alt_response(403, schema=ErrorSchema, description="own_run: you prepared it")
@blp.alt_response(409, schema=ErrorSchema, description="run_closed")
def approve_run(run_id):
    """The second administrator's approval; never the one who prepared the run."""
    run = runs.approve(db.session, current_actor(), run_id)
    document = runs.run_document(db.session, run)
    commit()
    return document


@blp.route("/payout-runs/<int:run_id>/export", methods=["GET"])
@actor_required("admin")
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(200, description="the batch-transfer file (CSV with BOM, or XLSX)")
@blp.alt_response(409, schema=ErrorSchema, description="run_not_approved")
def export_run(args, run_id):
    """The approved run's pending lines paid by ``channel`` (alipay, wechat, bank), in the
    channel's batch-transfer layout; each line carries its reference (JD<run>L<line>)."""
    data, name = runs.export_file(db.session, current_actor(), run_id, args["channel"],
                                  args["format"])
    mimetype = "text/csv" if args["format"] == "csv" else XLSX
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name)


@blp.route("/payout-runs/<int:run_id>/results", methods=["POST"])
@actor_required("admin")
@blp.response(200, PayoutRunSchema)
@blp.alt_response(422, schema=ErrorSchema, description="unknown_line, wrong_run, "
                  "amount_mismatch, bad_result_file, validation_error")
@blp.alt_response(409, schema=ErrorSchema, description="line_settled, run_not_approved")
@blp.doc(requestBody={"content": {
    "application/json": {"schema": ResultsSchema},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}}}})
def take_results(run_id):
    """The channel's results: its result file (multipart ``file``, CSV or XLSX) or JSON
    ``{lines: [{line_id, status: paid|failed, reference, reason}]}``. All or nothing; a paid
    line moves owed -> paid in the ledger with the reference, a failed one is owed again."""
    actor = current_actor()
    upload = request.files.get("file")
    if upload is not None:
        run = runs.import_results(db.session, actor, run_id, upload.read(runs_max_bytes() + 1),
                                  upload.filename or "results.csv")
    else:
        try:
            payload = ResultsSchema().load(request.get_json(silent=True) or {})
        except ValidationError as error:
            raise Invalid("the results are not valid", errors=error.messages) from error
        run = runs.settle(db.session, actor, run_id, [
            runs.Result(line["line_id"], line["status"], line.get("reference"),
                        line.get("reason")) for line in payload["lines"]])
    document = runs.run_document(db.session, run)
    commit()
    return document


def runs_max_bytes() -> int:
    from payouts.files import MAX_RESULT_BYTES

    return MAX_RESULT_BYTES


@blp.route("/me/payouts", methods=["GET"])
@actor_required()
@blp.response(200, MyPayoutsSchema)
def my_payouts():
    """My cash-outs and year-end bonuses: owed (or in a run) and paid, with my payment
    details masked."""
    return runs.my_payouts_document(db.session, current_actor())


@blp.route("/me/payment-details", methods=["PUT"])
@actor_required("volunteer")
@blp.arguments(PaymentDetailsRequestSchema)
@blp.response(200, PaymentDetailsSchema)
def set_my_details(payload):
    """Where my money is paid (alipay: phone or e-mail; wechat: openid; bank: card number).
    Stored encrypted; answered masked; every change is kept with who made it."""
    found = details.set_own(db.session, current_actor(), **payload)
    document = details.masked(found)
    commit()
    return document


@blp.route("/merchants/<int:merchant_id>/payment-details", methods=["PUT"])
@actor_required("merchant", "admin")
@blp.arguments(PaymentDetailsRequestSchema)
@blp.response(200, PaymentDetailsSchema)
def set_merchant_details(payload, merchant_id):
    """The merchant's own payment details (its staff, or an administrator over it)."""
    found = details.set_merchants(db.session, current_actor(), merchant_id, **payload)
    document = details.masked(found)
    commit()
    return document


@blp.route("/merchants/<int:merchant_id>/settlements", methods=["GET"])
@actor_required("merchant", "admin")
@blp.response(200, MerchantSettlementSchema(many=True))
def merchant_settlements(merchant_id):
    """The merchant's settlements, newest first: owed or paid, their run and reference."""
    return runs.merchant_settlements(db.session, current_actor(), merchant_id)
