"""Sign-in, sessions and the web protections of the cockpit's Flask server.

Modes (settings.auth_mode):
  users  the form at /login checks a name and password against the users file (users.py);
  oidc   /login sends the browser to the company's OpenID Connect provider (authorization-code
         flow, Authlib: the ID token's signature, issuer, audience and nonce are checked); the
         role and the account managers come from configurable claims;
  none   nobody signs in; every request is the viewer access.NOBODY (127.0.0.1 only).

The session is Flask's signed cookie, managed by Flask-Login; it holds the viewer (name, role,
accounts). In `users` mode every request checks the viewer against the users file again, so a
removed user or a changed role takes effect at once.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from html import escape
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from orchestration import settings
from orchestration.cockpit.access import NOBODY, ROLES, AccessError, Viewer, may_read_audit
from orchestration.cockpit.audit import AuditTrail
from orchestration.cockpit.users import UsersFile

log = logging.getLogger(__name__)

# what needs no session: the sign-in itself and the look of its page
OPEN_PATHS = ("/login", "/login/callback", "/assets/cockpit.css")
CSRF_FIELD = "csrf_token"
FAILURE_WINDOW_S = 15 * 60
FREE_FAILURES = 3          # failures of a name or an address before answers slow down
MAX_DELAY_S = 8.0

TEXTS = {
    "title": {"de": "Anmelden", "en": "Sign in"},
    "username": {"de": "Benutzername", "en": "User name"},
    "password": {"de": "Passwort", "en": "Password"},
    "submit": {"de": "Anmelden", "en": "Sign in"},
    "failed": {"de": "Anmeldung fehlgeschlagen: Name oder Passwort ist falsch.",
               "en": "Sign-in failed: the name or the password is wrong."},
    "oidc": {"de": "Mit dem Firmenkonto anmelden", "en": "Sign in with the company account"},
    "signed_out": {"de": "Abgemeldet.", "en": "Signed out."},
    "logout": {"de": "Abmelden", "en": "Sign out"},
    "nobody": {"de": "Niemand angemeldet: alle Kunden sichtbar (nur auf diesem Rechner)",
               "en": "Nobody is signed in: every customer is shown (this machine only)"},
    "signed_in_as": {"de": "Angemeldet: {name} ({role})", "en": "Signed in: {name} ({role})"},
    "scope_managers": {
        "de": "Sie sehen nur die Kunden von {what}; alle Anzahlen und Summen gelten nur für "
              "diese Kunden.",
        "en": "You see only the customers of {what}; every count and total covers these "
              "customers only."},
    "scope_region": {"de": "Region {region}", "en": "region {region}"},
    "scope_manager": {"de": "Kundenbetreuer {managers}", "en": "account manager {managers}"},
}


def label(key: str, lang: str, **values) -> str:
    """A text of the sign-in and the header in the reader's language."""
    return _t(key, lang).format(**values)


def _t(key: str, lang: str) -> str:
    return TEXTS[key]["en" if lang == "en" else "de"]


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, `Secure` whenever the request came over https (directly
    or, with a trusted proxy, as X-Forwarded-Proto says), or always with CVM_COOKIE_SECURE."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


class _SignedIn(UserMixin):
    def __init__(self, viewer: Viewer):
        self.viewer = viewer

    def get_id(self) -> str:
        return self.viewer.name


def _viewer_to_session(viewer: Viewer) -> dict:
    return {"name": viewer.name, "role": viewer.role,
            "account_managers": list(viewer.account_managers), "region": viewer.region}


def current_viewer() -> Viewer:
    """The viewer of the current request (access.NOBODY without sign-in, and outside a request:
    a script calling the page functions directly). A request without one is refused."""
    if not has_request_context():
        return NOBODY
    viewer = g.get("cvm_viewer")
    if viewer is not None:
        return viewer
    if current_user and current_user.is_authenticated:
        return current_user.viewer
    raise PermissionError("no signed-in viewer for this request")


def client_address() -> str:
    return request.remote_addr or ""


def csrf_token() -> str:
    """The session's token for forms that change state (sign-in, sign-out)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


class Throttle:
    """Answers to failed sign-ins slow down after a few failures of a name or an address:
    0.5 s, 1 s, 2 s … up to 8 s, for 15 minutes after the last failure."""

    def __init__(self):
        self._lock = threading.Lock()
        self._failures: dict[str, deque] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> int:
        times = self._failures[key]
        while times and now - times[0] > FAILURE_WINDOW_S:
            times.popleft()
        return len(times)

    def failed(self, *keys: str) -> float:
        """Count a failure; the delay the answer waits."""
        now = time.monotonic()
        with self._lock:
            count = 0
            for key in keys:
                self._failures[key].append(now)
                count = max(count, self._recent(key, now))
        over = count - FREE_FAILURES
        return 0.0 if over <= 0 else min(0.5 * 2 ** (over - 1), MAX_DELAY_S)


def plain_page(title: str, body: str, lang: str, status: int = 200) -> Response:
    """A page of the server's own, outside the Dash app: the sign-in, a refusal."""
    return _page(title, body, lang, status)


def _page(title: str, body: str, lang: str, status: int = 200) -> Response:
    html_text = f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{escape(title)}</title><link rel="stylesheet" href="/assets/cockpit.css"></head>
<body><nav class="nav"><span class="brand">{escape(_app_title(lang))}</span></nav>
<main class="page signin">{body}</main></body></html>"""
    return Response(html_text, status=status, mimetype="text/html")


def _app_title(lang: str) -> str:
    from orchestration.lib.reports.translations import text

    return text("app_title", lang)


def _safe_next(target: str | None) -> str:
    """Only a path of this server: never an address elsewhere (no open redirect)."""
    if not target:
        return "/portfolio"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/portfolio"
    return target


def install(server: Flask, mode: str, *, users_path=None, audit: AuditTrail) -> None:
    """Sign-in of ``mode`` and the protections on the cockpit's Flask ``server``."""
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env_text("CVM_COOKIE_SECURE").lower()
        in ("1", "true", "yes"),
        SESSION_COOKIE_NAME="cvm_session",
        PERMANENT_SESSION_LIFETIME=int(settings.env_number("CVM_SESSION_HOURS", 10) * 3600),
        PROPAGATE_EXCEPTIONS=False,
    )
    key = settings.env_text("CVM_SECRET_KEY")
    if not key:
        if mode != "none":
            log.warning("CVM_SECRET_KEY is not set: sessions end when the server restarts")
        key = secrets.token_hex(32)
    server.secret_key = key
    server.session_interface = _SessionInterface()
    server.extensions["cvm_audit"] = audit
    server.extensions["cvm_auth_mode"] = mode
    _headers(server)
    _errors(server)
    if mode == "none":
        @server.before_request
        def nobody():
            g.cvm_viewer = NOBODY
        return

    manager = LoginManager(server)
    manager.session_protection = "strong"
    users = UsersFile(users_path) if mode == "users" else None
    throttle = Throttle()

    @manager.user_loader
    def load(name: str):
        data = session.get("cvm_viewer")
        if not data or data.get("name") != name:
            return None
        if users is not None:  # the users file still holds them, with this role
            user = users.users().get(name)
            return _SignedIn(user.viewer()) if user else None
        try:
            return _SignedIn(Viewer(data["name"], data["role"],
                                    tuple(data["account_managers"]), data["region"]))
        except (KeyError, AccessError):
            return None

    @server.before_request
    def require_sign_in():
        if request.path in OPEN_PATHS:
            return None
        if request.method == "POST" and not request.path.startswith("/_dash"):
            _check_csrf()
        if current_user.is_authenticated:
            return None
        if request.method == "GET" and not request.path.startswith("/_dash"):
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        return Response("sign in first\n", status=401, mimetype="text/plain")

    def signed_in(viewer: Viewer):
        session.clear()
        session.permanent = True
        session["cvm_viewer"] = _viewer_to_session(viewer)
        login_user(_SignedIn(viewer))
        audit.record("sign_in", viewer.name, viewer.role, address=client_address(),
                     detail=mode)
        log.info("%s signed in (%s)", viewer.name, viewer.role)

    if mode == "users":
        @server.route("/login", methods=["GET", "POST"])
        def login():
            lang = "en" if request.args.get("lang") == "en" else "de"
            if request.method == "GET":
                return _login_form(lang, request.args.get("next"))
            _check_csrf()
            lang = "en" if request.form.get("lang") == "en" else "de"
            name = request.form.get("username", "").strip()
            user = users.verify(name, request.form.get("password", ""))
            if user is None:
                delay = throttle.failed(f"name:{name}", f"address:{client_address()}")
                audit.record("sign_in_failed", name, "", address=client_address(),
                             detail=mode)
                time.sleep(delay)
                return _login_form(lang, request.form.get("next"), failed=True)
            signed_in(user.viewer())
            return redirect(_safe_next(request.form.get("next")))
    else:
        oauth = _oidc_client(server)

        @server.route("/login", methods=["GET"])
        def login():
            session["cvm_next"] = _safe_next(request.args.get("next"))
            return oauth.idp.authorize_redirect(url_for("oidc_callback", _external=True))

        @server.route("/login/callback", methods=["GET"])
        def oidc_callback():
            from authlib.integrations.base_client import OAuthError

            target = session.pop("cvm_next", "/portfolio")
            try:
                token = oauth.idp.authorize_access_token()
                viewer = viewer_from_claims(token["userinfo"])
            except (OAuthError, AccessError, KeyError, ValueError) as exc:
                audit.record("sign_in_failed", "", "", address=client_address(),
                             detail=f"oidc: {exc}"[:200])
                log.warning("OpenID Connect sign-in refused: %s", exc)
                return _page(_t("title", "de"), "<h1>403</h1><p>"
                             + escape(_t("failed", "de")) + "</p>", "de", status=403)
            signed_in(viewer)
            return redirect(_safe_next(target))

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        lang = "en" if request.args.get("lang") == "en" else "de"
        if request.method == "GET":  # a form: signing out changes state, so it is a POST
            return _page(_t("logout", lang), _logout_form(lang), lang)
        _check_csrf()
        if current_user.is_authenticated:
            viewer = current_user.viewer
            audit.record("sign_out", viewer.name, viewer.role, address=client_address())
        logout_user()
        session.clear()
        return redirect(url_for("login"))

    @server.route("/audit")
    def audit_page():
        viewer = _audit_reader()
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(getattr(e, f))}</td>" for f in _FIELDS) + "</tr>"
            for e in reversed(audit.entries()))
        head = "".join(f"<th>{f}</th>" for f in _FIELDS)
        body = (f"<h1>Audit</h1><p class='note'>{escape(viewer.name)}: "
                f"<a href='/audit.csv'>CSV</a> · {audit.days} days kept</p>"
                f"<table class='grid' id='audit'><thead><tr>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table>")
        return _page("Audit", body, "en")

    @server.route("/audit.csv")
    def audit_csv():
        viewer = _audit_reader()
        audit.record("audit_export", viewer.name, viewer.role, address=client_address())
        return Response(audit.csv_text(), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})

    def _audit_reader() -> Viewer:
        viewer = current_viewer()
        if not may_read_audit(viewer):
            abort(403)
        return viewer


_FIELDS = ("time", "event", "user", "role", "customer_id", "period", "address", "detail")


def _check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not secrets.compare_digest(sent, expected):
        abort(400, "the form is out of date: load the page again")


def _login_form(lang: str, target: str | None, failed: bool = False) -> Response:
    message = f"<p class='note warn' id='login-error'>{escape(_t('failed', lang))}</p>" \
        if failed else ""
    body = f"""<h1>{escape(_t('title', lang))}</h1>{message}
<form method="post" action="/login" class="login-form" id="login-form">
<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">
<input type="hidden" name="next" value="{escape(_safe_next(target))}">
<input type="hidden" name="lang" value="{lang}">
<label class="control-label" for="username">{escape(_t('username', lang))}</label>
<input class="text-input" id="username" name="username" autocomplete="username" required>
<label class="control-label" for="password">{escape(_t('password', lang))}</label>
<input class="text-input" id="password" name="password" type="password"
 autocomplete="current-password" required>
<button class="button" type="submit" id="login-submit">{escape(_t('submit', lang))}</button>
</form>"""
    return _page(_t("title", lang), body, lang, status=401 if failed else 200)


def _logout_form(lang: str) -> str:
    return f"""<form method="post" action="/logout" id="logout-form">
<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">
<button class="button" type="submit">{escape(_t('logout', lang))}</button></form>"""


# ---------------------------------------------------------------------------- OpenID Connect


def _oidc_client(server: Flask):
    from authlib.integrations.flask_client import OAuth

    issuer = settings.env_text("CVM_OIDC_ISSUER").rstrip("/")
    client_id = settings.env_text("CVM_OIDC_CLIENT_ID")
    secret = settings.env_text("CVM_OIDC_CLIENT_SECRET")
    missing = [name for name, value in (("CVM_OIDC_ISSUER", issuer),
                                        ("CVM_OIDC_CLIENT_ID", client_id),
                                        ("CVM_OIDC_CLIENT_SECRET", secret)) if not value]
    if missing:
        raise ValueError(f"sign-in mode oidc needs {', '.join(missing)} (settings or the "
                         "environment, never a file in git)")
    oauth = OAuth(server)
    oauth.register(
        "idp", client_id=client_id, client_secret=secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.env_text("CVM_OIDC_SCOPE", "openid profile email")},
    )
    return oauth


def claim_names() -> dict[str, str]:
    """The claims the viewer is read from (settings, with these defaults)."""
    return {
        "name": settings.env_text("CVM_OIDC_NAME_CLAIM", "email"),
        "role": settings.env_text("CVM_OIDC_ROLE_CLAIM", "cvm_role"),
        "account_manager": settings.env_text("CVM_OIDC_ACCOUNT_MANAGER_CLAIM",
                                             "cvm_account_manager"),
        "region": settings.env_text("CVM_OIDC_REGION_CLAIM", "cvm_region"),
    }


def _listed(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def viewer_from_claims(claims: dict) -> Viewer:
    """The viewer an ID token's claims describe. The role claim may be one role or a list
    (groups): the most far-reaching role of the cockpit in it counts. No known role: refused."""
    names = claim_names()
    roles = [r for r in _listed(claims.get(names["role"])) if r in ROLES]
    if not roles:
        raise AccessError(f"claim {names['role']!r} names no role of the cockpit "
                          f"({', '.join(ROLES)})")
    role = max(roles, key=ROLES.index)
    name = str(claims.get(names["name"]) or claims["sub"])
    region = claims.get(names["region"])
    return Viewer(name, role, tuple(_listed(claims.get(names["account_manager"]))),
                  str(region) if region else None)


# ---------------------------------------------------------------------------- headers, errors


def _headers(server: Flask) -> None:
    ancestors = settings.env_text("CVM_FRAME_ANCESTORS", "'self'")
    # Dash starts its renderer with an inline script and Plotly compiles functions at run time
    policy = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
              "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
              "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
              "object-src 'none'; base-uri 'self'; form-action 'self'; "
              f"frame-ancestors {ancestors}")

    @server.after_request
    def protect(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _errors(server: Flask) -> None:
    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return Response(f"{exc.code} {exc.name}\n", status=exc.code, mimetype="text/plain")

    @server.errorhandler(Exception)
    def internal_error(exc: Exception):
        # the traceback goes to the server's log only; the visitor gets no code, no SQL
        log.error("error on %s %s", request.method, request.path, exc_info=exc)
        return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")
