"""The API's payloads, one marshmallow module per area (``common``, ``volunteers``,
``ledger``, ``reports``, ``activities``, ``merchants``, ``payments``, ``honours``); the OpenAPI
document is built from these."""
