"""The API pull (orchestration/lib/ingest/pull.py): Salesforce's queryAll served page by page
by a local HTTP server in the test, written into a delivery's native files, and read by the
Salesforce adapter into the extracts.

What the server holds (Salesforce's REST shape: `records` with `attributes`, `done`,
`nextRecordsUrl` on every page but the last):
- Account, 3 pages: 001P1 (page 1); 001P2 and 001P3, deleted (page 2); 001P4, a prospect
  (page 3).
- Task, 2 pages: 00TP1 a call of 1800 seconds (30 minutes, HOTLINE); 00TP2 research by
  WhatId, deleted (cancelled); 00TP3 an e-mail no rule maps (unmapped_service_type).
- Event, 1 page: 00UP1 a meeting of 180 minutes (TECH_INFO).
- Order 801P1 activated in EUR; OrderItem 802P1 (TotalPrice 1000.0) and 802P2 (2 x 250, no
  TotalPrice: 500).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from orchestration.cli import main
from orchestration.lib.ingest import pull as pull_module
from orchestration.lib.ingest.adapters import load_native
from orchestration.lib.ingest.adapters.base import Mapping
from orchestration.lib.ingest.pull import API_VERSION, PullError, fields, pull

TOKEN = "00Dtest!secret"
U1, U2 = "005000000000001AAA", "005000000000002AAA"  # owners named in mappings/salesforce.yml
STAMP = "2026-11-20T08:00:00.000+0000"
D = "2026-12-04"


def _record(kind: str, **fields) -> dict:
    base = {"IsDeleted": False, "LastModifiedDate": STAMP, "SystemModstamp": STAMP}
    return {"attributes": {"type": kind, "url": f"/services/data/{API_VERSION}/sobjects/"
                           f"{kind}/{fields['Id']}"}, **base, **fields}


def _account(id_, name, type_="Customer - Direct", deleted=False):
    return _record("Account", Id=id_, Name=name, Type=type_, Industry="Machinery",
                   BillingCountryCode="DE", BillingState="BY", OwnerId=U1,
                   CreatedDate="2020-01-15T09:00:00.000+0000", CurrencyIsoCode="EUR",
                   IsDeleted=deleted)


PAGES = {  # object -> its pages of records
    "Account": [[_account("001P1", "Acme GmbH")],
                [_account("001P2", "Beta AG"), _account("001P3", "Gamma Ltd", deleted=True)],
                [_account("001P4", "Delta KG", type_="Prospect")]],
    "Task": [[_record("Task", Id="00TP1", AccountId="001P1", WhatId=None, Subject="Hotline",
                      Type="Call", ActivityDate="2026-11-02", CallDurationInSeconds=1800,
                      OwnerId=U1)],
             [_record("Task", Id="00TP2", AccountId=None, WhatId="001P2", Subject="Parts",
                      Type="Research", ActivityDate="2026-11-03", CallDurationInSeconds=2700,
                      OwnerId=U1, IsDeleted=True),
              _record("Task", Id="00TP3", AccountId="001P1", WhatId=None, Subject="Newsletter",
                      Type="Email", ActivityDate="2026-11-04", CallDurationInSeconds=0,
                      OwnerId=U1)]],
    "Event": [[_record("Event", Id="00UP1", AccountId="001P1", WhatId=None,
                       Subject="Workshop", Type="Meeting", ActivityDate="2026-11-05",
                       StartDateTime="2026-11-05T08:00:00.000+0000",
                       EndDateTime="2026-11-05T11:00:00.000+0000", DurationInMinutes=180,
                       OwnerId=U2)]],
    "Order": [[_record("Order", Id="801P1", AccountId="001P1", OrderNumber="00000201",
                       EffectiveDate="2026-11-04", Status="Activated", CurrencyIsoCode="EUR")]],
    "OrderItem": [[_record("OrderItem", Id="802P1", OrderId="801P1",
                           OrderItemNumber="0000000001", Product2Id="01tP1", Quantity=10.0,
                           UnitPrice=100.0, TotalPrice=1000.0),
                   _record("OrderItem", Id="802P2", OrderId="801P1",
                           OrderItemNumber="0000000002", Product2Id="01tP2", Quantity=2.0,
                           UnitPrice=250.0, TotalPrice=None)]],
}


class _Salesforce(BaseHTTPRequestHandler):
    """queryAll?q=SELECT ... FROM <Object>, then query/<Object>-<page> as nextRecordsUrl."""

    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append(self.path)
        url = urlparse(self.path)
        prefix = f"/services/data/{API_VERSION}/"
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, [{"message": "Session expired or invalid",
                                     "errorCode": "INVALID_SESSION_ID"}])
        if url.path == prefix + "queryAll":
            query = parse_qs(url.query)["q"][0]
            name, page = query.rsplit(" FROM ", 1)[1], 0
        elif url.path.startswith(prefix + "query/"):
            name, page = url.path.rsplit("/", 1)[1].rsplit("-", 1)
            page = int(page)
        else:
            return self._send(404, [{"message": "not found", "errorCode": "NOT_FOUND"}])
        pages = PAGES[name]
        body = {"totalSize": sum(map(len, pages)), "done": page == len(pages) - 1,
                "records": pages[page]}
        if page < len(pages) - 1:
            body["nextRecordsUrl"] = f"{prefix}query/{name}-{page + 1}"
        self._send(200, body)

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def salesforce():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Salesforce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Salesforce.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_pull_follows_every_page_and_the_adapter_reads_what_was_served(
        con, tmp_path, salesforce, monkeypatch, capsys):
    monkeypatch.setenv("CVM_SALESFORCE_TOKEN", TOKEN)
    monkeypatch.setattr(pull_module, "EVERY", 2)  # a progress line per 2 records
    landing = tmp_path / "landing"
    assert main(["pull", "--system", "salesforce", "--base-url", salesforce,
                 "--out", str(landing / D)]) == 0
    out = capsys.readouterr().out
    account = [line for line in out.splitlines() if line.startswith("salesforce Account")]
    assert account == ["salesforce Account: 2 records so far",
                       "salesforce Account: 4 records so far", "salesforce Account: 4 records"]
    assert "salesforce: 11 records of 5 objects written to" in out
    # three requests for Account's three pages: the query, then the two nextRecordsUrl
    accounts = [r for r in _Salesforce.requests
                if "/Account-" in r or parse_qs(urlparse(r).query).get("q", [""])[0].endswith(
                    " FROM Account")]
    assert [urlparse(r).path.rsplit("/", 1)[1] for r in accounts] == [
        "queryAll", "Account-1", "Account-2"]
    folder = landing / D / "salesforce"
    assert sorted(p.name for p in folder.iterdir()) == [
        "Account.csv", "Event.csv", "Order.csv", "OrderItem.csv", "Task.csv"]
    lines = (folder / "Account.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("Id,Name,Type,Industry,BillingCountryCode,BillingState,OwnerId,"
                        "CreatedDate,CurrencyIsoCode,IsDeleted,LastModifiedDate,"
                        "SystemModstamp")
    assert lines[3] == (f"001P3,Gamma Ltd,Customer - Direct,Machinery,DE,BY,{U1},"
                        f"2020-01-15T09:00:00.000+0000,EUR,true,{STAMP},{STAMP}")
    assert (folder / "OrderItem.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        f"802P1,801P1,0000000001,01tP1,10,100,1000,false,{STAMP},{STAMP}",
        f"802P2,801P1,0000000002,01tP2,2,250,,false,{STAMP},{STAMP}"]

    for entity in ("customers", "orders", "service_activities"):
        load_native(con, landing, D, entity)
    assert con.execute("select customer_id, customer_name, status, source_file, line_number "
                       "from raw.customers order by customer_id").fetchall() == [
        ("001P1", "Acme GmbH", "active", f"{D}/salesforce/Account.csv", 2),
        ("001P2", "Beta AG", "active", f"{D}/salesforce/Account.csv", 3),
        ("001P3", "Gamma Ltd", "inactive", f"{D}/salesforce/Account.csv", 4),
        ("001P4", "Delta KG", "prospect", f"{D}/salesforce/Account.csv", 5),
    ]
    assert con.execute("select activity_id, customer_id, service_type_code, duration_minutes, "
                       "employee_id, status, line_number from raw.service_activities "
                       "order by activity_id").fetchall() == [
        ("00TP1", "001P1", "HOTLINE", Decimal("30"), "E-INSIDE-1", "done", 2),
        ("00TP2", "001P2", "RESEARCH", Decimal("45"), "E-INSIDE-1", "cancelled", 3),
        ("00UP1", "001P1", "TECH_INFO", Decimal("180"), "E-FIELD-1", "done", 2),
    ]
    assert con.execute("select order_id, line_no, customer_id, order_date, net_revenue_eur "
                       "from raw.orders order by line_no").fetchall() == [
        ("00000201", 1, "001P1", dt.date(2026, 11, 4), Decimal("1000")),
        ("00000201", 2, "001P1", dt.date(2026, 11, 4), Decimal("500")),
    ]
    assert con.execute("select source_file, line_number, reason from audit.rejected_rows"
                       ).fetchall() == [(f"{D}/salesforce/Task.csv", 4, "unmapped_service_type")]


def test_a_refused_token_writes_nothing_and_names_the_object(tmp_path, salesforce):
    with pytest.raises(PullError) as refused:
        pull("salesforce", salesforce, tmp_path / D, token="wrong")
    message = str(refused.value)
    assert message.startswith("salesforce Account: HTTP 401 from ")
    assert "INVALID_SESSION_ID: Session expired or invalid" in message
    assert message.endswith("; nothing written")
    assert list(tmp_path.iterdir()) == []  # no delivery, nothing left beside it


def test_cvm_pull_says_in_one_line_what_the_api_refused(tmp_path, salesforce, monkeypatch,
                                                         capsys):
    monkeypatch.setenv("CVM_SALESFORCE_TOKEN", "expired")
    monkeypatch.setenv("CVM_SALESFORCE_URL", salesforce)
    assert main(["pull", "--system", "salesforce", "--out", str(tmp_path / D)]) == 1
    err = capsys.readouterr().err
    assert err == (f"cvm pull: salesforce Account: HTTP 401 from {salesforce}/services/data/"
                   f"{API_VERSION}/queryAll (INVALID_SESSION_ID: Session expired or invalid); "
                   "nothing written\n")


def test_the_token_comes_from_the_environment_only(tmp_path, salesforce, monkeypatch, capsys):
    monkeypatch.delenv("CVM_SALESFORCE_TOKEN", raising=False)
    assert main(["pull", "--system", "salesforce", "--base-url", salesforce,
                 "--out", str(tmp_path / D)]) == 2
    assert capsys.readouterr().err == "cvm pull: no access token: set $CVM_SALESFORCE_TOKEN\n"
    assert _Salesforce.requests == []


def test_a_delivery_that_holds_the_file_already_is_refused(tmp_path, salesforce):
    folder = tmp_path / D / "salesforce"
    folder.mkdir(parents=True)
    (folder / "Task.csv").write_text("Id\n00T1\n", encoding="utf-8")
    with pytest.raises(PullError, match=r"already holds Task.csv; a pull writes a new delivery"):
        pull("salesforce", salesforce, tmp_path / D, token=TOKEN)
    assert _Salesforce.requests == []
    assert (folder / "Task.csv").read_text(encoding="utf-8") == "Id\n00T1\n"
    # an object the delivery lacks is added beside the files it holds
    done = pull("salesforce", salesforce, tmp_path / D, token=TOKEN, objects=("Event",),
                echo=lambda line: None)
    assert done.records == {"Event": 1}
    assert sorted(p.name for p in folder.iterdir()) == ["Event.csv", "Task.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [D]


def test_the_mapping_chooses_the_fields(tmp_path):
    (tmp_path / "salesforce.yml").write_text(
        "potential_field: Potential__c\n"
        "pull: {fields: {Order: [Id, AccountId, OrderNumber, EffectiveDate, Status]}}\n",
        encoding="utf-8")
    wanted = fields(Mapping("salesforce", tmp_path))
    assert wanted["Order"] == ("Id", "AccountId", "OrderNumber", "EffectiveDate", "Status")
    assert wanted["Account"][-2:] == ("SystemModstamp", "Potential__c")
    assert wanted["Task"] == pull_module.FIELDS["Task"]
    (tmp_path / "salesforce.yml").write_text("pull: {fields: {Order: [Name]}}\n",
                                             encoding="utf-8")
    with pytest.raises(PullError, match=r"salesforce.yml: pull.fields.Order: expected a list"):
        fields(Mapping("salesforce", tmp_path))
