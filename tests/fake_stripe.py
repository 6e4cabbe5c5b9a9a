"""A small local stand-in for Stripe's API, for tests that drive the real ``stripe`` library.

A threaded HTTP server on 127.0.0.1 answering what the app asks of Stripe the way Stripe does:
``POST /v1/checkout/sessions`` (form-encoded, bearer secret key, ``Idempotency-Key``
honoured) and ``GET /v1/checkout/sessions/<id>``, with Stripe's error body on a bad key or a
missing parameter. It also builds the ``checkout.session.completed`` event Stripe would send
and signs webhook payloads with Stripe's scheme (``t=<ts>,v1=<hex HMAC-SHA256 of
"<ts>.<payload>">``). Point the app at it with ``STRIPE_API_BASE``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SECRET_KEY = "sk_test_jindou_fake"
WEBHOOK_SECRET = "whsec_jindou_fake"
SESSION_PATH = re.compile(r"^/v1/checkout/sessions/(cs_test_[A-Za-z0-9]+)$")


def sign(payload: str | bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for ``payload``."""
    if isinstance(payload, bytes):
        payload = payload.decode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def decode_form(body: str) -> dict:
    """Stripe's form encoding (``line_items[0][price_data][currency]=cny``) as nested data."""
    result: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(result)


def _lists(node):
    """Dicts keyed "0", "1", ... become lists, as Stripe reads them."""
    if not isinstance(node, dict):
        return node
    node = {key: _lists(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


class FakeStripe:
    def __init__(self, secret_key: str = SECRET_KEY):
        self.secret_key = secret_key
        self.sessions: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.answers_by_key: dict[str, tuple[int, dict]] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="fake-stripe", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    # --- what Stripe would send back to the app -------------------------------------------

    def completed_event(self, session_id: str, *, amount_total: int | None = None,
                        currency: str | None = None, payment_status: str = "paid",
                        event_id: str | None = None,
                        event_type: str = "checkout.session.completed") -> str:
        """The JSON body of the webhook event for a paid session (as Stripe formats it)."""
        session = dict(self.sessions.get(session_id) or {
            "id": session_id, "object": "checkout.session", "amount_total": amount_total,
            "currency": currency or "cny", "metadata": {}, "mode": "payment"})
        session.update(payment_status=payment_status, status="complete")
        if amount_total is not None:
            session["amount_total"] = amount_total
        if currency is not None:
            session["currency"] = currency
        return json.dumps({
            "id": event_id or f"evt_{secrets.token_hex(12)}", "object": "event",
            "api_version": "2024-06-20", "created": int(time.time()), "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": event_type, "data": {"object": session},
        }, ensure_ascii=False)

    # --- the HTTP side ----------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                self._answer(*fake._post(self.path, dict(self.headers), body))

            def do_GET(self):  # noqa: N802
                self._answer(*fake._get(self.path, dict(self.headers)))

            def _answer(self, status: int, document: dict):
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _authorised(self, headers: dict) -> bool:
        return headers.get("Authorization") == f"Bearer {self.secret_key}"

    def _post(self, path: str, headers: dict, body: str) -> tuple[int, dict]:
        params = decode_form(body)
        with self.lock:
            self.requests.append({"method": "POST", "path": path, "params": params,
                                  "headers": headers})
            if not self._authorised(headers):
                return 401, _error("invalid_request_error", "Invalid API Key provided.")
            if path != "/v1/checkout/sessions":
                return 404, _error("invalid_request_error", f"Unrecognized request URL {path}")
            key = headers.get("Idempotency-Key")
            if key and key in self.answers_by_key:
                return self.answers_by_key[key]
            answer = self._create_session(params)
            if key:
                self.answers_by_key[key] = answer
            return answer

    def _get(self, path: str, headers: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests.append({"method": "GET", "path": path, "headers": headers})
            if not self._authorised(headers):
                return 401, _error("invalid_request_error", "Invalid API Key provided.")
            match = SESSION_PATH.match(path)
            if not match or match.group(1) not in self.sessions:
                return 404, _error("invalid_request_error", "No such checkout.session")
            return 200, self.sessions[match.group(1)]

    def _create_session(self, params: dict) -> tuple[int, dict]:
        for required in ("mode", "success_url", "line_items"):
            if required not in params:
                return 400, _error("invalid_request_error", f"Missing required param: "
                                   f"{required}.", param=required)
        items = params["line_items"]
        currencies = {item["price_data"]["currency"] for item in items}
        if len(currencies) != 1:
            return 400, _error("invalid_request_error", "All prices must share one currency.")
        amount_total = sum(int(item["price_data"]["unit_amount"]) * int(item["quantity"])
                           for item in items)
        session_id = f"cs_test_{secrets.token_hex(16)}"
        session = {
            "id": session_id, "object": "checkout.session", "amount_subtotal": amount_total,
            "amount_total": amount_total, "currency": currencies.pop(),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}), "mode": params["mode"],
            "payment_status": "unpaid", "status": "open", "livemode": False,
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "created": int(time.time()), "url": f"{self.base_url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return 200, session


def _error(kind: str, message: str, **extra) -> dict:
    return {"error": {"type": kind, "message": message, **extra}}
