"""Security headers and cookies, through flask-talisman: a strict Content-Security-Policy (our
own scripts only, no inline script or handler: behaviours live in web/static/*.js and read
data-* attributes), no framing, nosniff, a Referrer-Policy; behind HTTPS (``JINDOU_HTTPS=1``)
HSTS and Secure cookies, with the proxy's X-Forwarded-Proto trusted."""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

# Inline style *attributes* stay allowed (a progress bar's width, a legend's colour): they run
# no code. <style> elements and every script must come from our origin.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
REFERRER_POLICY = "strict-origin-when-cross-origin"


def register(app: Flask) -> None:
    https = bool(app.config.get("JINDOU_HTTPS"))
    if https:
        # TLS ends at the proxy in front: it says the request was secure.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)
    # One Talisman per app: it keeps its settings on itself.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,  # the proxy redirects; HSTS keeps browsers on HTTPS
        strict_transport_security=https,
        session_cookie_secure=https,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy=REFERRER_POLICY,
        x_content_type_options=True,
    )
