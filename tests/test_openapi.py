"""The OpenAPI document (CONTRACT section 4): every implemented contract path, with the
request schemas and the error body clients rely on."""

import pytest

CONTRACT_PATHS = {
    # path: (method, request schema's required fields or None for no body)
    "/api/v1/auth/tokens": ("post", {"username", "password"}),
    "/api/v1/auth/register": ("post", {"username", "password", "display_name", "area"}),
    "/api/v1/me": ("get", None),
    "/api/v1/programmes": ("post", {"code", "name", "area", "points_per_yuan"}),
    "/api/v1/programmes/{code}/funding": ("post", {"amount_fen", "source"}),
    "/api/v1/programmes/{code}/awards": ("post", {"volunteer_id", "amount_points", "reason"}),
    "/api/v1/accounts/{account_code}": ("get", None),
    "/api/v1/ledger/entries": ("get", None),
}
MOVING_MONEY_OR_POINTS = ("/api/v1/programmes/{code}/funding",
                          "/api/v1/programmes/{code}/awards")


@pytest.fixture(scope="module")
def spec_app(tmp_path_factory):
    """The document needs no database: one app on an in-memory SQLite for the module."""
    import os

    from web import create_app

    previous = os.environ.get("JINDOU_INSTANCE_PATH")
    os.environ["JINDOU_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    finally:
        if previous is None:
            del os.environ["JINDOU_INSTANCE_PATH"]
        else:
            os.environ["JINDOU_INSTANCE_PATH"] = previous
    return app


@pytest.fixture(scope="module")
def document(spec_app):
    response = spec_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        prefix, _, pointer = node["$ref"].partition("#/")
        assert prefix == "", node["$ref"]
        node = document
        for part in pointer.split("/"):
            node = node[part]
    return node


def all_refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from all_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_refs(value)


def test_the_document_is_openapi_3(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer"}


@pytest.mark.parametrize("path", sorted(CONTRACT_PATHS))
def test_every_implemented_contract_path_is_documented(document, path):
    method, required = CONTRACT_PATHS[path]
    assert path in document["paths"], sorted(document["paths"])
    operation = document["paths"][path][method]
    assert operation["responses"]
    if required is None:
        assert "requestBody" not in operation
        return
    body = operation["requestBody"]
    assert body["required"] is True
    schema = resolve(document, body["content"]["application/json"]["schema"])
    assert schema["type"] == "object"
    assert set(schema["required"]) == required
    assert required <= set(schema["properties"])


@pytest.mark.parametrize("path, field", [
    ("/api/v1/programmes/{code}/funding", "amount_fen"),
    ("/api/v1/programmes/{code}/awards", "amount_points"),
    ("/api/v1/programmes/{code}/awards", "volunteer_id"),
    ("/api/v1/programmes", "points_per_yuan"),
])
def test_amounts_are_documented_as_positive_integers(document, path, field):
    import ledger

    body = document["paths"][path]["post"]["requestBody"]
    schema = resolve(document, body["content"]["application/json"]["schema"])
    prop = schema["properties"][field]
    assert prop["type"] == "integer"
    assert prop["minimum"] >= 1
    # An amount is bounded by the ledger and by the column that keeps it: the award's
    # amount_points is an Integer column, funding lives in the ledger's BigInteger ones.
    if field == "amount_fen":
        assert prop["maximum"] == ledger.MAX_AMOUNT
    elif field == "amount_points":
        assert prop["maximum"] == 2**31 - 1


@pytest.mark.parametrize("path", MOVING_MONEY_OR_POINTS)
def test_posts_that_move_points_document_the_idempotency_key(document, path):
    parameters = document["paths"][path]["post"].get("parameters", [])
    headers = [p for p in parameters if p["in"] == "header"]
    assert [p["name"] for p in headers] == ["Idempotency-Key"]
    assert headers[0]["required"] is False


def test_path_parameters_are_declared(document):
    for path, item in document["paths"].items():
        names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, operation in item.items():
            if method == "parameters":
                continue
            declared = {p["name"] for p in item.get("parameters", []) + operation.get(
                "parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def test_the_error_body_is_the_contracts(document):
    schema = document["components"]["schemas"]["Error"]
    assert set(schema["properties"]) == {"code", "message", "errors"}
    assert set(schema["required"]) == {"code", "message"}
    default = resolve(document, document["components"]["responses"]["DEFAULT_ERROR"])
    assert resolve(document, default["content"]["application/json"]["schema"]) == schema


def test_every_reference_resolves(document):
    refs = set(all_refs(document))
    assert refs
    for ref in refs:
        resolve(document, {"$ref": ref})


def test_the_document_is_public(spec_app):
    response = spec_app.test_client().get("/api/v1/openapi.json",
                                          headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 200


def test_the_browsable_docs_answer(spec_app):
    response = spec_app.test_client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "swagger" in page.lower()
    assert "openapi.json" in page


MERCHANT_ADMIN_PATHS = {
    # path: {method: the request body's required fields, or None for no body}
    "/api/v1/offers/{offer_id}": {"patch": set()},
    "/api/v1/offers/{offer_id}/withdraw": {"post": None},
    "/api/v1/merchants/{merchant_id}/offers": {"get": None},
    "/api/v1/settlements": {"get": None},
    "/api/v1/settlements/{settlement_id}": {"get": None},
    "/api/v1/programmes/{code}/settlements": {"post": set()},
    "/api/v1/settlements/{settlement_id}/paid": {"post": {"payment_reference"}},
    "/api/v1/programmes/{code}/settlement-rate": {"get": None, "put": {"fen_per_point"}},
}


@pytest.mark.parametrize("path", sorted(MERCHANT_ADMIN_PATHS))
def test_offer_edits_and_settlement_are_documented(document, path):
    assert path in document["paths"], sorted(document["paths"])
    for method, required in MERCHANT_ADMIN_PATHS[path].items():
        operation = document["paths"][path][method]
        assert "200" in operation["responses"], (method, path)
        if required is None:
            assert "requestBody" not in operation
            continue
        schema = resolve(document, operation["requestBody"]["content"]["application/json"][
            "schema"])
        assert set(schema.get("required", [])) == required, (method, path)


@pytest.mark.parametrize("path", ["/api/v1/programmes/{code}/settlements",
                                  "/api/v1/settlements/{settlement_id}/paid"])
def test_settlement_posts_that_move_money_document_the_idempotency_key(document, path):
    parameters = document["paths"][path]["post"].get("parameters", [])
    assert [p["name"] for p in parameters if p["in"] == "header"] == ["Idempotency-Key"]


def test_an_offer_edit_documents_the_price_and_stock_rules(document):
    body = document["paths"]["/api/v1/offers/{offer_id}"]["patch"]["requestBody"]
    schema = resolve(document, body["content"]["application/json"]["schema"])
    assert schema["properties"]["price_points"]["minimum"] == 1
    assert schema["properties"]["stock"]["minimum"] == 0
    assert "vouchers_issued" in schema["properties"]["stock"]["description"]
