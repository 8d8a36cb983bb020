"""The shared cockpit in a real browser, on the production server (Waitress) the tests start:
sign-in by the users file and by OpenID Connect, each role's customers, refusals of other
people's customers by URL and by crafted callback requests, the audit trail, the protections.

The warehouse is the end-to-end fixture (tests/cockpit_fixtures.py): C1 (AM01, North),
C2 (AM02, Süd), C3 (AM01, West), C4 (AM03, East), C5 (AM02, North). The expected customers
of each role are read from marts.dim_customers by the rule of the role, not from the cockpit.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import duckdb
import pytest
import requests
from oidc_provider_mock import User as ProviderUser
from oidc_provider_mock import app as provider_app
from werkzeug.serving import make_server

from orchestration.cockpit.server import Server, wsgi_app
from orchestration.cockpit.users import add_user
from tests.cockpit_fixtures import published_warehouse

pytestmark = pytest.mark.slow

PASSWORDS = {"anna": "anna-secret-1", "lena": "lena-secret-1", "carl": "carl-secret-1",
             "ada": "ada-secret-12"}



class Production:
    """`cvm serve`'s server (server.Server, Waitress) on a free port, in a thread."""

    def __init__(self, warehouse: Path, auth: str, users: Path | None = None,
                 env: dict | None = None):
        with pytest.MonkeyPatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            self.server = Server(wsgi_app(warehouse, auth, users), "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Production:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return published_warehouse(tmp_path_factory) / "warehouse.duckdb"


def customers_where(warehouse: Path, predicate: str) -> set[str]:
    """The customers a rule selects, read from the marts directly."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {r[0] for r in con.execute(
            f"select customer_id from marts.dim_customers where {predicate}").fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audit")


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.json"
    add_user(path, "anna", "sales", PASSWORDS["anna"], ("AM01",))
    add_user(path, "lena", "sales_lead", PASSWORDS["lena"], region="North")
    add_user(path, "carl", "controller", PASSWORDS["carl"])
    add_user(path, "ada", "admin", PASSWORDS["ada"])
    return path


@pytest.fixture(scope="module")
def cockpit(warehouse, users_file, audit_dir):
    with Production(warehouse, "users", users_file,
                    env={"CVM_AUDIT_DIR": str(audit_dir)}) as running:
        yield running


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signin-screenshots")
    print(f"\nsign-in screenshots in {folder}")
    return folder


def sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/portfolio?period=2026")
    page.wait_for_selector("#login-form")
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-submit")
    page.wait_for_selector("#page-title")


def portfolio_customers(page) -> set[str]:
    """The customers of the portfolio chart's points, as the browser holds them."""
    page.wait_for_selector("#portfolio-graph .js-plotly-plot")
    data = page.evaluate("""() => document.querySelector('#portfolio-graph .js-plotly-plot')
        .data.flatMap(t => (t.customdata || []).map(row => row[0]))""")
    return set(data)


def search(page, term: str) -> set[str]:
    page.fill("#customer-search", term)
    page.wait_for_selector(".search-hit, .search-none")
    time.sleep(0.5)  # the answer to the last keystroke
    return set(re.findall(r"\((C\d+)\)", " ".join(
        page.locator(".search-hit").all_inner_texts())))


def callback(session, url: str, output: str, inputs: list, state: list | None = None):
    """A Dash callback request as the page sends it, crafted by hand."""
    body = {"output": output, "outputs": {"id": output.split(".")[0],
                                          "property": output.split(".")[1]},
            "inputs": inputs, "state": state or [],
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    return session.post(f"{url}/_dash-update-component", json=body, timeout=60)


def route(session, url: str, pathname: str, search: str = "?period=2026"):
    return callback(session, url, "root.children",
                    [{"id": "url", "property": "pathname", "value": pathname},
                     {"id": "url", "property": "search", "value": search}])


def signed_in_session(url: str, name: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = session.post(f"{url}/login", data={"username": name, "password": PASSWORDS[name],
                                                "csrf_token": token},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return session


def test_every_route_wants_a_sign_in_first(cockpit):
    for path in ("/", "/portfolio?period=2026", "/migration", "/customer/C1",
                 "/customer/C1/statement.pdf", "/customer/C1/statement.html?period=2026",
                 "/audit", "/audit.csv"):
        answer = requests.get(cockpit.url + path, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login?next=/"), path
        assert "C1" not in answer.text.replace("next=/customer/C1", "")
    # what the page's scripts fetch: 401, nothing to follow
    for path in ("/_dash-layout", "/_dash-dependencies"):
        answer = requests.get(cockpit.url + path, allow_redirects=False, timeout=30)
        assert answer.status_code == 401 and "portfolio" not in answer.text, path
    crafted = route(requests.Session(), cockpit.url, "/customer/C1")
    assert crafted.status_code == 401 and "Alpha" not in crafted.text


def test_a_sales_user_sees_exactly_their_customers(page, cockpit, warehouse, shots):
    theirs = customers_where(warehouse, "account_manager = 'AM01'")
    assert theirs == {"C1", "C3"}
    sign_in(page, cockpit.url, "anna")
    assert page.url.endswith("/portfolio?period=2026")  # back where the sign-in began
    assert portfolio_customers(page) == theirs
    assert page.inner_text("#portfolio-count") == "2 von 2 Kunden des Zeitraums"
    total = page.locator("#segment-summary tfoot td").all_inner_texts()
    # C1 revenue 120,000 + C3 11,000 (tests/test_cockpit.py): the totals are theirs
    assert total[2] == "2" and total[3].replace("\xa0", " ") == "131.000 €"
    assert "nur die Kunden von Kundenbetreuer AM01" in page.inner_text("#scope-note")
    assert page.inner_text("#viewer") == "Angemeldet: anna (sales)"
    page.screenshot(path=shots / "portfolio-sales.png", full_page=True)
    # the search finds their customers only: "GmbH" is in C1, C4 and C5's names
    assert search(page, "GmbH") == {"C1"}
    assert search(page, "Gamma") == {"C3"}
    assert search(page, "Beta") == set()  # C2 is AM02's

    # another rep's customer by URL: 404, no data
    answer = page.goto(f"{cockpit.url}/customer/C2?period=2026")
    assert answer.status == 404
    page.wait_for_selector("#error-page")
    assert "Beta" not in page.inner_text("body")
    page.screenshot(path=shots / "customer-of-another-rep.png", full_page=True)
    for fmt in ("pdf", "html"):
        statement = page.request.get(f"{cockpit.url}/customer/C2/statement.{fmt}?period=2026")
        assert statement.status == 404 and "Beta" not in statement.text()
    # crafted callbacks with the browser's session: the page, the service list
    session = requests.Session()
    for cookie in page.context.cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    crafted = route(session, cockpit.url, "/customer/C2")
    assert crafted.status_code == 404 and crafted.text == "404 Not Found\n"
    # a customer that does not exist gets the same answer: nothing tells them apart
    unknown = route(session, cockpit.url, "/customer/C99")
    assert unknown.status_code == 404 and unknown.text == crafted.text
    outputs = [("services-table", "data"), ("services-table", "page_count"),
               ("services-count", "children"), ("services-table", "page_current")]
    services = session.post(f"{cockpit.url}/_dash-update-component", timeout=60, json={
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "services-table", "property": "page_current", "value": 0},
                   {"id": "services-table", "property": "sort_by", "value": []},
                   {"id": "services-type", "property": "value", "value": None},
                   {"id": "services-kind", "property": "value", "value": None},
                   {"id": "services-text", "property": "value", "value": None}],
        "state": [{"id": "services-context", "property": "data",
                   "value": {"customer_id": "C2", "period": "2026", "lang": "de",
                             "total": 1}}],
        "changedPropIds": ["services-table.page_current"]})
    assert services.status_code == 404 and services.text == "404 Not Found\n"
    # their own customer's page and statement
    page.goto(f"{cockpit.url}/customer/C3?period=2026")
    page.wait_for_selector("#kpi-revenue")
    assert page.inner_text("#page-title") == "Gamma Müller & Söhne KG"
    assert page.request.get(
        f"{cockpit.url}/customer/C3/statement.pdf?period=2026").status == 200


def test_a_sales_lead_sees_their_region_and_a_controller_everyone(page, cockpit, warehouse):
    north = customers_where(warehouse, "region = 'North'")
    assert north == {"C1", "C5"}
    sign_in(page, cockpit.url, "lena")
    assert portfolio_customers(page) == north
    assert search(page, "GmbH") == {"C1", "C5"}
    assert page.goto(f"{cockpit.url}/customer/C3?period=2026").status == 404
    page.wait_for_selector("#error-page")
    assert "Gamma" not in page.content()
    page.goto(f"{cockpit.url}/portfolio?period=2026")
    page.wait_for_selector("#page-title")
    # the header's button signs out (a POST with the form's token): the session is gone
    page.click("#logout")
    page.wait_for_selector("#login-form")
    assert page.goto(f"{cockpit.url}/portfolio").url.startswith(f"{cockpit.url}/login")
    sign_in(page, cockpit.url, "carl")
    assert portfolio_customers(page) == customers_where(warehouse, "true")
    assert page.locator("#scope-note").count() == 0
    assert page.goto(f"{cockpit.url}/customer/C2?period=2026").status == 200
    # the migration matrix's cell "opportunistic in 2025 and 2026" holds C2 (Süd, AM02):
    # the controller sees it in the cell's list, the lead of region North does not
    cell = "?from=2025&to=2026&prev=opportunistic&seg=opportunistic"
    lists = {name: route(signed_in_session(cockpit.url, name), cockpit.url, "/migration",
                         cell).text for name in ("lena", "carl")}
    assert "Beta Anlagen AG" in lists["carl"]
    assert "Beta Anlagen AG" not in lists["lena"]
    assert page.request.get(f"{cockpit.url}/audit").status == 403  # controller: not admin


def test_a_wrong_password_says_nothing_about_the_name_and_slows_down(cockpit):
    session = requests.Session()

    def attempt(name: str, password: str) -> tuple[int, str, float]:
        form = session.get(f"{cockpit.url}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        start = time.monotonic()
        answer = session.post(f"{cockpit.url}/login", timeout=60, data={
            "username": name, "password": password, "csrf_token": token})
        return answer.status_code, answer.text.replace(token, ""), time.monotonic() - start

    known = attempt("anna", "wrong-password")
    unknown = attempt("nobody-here", "wrong-password")
    assert known[0] == unknown[0] == 401
    assert known[1] == unknown[1]
    assert "Name oder Passwort ist falsch" in known[1]
    # the third failure of this address is free, the 4th waits 0.5 s, the 5th 1 s
    attempt("anna", "again wrong")
    fourth, fifth = attempt("anna", "still wrong"), attempt("anna", "wrong too")
    assert fourth[2] >= 0.5 and fifth[2] >= 1.0, (fourth, fifth)
    # CSRF: a sign-in without the form's token is refused
    refused = requests.post(f"{cockpit.url}/login", timeout=30,
                            data={"username": "anna", "password": PASSWORDS["anna"]})
    assert refused.status_code == 400


def test_the_audit_trail_holds_the_views_and_downloads(cockpit, audit_dir):
    anna = signed_in_session(cockpit.url, "anna")
    assert route(anna, cockpit.url, "/customer/C1").status_code == 200
    assert anna.get(f"{cockpit.url}/customer/C1/statement.pdf?period=2026",
                    timeout=60).status_code == 200
    assert anna.get(f"{cockpit.url}/customer/C4/statement.html?period=2026",
                    timeout=60).status_code == 404
    admin = signed_in_session(cockpit.url, "ada")
    page = admin.get(f"{cockpit.url}/audit", timeout=30)
    assert page.status_code == 200 and "statement_pdf" in page.text
    exported = admin.get(f"{cockpit.url}/audit.csv", timeout=30)
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = [line.split(",") for line in exported.text.splitlines()]
    assert rows[0] == ["time", "event", "user", "role", "customer_id", "period", "address",
                       "detail"]
    seen = {(r[1], r[2], r[3], r[4], r[5]) for r in rows[1:]}
    assert ("view_customer", "anna", "sales", "C1", "2026") in seen
    assert ("statement_pdf", "anna", "sales", "C1", "2026") in seen
    assert ("denied", "anna", "sales", "C4", "") in seen
    assert ("sign_in", "ada", "admin", "", "") in seen
    assert all(r[6] == "127.0.0.1" for r in rows[1:])
    # append-only files outside the warehouse, one a day
    files = list(audit_dir.glob("*.jsonl"))
    assert files and all(json.loads(line)["time"] for f in files
                         for line in f.read_text().splitlines())


def test_cookie_headers_csrf_and_errors(tmp_path, users_file):
    """A server behind one trusted proxy, on a warehouse that does not exist yet."""
    env = {"CVM_TRUST_PROXY": "1", "CVM_FRAME_ANCESTORS": "https://crm.example.com",
           "CVM_AUDIT_DIR": str(tmp_path / "audit")}
    with Production(tmp_path / "none.duckdb", "users", users_file, env=env) as behind:
        form = requests.get(f"{behind.url}/login", timeout=30)
        policy = form.headers["Content-Security-Policy"]
        assert "frame-ancestors https://crm.example.com" in policy
        assert form.headers["X-Content-Type-Options"] == "nosniff"
        sessions = {}
        for proto, secure in (("http", False), ("https", True)):
            session = sessions[proto] = requests.Session()
            text = session.get(f"{behind.url}/login", timeout=30).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
            answer = session.post(
                f"{behind.url}/login", allow_redirects=False, timeout=30,
                headers={"X-Forwarded-Proto": proto},
                data={"username": "anna", "password": PASSWORDS["anna"], "csrf_token": token})
            cookie = answer.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert ("Secure" in cookie) is secure, cookie
        session = sessions["http"]  # its cookie is not Secure: requests sends it over http
        # signing out is a POST with the token; without it, refused
        assert session.post(f"{behind.url}/logout", timeout=30).status_code == 400
        # an error: no traceback, no SQL, no path
        broken = session.post(f"{behind.url}/_dash-update-component", data="{not json",
                              headers={"Content-Type": "application/json"}, timeout=30)
        assert broken.status_code in (400, 500)
        assert "Traceback" not in broken.text and "File " not in broken.text
    # without a trusted proxy, X-Forwarded-Proto is ignored: no Secure over http
    with Production(tmp_path / "none.duckdb", "users", users_file,
                    env={"CVM_AUDIT_DIR": str(tmp_path / "audit")}) as direct:
        session = requests.Session()
        text = session.get(f"{direct.url}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
        answer = session.post(f"{direct.url}/login", allow_redirects=False, timeout=30,
                              headers={"X-Forwarded-Proto": "https"},
                              data={"username": "anna", "password": PASSWORDS["anna"],
                                    "csrf_token": token})
        assert "Secure" not in answer.headers["Set-Cookie"]
        assert "frame-ancestors 'self'" in answer.headers["Content-Security-Policy"]


def test_sign_in_with_openid_connect(page, warehouse, tmp_path, shots):
    """A real provider (oidc-provider-mock, built on Authlib) on 127.0.0.1: the browser goes
    through its authorization form, the cockpit exchanges the code for tokens and checks the
    ID token's signature against the provider's keys. The role and the account manager come
    from the claims the settings name."""
    people = [ProviderUser(sub="anna-sub", claims={
        "email": "anna@example.com", "groups": ["staff", "sales"], "crm_id": "AM01"})]
    provider = make_server("127.0.0.1", 0, provider_app(user_claims=people,
                                                        require_nonce=True), threaded=True)
    thread = threading.Thread(target=provider.serve_forever, daemon=True)
    thread.start()
    issuer = f"http://127.0.0.1:{provider.server_port}"
    env = {"CVM_OIDC_ISSUER": issuer, "CVM_OIDC_CLIENT_ID": "cockpit",
           "CVM_OIDC_CLIENT_SECRET": "not-in-git", "CVM_OIDC_ROLE_CLAIM": "groups",
           "CVM_OIDC_ACCOUNT_MANAGER_CLAIM": "crm_id",
           "CVM_AUDIT_DIR": str(tmp_path / "audit")}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():  # the claim names are read at sign-in
                patch.setenv(name, value)
            with Production(warehouse, "oidc", env=env) as cockpit:
                page.goto(f"{cockpit.url}/portfolio?period=2026")
                page.wait_for_url(re.compile(re.escape(issuer) + "/oauth2/authorize"))
                page.screenshot(path=shots / "oidc-provider.png")
                page.fill("input[name=sub]", "anna-sub")
                page.get_by_role("button", name="Authorize").first.click()
                page.wait_for_selector("#page-title")
                assert page.url == f"{cockpit.url}/portfolio?period=2026"
                assert page.inner_text("#viewer") == "Angemeldet: anna@example.com (sales)"
                assert portfolio_customers(page) == customers_where(
                    warehouse, "account_manager = 'AM01'")
                assert page.goto(f"{cockpit.url}/customer/C2").status == 404
                # a forged callback (no code from the provider) signs nobody in
                forged = requests.get(f"{cockpit.url}/login/callback?code=x&state=y",
                                      timeout=30)
                assert forged.status_code == 403
    finally:
        provider.shutdown()
        thread.join(timeout=10)


def test_without_sign_in_the_header_says_nobody_is_signed_in(page, warehouse, tmp_path,
                                                              shots, users_file, cockpit):
    with Production(warehouse, "none", env={"CVM_AUDIT_DIR": str(tmp_path / "a")}) as local:
        page.goto(f"{local.url}/portfolio?period=2026")
        page.wait_for_selector("#page-title")
        assert page.inner_text("#viewer") == (
            "Niemand angemeldet: alle Kunden sichtbar (nur auf diesem Rechner)")
        page.screenshot(path=shots / "portfolio-no-auth.png")
    page.goto(f"{cockpit.url}/login?lang=en")
    page.screenshot(path=shots / "login-en.png")
    page.goto(f"{cockpit.url}/login")
    page.fill("#username", "anna")
    page.fill("#password", "wrong-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error")
    page.screenshot(path=shots / "login-failed-de.png")
