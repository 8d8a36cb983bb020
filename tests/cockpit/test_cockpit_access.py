"""Sign-in, row-level access and the audit trail of the cockpit, without a browser: the users
file, the claims of an ID token, the viewer's views of the marts on a small hand-made
warehouse, the slowing of failed sign-ins, the retention of the audit trail, and the rule that
the cockpit's queries read only the viewer's views.

The hand-made marts: C1 (AM01, North), C2 (AM02, Süd), C3 (AM01, West), C4 (AM03, East),
C5 (AM02, North), each with one row of customer_value in 2026 and revenue 100 × its number.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import duckdb
import pytest

from orchestration.cli import main
from orchestration.cockpit import access, queries
from orchestration.cockpit.access import AccessError, Viewer
from orchestration.cockpit.audit import AuditTrail
from orchestration.cockpit.signin import Throttle, viewer_from_claims
from orchestration.cockpit.users import UsersFile, UsersFileError, add_user, read_users
from orchestration.lib.ingest.personal import pseudonym
from orchestration.lib.reports.warehouse import Warehouse
from orchestration.settings import PROJECT_DIR

CUSTOMERS = [("C1", "AM01", "North"), ("C2", "AM02", "Süd"), ("C3", "AM01", "West"),
             ("C4", "AM03", "East"), ("C5", "AM02", "North")]


@pytest.fixture
def small_warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_customers (customer_id text, customer_name text, "
                "account_manager text, region text)")
    con.executemany("insert into marts.dim_customers values (?, ?, ?, ?)",
                    [(c, f"Name {c}", m, r) for c, m, r in CUSTOMERS])
    con.execute("create table marts.customer_value (customer_id text, period_start date, "
                "revenue_eur decimal(18, 2))")
    con.executemany("insert into marts.customer_value values (?, date '2026-01-01', ?)",
                    [(c, 100 * int(c[1])) for c, _, _ in CUSTOMERS])
    # an aggregate over every customer, and reference data without customers
    con.execute("create view marts.customer_equity as select sum(revenue_eur) as equity "
                "from marts.customer_value")
    con.execute("create table marts.dim_service_types as select 'REP' as service_type_code")
    con.close()
    return Warehouse(path)


def _seen(warehouse, viewer) -> tuple[list[str], float]:
    with access.reader(warehouse, viewer) as con:
        ids = [r[0] for r in con.execute(
            "select customer_id from dim_customers order by 1").fetchall()]
        revenue = con.execute("select sum(revenue_eur) from customer_value").fetchone()[0]
    return ids, float(revenue or 0)


def test_each_role_reads_its_own_rows_of_every_mart(small_warehouse):
    sales = Viewer("anna", "sales", ("AM01",))
    assert _seen(small_warehouse, sales) == (["C1", "C3"], 100 + 300)
    lead = Viewer("lena", "sales_lead", region="North")
    assert _seen(small_warehouse, lead) == (["C1", "C5"], 100 + 500)
    managers = Viewer("lars", "sales_lead", ("AM02", "AM03"))
    assert _seen(small_warehouse, managers) == (["C2", "C4", "C5"], 200 + 400 + 500)
    for role in ("controller", "admin"):
        assert _seen(small_warehouse, Viewer("x", role)) == (
            ["C1", "C2", "C3", "C4", "C5"], 1500)
    # the same cursor functions the pages use: the search finds only the viewer's customers
    with access.reader(small_warehouse, sales) as con:
        assert queries.find_customers(con, "Name") == [("C1", "Name C1"), ("C3", "Name C3")]
        assert access.can_see(con, "C3") and not access.can_see(con, "C2")
        # reference data stay; an aggregate over everybody is not there for a sales user
        assert con.execute("select count(*) from dim_service_types").fetchone()[0] == 1
        with pytest.raises(duckdb.CatalogException):
            con.execute("select * from customer_equity")
    with access.reader(small_warehouse, Viewer("c", "controller")) as con:
        assert float(con.execute("select equity from customer_equity").fetchone()[0]) == 1500


def _scope_views(con, viewer) -> dict[str, int]:
    """The views of the viewer's scope in the cursor's database: name -> the view's oid."""
    return dict(con.execute(
        "select view_name, view_oid from duckdb_views() where database_name = 'memory' "
        "and schema_name = ?", [access.scope_schema(viewer.customer_predicate())]).fetchall())


def test_a_scope_s_views_are_made_once_per_published_version(small_warehouse, tmp_path):
    sales = Viewer("anna", "sales", ("AM01",))
    assert _seen(small_warehouse, sales) == (["C1", "C3"], 400)
    with access.reader(small_warehouse, sales) as con:
        first = _scope_views(con, sales)
    # every relation with customers, and the reference data; not the aggregate over everybody
    assert sorted(first) == ["customer_value", "dim_customers", "dim_service_types"]
    assert _seen(small_warehouse, sales) == (["C1", "C3"], 400)
    with access.reader(small_warehouse, sales) as con:
        assert _scope_views(con, sales) == first  # the same views, not made again
    # a load publishes a new version (a new file renamed into place) with a third customer of
    # AM01: the next request reads it through views of the new version
    new = tmp_path / "new.duckdb"
    new.write_bytes(small_warehouse.path.read_bytes())
    con = duckdb.connect(str(new))
    con.execute("insert into marts.dim_customers values ('C6', 'Name C6', 'AM01', 'North')")
    con.execute("insert into marts.customer_value values ('C6', date '2026-01-01', 600)")
    con.close()
    new.replace(small_warehouse.path)
    assert _seen(small_warehouse, sales) == (["C1", "C3", "C6"], 1000)


def test_account_managers_are_matched_as_pseudonyms_when_the_marts_hold_them(
        small_warehouse, monkeypatch):
    key = "k" * 32
    monkeypatch.setenv("CVM_PSEUDONYM_KEY", key)
    predicate = Viewer("anna", "sales", ("AM01",)).customer_predicate()
    assert predicate == f"account_manager in ('{pseudonym(key.encode(), 'AM01')}')"
    # marts that hold the pseudonyms, as a load with the key writes them
    con = duckdb.connect(str(small_warehouse.path))
    for customer_id, manager, _ in CUSTOMERS:
        con.execute("update marts.dim_customers set account_manager = ? where customer_id = ?",
                    [pseudonym(key.encode(), manager), customer_id])
    con.close()
    assert _seen(small_warehouse, Viewer("anna", "sales", ("AM01",))) == (["C1", "C3"], 400)
    # without the key, the identifier matches none of the pseudonyms
    monkeypatch.delenv("CVM_PSEUDONYM_KEY")
    assert _seen(small_warehouse, Viewer("anna", "sales", ("AM01",))) == ([], 0)


def test_a_viewer_needs_a_known_role_and_its_accounts():
    with pytest.raises(AccessError, match="role 'boss' is unknown"):
        Viewer("x", "boss")
    with pytest.raises(AccessError, match="exactly one account manager"):
        Viewer("x", "sales")
    with pytest.raises(AccessError, match="a region or account managers"):
        Viewer("x", "sales_lead")


def test_the_cockpit_queries_read_only_the_viewer_s_views():
    """Every query of the cockpit names the marts without their schema, so that it reads the
    viewer's views (access.reader); `marts.` would read every customer's rows."""
    source = (PROJECT_DIR / "orchestration" / "cockpit" / "queries.py").read_text()
    assert not re.findall(r"(?i)\b(from|join)\s+marts\.", source)
    for module in ("portfolio", "customer", "migration", "components", "app"):
        text = (PROJECT_DIR / "orchestration" / "cockpit" / f"{module}.py").read_text()
        assert not re.findall(r"(?i)\b(from|join)\s+marts\.", text), module
        assert "warehouse.reader()" not in text, module


def test_users_file_holds_argon2_hashes_and_the_commands_keep_it(tmp_path, monkeypatch,
                                                                capsys):
    users = tmp_path / "users.json"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("correct horse\n"))
    assert main(["users", "add", "anna", "--role", "sales", "--account-manager", "AM01",
                 "--password-stdin", "--users", str(users)]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("lead pass 1\n"))
    assert main(["users", "add", "lena", "--role", "sales_lead", "--account-manager",
                 "AM01,AM02", "--password-stdin", "--users", str(users)]) == 0
    text = users.read_text()
    assert "correct horse" not in text and "lead pass 1" not in text
    stored = json.loads(text)["users"]
    assert stored["anna"]["password_hash"].startswith("$argon2id$")
    assert stored["lena"]["account_managers"] == ["AM01", "AM02"]
    assert users.stat().st_mode & 0o777 == 0o600
    checker = UsersFile(users)
    assert checker.verify("anna", "correct horse").role == "sales"
    assert checker.verify("anna", "wrong") is None
    assert checker.verify("nobody", "correct horse") is None
    capsys.readouterr()
    assert main(["users", "list", "--users", str(users)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "anna\tsales\taccount managers AM01", "lena\tsales_lead\taccount managers AM01,AM02"]
    assert main(["users", "remove", "anna", "--users", str(users)]) == 0
    assert list(read_users(users)) == ["lena"]
    assert checker.verify("anna", "correct horse") is None  # read again: removed at once
    assert main(["users", "remove", "anna", "--users", str(users)]) == 2
    assert "no user 'anna'" in capsys.readouterr().err
    with pytest.raises(UsersFileError, match="exactly one account manager"):
        add_user(users, "bob", "sales", "long enough")
    users.write_text('{"users": {\n  "x": }\n')
    with pytest.raises(UsersFileError, match=r"users.json: line 2: not JSON"):
        read_users(users)


def test_the_role_and_the_accounts_come_from_the_claims_named_in_the_settings(monkeypatch):
    claims = {"sub": "u1", "email": "anna@example.com", "cvm_role": "sales",
              "cvm_account_manager": "AM01"}
    assert viewer_from_claims(claims) == Viewer("anna@example.com", "sales", ("AM01",))
    monkeypatch.setenv("CVM_OIDC_ROLE_CLAIM", "groups")
    monkeypatch.setenv("CVM_OIDC_ACCOUNT_MANAGER_CLAIM", "crm_ids")
    monkeypatch.setenv("CVM_OIDC_REGION_CLAIM", "area")
    monkeypatch.setenv("CVM_OIDC_NAME_CLAIM", "preferred_username")
    # groups of the company: the most far-reaching role of the cockpit among them counts
    lead = {"sub": "u2", "preferred_username": "lena", "groups": ["staff", "sales",
                                                                   "sales_lead"],
            "crm_ids": ["AM01", "AM02"], "area": "North"}
    assert viewer_from_claims(lead) == Viewer("lena", "sales_lead", ("AM01", "AM02"), "North")
    with pytest.raises(AccessError, match="claim 'groups' names no role"):
        viewer_from_claims({"sub": "u3", "groups": ["staff"]})


def test_failed_sign_ins_slow_down_after_three():
    throttle = Throttle()
    delays = [throttle.failed("name:anna", "address:10.0.0.1") for _ in range(8)]
    assert delays == [0, 0, 0, 0.5, 1, 2, 4, 8]
    # another name from another address starts free
    assert throttle.failed("name:bob", "address:10.0.0.2") == 0
    # the same address with yet another name is slowed: it is the address that guesses
    assert throttle.failed("name:carl", "address:10.0.0.1") == 8


def test_audit_trail_appends_and_keeps_the_configured_days(tmp_path):
    trail = AuditTrail(tmp_path / "audit", days=30)
    old = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    trail.record("view_customer", "anna", "sales", customer_id="C1", period="2026",
                 address="10.0.0.1", now=old)
    first = (tmp_path / "audit" / "2026-10-01.jsonl").read_text()
    trail.record("statement_pdf", "anna", "sales", customer_id="C3", period="2026",
                 address="10.0.0.1", now=datetime(2026, 10, 1, 13, 0, tzinfo=UTC))
    # appended: the first line is as it was
    assert (tmp_path / "audit" / "2026-10-01.jsonl").read_text().startswith(first)
    assert [(e.event, e.customer_id) for e in trail.entries()] == [
        ("view_customer", "C1"), ("statement_pdf", "C3")]
    # 2026-12-04 minus 30 days is 2026-11-04: the day of 2026-10-01 goes, whole
    trail.record("sign_in", "carl", "controller", now=datetime(2026, 12, 4, 8, tzinfo=UTC))
    assert [e.event for e in trail.entries()] == ["sign_in"]
    assert trail.csv_text().splitlines() == [
        "time,event,user,role,customer_id,period,address,detail",
        "2026-12-04T08:00:00+00:00,sign_in,carl,controller,,,,"]
    assert trail.entries(since=date(2026, 12, 5)) == []


def test_without_sign_in_the_cockpit_stays_on_this_machine(tmp_path, capsys):
    assert main(["serve", "--no-auth", "--host", "0.0.0.0",
                 "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "without sign-in the cockpit listens on 127.0.0.1 only" in capsys.readouterr().err
    assert main(["serve", "--auth", "users", "--users", str(tmp_path / "none.json"),
                 "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    assert "no users yet" in capsys.readouterr().err


def test_the_server_answers_what_is_under_way_then_stops():
    """A stop (SIGTERM) while a request runs: the request gets its whole answer, and the server
    accepts no new connection."""
    import socket
    import threading
    import time
    import urllib.request

    from orchestration.cockpit.server import Server

    def slow(environ, start_response):
        time.sleep(1.5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"all of it"]

    server = Server(slow, "127.0.0.1", 0)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    answers = []
    client = threading.Thread(target=lambda: answers.append(urllib.request.urlopen(
        f"http://127.0.0.1:{server.port}/", timeout=30).read()))
    client.start()
    time.sleep(0.5)  # the request is under way
    server.stop()
    client.join(timeout=30)
    runner.join(timeout=30)
    assert answers == [b"all of it"]
    assert not runner.is_alive()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), 2):
        pass
