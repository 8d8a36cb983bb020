"""The API pull: a system's records fetched from its REST API into a delivery's native files,
in the layout the source adapters read (`<delivery>/salesforce/Account.csv`, ...).

dlt's REST API source does the HTTP: the bearer token, the paging, retries on 429 and 5xx.
Salesforce's query resource (`queryAll`, which returns deleted records too, `IsDeleted`
true) pages by `nextRecordsUrl` until `done`; each page's `records` are written as CSV rows
with the queried fields as the header, in the query's order. The files of one pull are
written beside the delivery and moved in only when every object was fetched (a new delivery
folder appears whole): a failed pull leaves nothing half written.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from orchestration.lib.ingest.adapters.base import Mapping

SYSTEMS = ("salesforce",)
TOKEN_ENV = {"salesforce": "CVM_SALESFORCE_TOKEN"}
URL_ENV = {"salesforce": "CVM_SALESFORCE_URL"}
API_VERSION = "v62.0"
# the fields that the Salesforce adapter reads, per object in its file order; `pull.fields` of
# mappings/salesforce.yml replaces an object's list (e.g. without CurrencyIsoCode in an org
# without multiple currencies)
FIELDS = {
    "Account": ("Id", "Name", "Type", "Industry", "BillingCountryCode", "BillingState",
                "OwnerId", "CreatedDate", "CurrencyIsoCode", "IsDeleted", "LastModifiedDate",
                "SystemModstamp"),
    "Order": ("Id", "AccountId", "OrderNumber", "EffectiveDate", "Status", "CurrencyIsoCode",
              "IsDeleted", "LastModifiedDate", "SystemModstamp"),
    "OrderItem": ("Id", "OrderId", "OrderItemNumber", "Product2Id", "Quantity", "UnitPrice",
                  "TotalPrice", "IsDeleted", "LastModifiedDate", "SystemModstamp"),
    "Task": ("Id", "AccountId", "WhatId", "Subject", "Type", "ActivityDate",
             "CallDurationInSeconds", "OwnerId", "IsDeleted", "LastModifiedDate",
             "SystemModstamp"),
    "Event": ("Id", "AccountId", "WhatId", "Subject", "Type", "ActivityDate", "StartDateTime",
              "EndDateTime", "DurationInMinutes", "OwnerId", "IsDeleted", "LastModifiedDate",
              "SystemModstamp"),
}
# mapping settings that name a field of an object: the pull fetches that field as well
MAPPED_FIELDS = {"customer_since_field": "Account", "potential_field": "Account",
                 "order_item_cost_field": "OrderItem"}
EVERY = 2000  # a progress line per this many records of an object (a Salesforce page)


class PullError(RuntimeError):
    """A pull refused before any request; the message is one line."""


class FetchFailed(PullError):
    """The API refused or failed; the message is one line naming the object."""


@dataclass(frozen=True)
class Pulled:
    system: str
    folder: Path
    records: dict[str, int]  # object -> records written


def fields(mapping: Mapping) -> dict[str, tuple[str, ...]]:
    """The fields to query per object: FIELDS, as `pull.fields` of the mapping replaces them,
    with the fields that mapping settings name."""
    pull = mapping.get("pull") or {}
    if not isinstance(pull, dict):
        raise PullError(f"{mapping.path}: pull: expected a mapping of settings")
    wanted = {name: tuple(names) for name, names in FIELDS.items()}
    for name, names in (pull.get("fields") or {}).items():
        if name not in FIELDS or not isinstance(names, list) or "Id" not in names:
            raise PullError(f"{mapping.path}: pull.fields.{name}: expected a list of fields "
                            f"with Id of one of {', '.join(FIELDS)}")
        wanted[name] = tuple(str(n) for n in names)
    for setting, name in MAPPED_FIELDS.items():
        extra = mapping.get(setting)
        if extra and extra not in wanted[name]:
            wanted[name] += (str(extra),)
    return wanted


def soql(name: str, names: tuple[str, ...]) -> str:
    return f"SELECT {', '.join(names)} FROM {name}"


def cell(value) -> str:
    """A JSON value as the CSV of a Salesforce export writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def pull(system: str, base_url: str, out: Path, *, token: str | None = None,
         objects: tuple[str, ...] | None = None, mapping: Mapping | None = None,
         echo: Callable[[str], None] = print) -> Pulled:
    """Fetch the objects of `system` from its API at `base_url` into `<out>/<system>/`.
    The token comes from the environment (TOKEN_ENV) unless given."""
    if system not in SYSTEMS:
        raise PullError(f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")
    try:
        import dlt  # noqa: F401
    except ImportError:
        raise PullError("the pull needs dlt: pip install 'customer-value-warehouse[pull]' "
                        "(pyproject.toml, extra `pull`)") from None
    token = token or os.environ.get(TOKEN_ENV[system])
    if not token:
        raise PullError(f"no access token: set ${TOKEN_ENV[system]}")
    wanted = fields(mapping or Mapping(system))
    names = tuple(objects or wanted)
    unknown = [n for n in names if n not in wanted]
    if unknown:
        raise PullError(f"unknown object {', '.join(unknown)}; choose among "
                        f"{', '.join(wanted)}")
    folder = Path(out) / system
    present = [n for n in names if (folder / f"{n}.csv").exists()]
    if present:
        raise PullError(f"{folder} already holds {', '.join(f'{n}.csv' for n in present)}; "
                        "a pull writes a new delivery")
    # fetched beside the delivery (a folder whose name is not a date: no load reads it), then
    # moved in whole: the delivery, else its system's folder, else the files
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.pull-", dir=out.parent))
    try:
        staged = staging / system
        staged.mkdir()
        records = {name: _fetch(base_url, token, name, wanted[name], staged / f"{name}.csv",
                                echo) for name in names}
        if not out.exists():
            os.rename(staging, out)
        elif not folder.exists():
            os.rename(staged, folder)
        else:
            for name in names:
                os.replace(staged / f"{name}.csv", folder / f"{name}.csv")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Pulled(system, folder, records)


def _fetch(base_url: str, token: str, name: str, names: tuple[str, ...], path: Path,
           echo: Callable[[str], None]) -> int:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    from dlt.sources.rest_api import rest_api_resources

    config = {
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "auth": {"type": "bearer", "token": token},
            "paginator": {"type": "json_link", "next_url_path": "nextRecordsUrl"},
        },
        "resources": [{
            "name": name,
            "endpoint": {
                "path": f"services/data/{API_VERSION}/queryAll",
                "params": {"q": soql(name, names)},
                "data_selector": "records",
            },
        }],
    }
    count = 0
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(names)
            for resource in rest_api_resources(config):
                for record in resource:
                    writer.writerow([cell(record.get(n)) for n in names])
                    count += 1
                    if count % EVERY == 0:
                        echo(f"salesforce {name}: {count} records so far")
    except Exception as error:  # dlt wraps the HTTP error of the failed page
        raise FetchFailed(f"salesforce {name}: {_reason(error)}; nothing written") from error
    echo(f"salesforce {name}: {count} records")
    return count


def _reason(error: BaseException) -> str:
    """The HTTP status and the API's message of the error under dlt's wrappers."""
    from requests import HTTPError

    seen = error
    while seen is not None and not isinstance(seen, HTTPError):
        seen = seen.__cause__ or seen.__context__
    if seen is None or seen.response is None:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    response = seen.response
    try:
        body = response.json()
        message = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in body) \
            if isinstance(body, list) else json.dumps(body)
    except ValueError:
        message = response.text[:200]
    return f"HTTP {response.status_code} from {response.url.split('?')[0]} ({message})"
