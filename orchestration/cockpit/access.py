"""Who may see which customers: the viewer of a request and the warehouse as that viewer sees it.

Row-level access is enforced in one place, :func:`reader`. It hands out a cursor on the
published warehouse on which the plain name of every relation of the marts (``customer_value``)
is what the viewer may see: for a viewer who sees everything the mart itself (the cursor's
search path is the schema ``marts``), for a restricted viewer a view of the same name with only
the rows of the customers in their scope (``customer_id in (their customers)``). A restricted
scope's views live in a schema of their own in the in-memory database that reads one version of
the published file; they are made by the first request of that scope and reused by every later
one until a load publishes a new version (a request then only sets its cursor's search path). The
cockpit's queries (queries.py) name the marts without the schema (``from customer_value``), so
they read these and nothing else; a query of the cockpit that names ``marts.`` is a
mistake, and tests/test_cockpit_access.py fails on it. A relation of the marts without a
``customer_id`` column is left out for a restricted viewer unless it holds no customer's figures
(UNSCOPED_RELATIONS): a query of it then fails instead of showing company totals.

Roles (settings: the users file or the identity provider's claims):
  sales       the customers whose ``account_manager`` is theirs;
  sales_lead  the customers of their region, or of their list of account managers;
  controller  every customer;
  admin       every customer, and the audit trail.

With a pseudonym key set (settings.pseudonym_key), the marts hold the account managers'
pseudonyms: a viewer's account-manager ids are turned into the same pseudonyms here.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from orchestration import settings
from orchestration.lib.ingest.personal import pseudonym
from orchestration.lib.reports.warehouse import Warehouse
from orchestration.lib.sql import sql_literal

ROLES = ("sales", "sales_lead", "controller", "admin")
SEE_ALL = ("controller", "admin")
# relations of the marts without customer_id that hold no customer's figures
UNSCOPED_RELATIONS = frozenset({"dim_service_types", "clv_model"})
SCOPE_TABLE = "cvm_viewer_customers"  # a restricted scope's customer ids, in its schema
SCOPE_CATALOG = "memory"  # the in-memory database that attaches the published file
_SCOPE_LOCK = threading.Lock()  # one request makes a scope's schema; the others wait for it


class AccessError(ValueError):
    """A viewer that cannot be: an unknown role, or a sales role without its accounts."""


@dataclass(frozen=True)
class Viewer:
    """The person behind a request: name, role and the accounts the role is bound to."""

    name: str
    role: str
    account_managers: tuple[str, ...] = ()
    region: str | None = None
    signed_in: bool = True

    def __post_init__(self):
        if self.role not in ROLES:
            raise AccessError(f"role {self.role!r} is unknown; give one of {', '.join(ROLES)}")
        if self.role == "sales" and len(self.account_managers) != 1:
            raise AccessError(f"{self.name}: role sales needs exactly one account manager")
        if self.role == "sales_lead" and not (self.region or self.account_managers):
            raise AccessError(f"{self.name}: role sales_lead needs a region or account managers")

    @property
    def sees_all(self) -> bool:
        return self.role in SEE_ALL

    def customer_predicate(self) -> str | None:
        """SQL on ``marts.dim_customers`` (no alias) selecting this viewer's customers; None
        for a viewer who sees every customer."""
        if self.sees_all:
            return None
        key = settings.pseudonym_key()
        managers = [pseudonym(key, m) if key else m for m in self.account_managers]
        clauses = []
        if managers:
            clauses.append(f"account_manager in ({', '.join(map(sql_literal, managers))})")
        if self.region:
            clauses.append(f"region = {sql_literal(self.region)}")
        return " or ".join(clauses)


# Who sees everything without signing in: `cvm serve --no-auth` on 127.0.0.1 only.
NOBODY = Viewer(name="", role="admin", signed_in=False)


@dataclass
class _Relations:
    identity: object = None
    with_customer: dict[str, bool] = field(default_factory=dict)


def _relations(warehouse: Warehouse, con) -> dict[str, bool]:
    """Each relation of the marts -> whether it has a customer_id column (per version)."""
    cache = warehouse.__dict__.setdefault("_access_relations", _Relations())
    identity = warehouse._identity  # noqa: SLF001 - the version the cursor reads
    if cache.identity != identity or not cache.with_customer:
        rows = con.execute(
            """
            select table_name, bool_or(column_name = 'customer_id')
            from duckdb_columns()
            where database_name = current_database() and schema_name = 'marts'
            group by table_name
            """
        ).fetchall()
        cache.with_customer = dict(rows)
        cache.identity = identity
    return cache.with_customer


def scope_schema(predicate: str) -> str:
    """The schema of the views of one restricted scope (the same predicate, the same name)."""
    return "viewer_" + hashlib.sha256(predicate.encode()).hexdigest()[:16]


def scope_views(con, relations: dict[str, bool], viewer: Viewer) -> None:
    """The marts as ``viewer`` may see them, under their plain names, on cursor ``con``.

    A restricted viewer's customer ids are read into a table of the scope's own schema, and a
    view of each relation keeps the rows of those customers. The schema is made once per
    version of the published file (it lives in that version's in-memory database, which a new
    version replaces), in one transaction, so that no request sees half of it."""
    predicate = viewer.customer_predicate()
    if predicate is None:
        # every row: the plain names are the marts themselves, found on the search path
        con.execute("set search_path = 'marts'")
        return
    schema = f"{SCOPE_CATALOG}.{scope_schema(predicate)}"
    with _SCOPE_LOCK:
        made = con.execute(
            "select count(*) from duckdb_schemas() where database_name = ? and schema_name = ?",
            [SCOPE_CATALOG, scope_schema(predicate)]).fetchone()[0]
        if not made:
            statements = ["begin transaction;", f"create schema {schema};",
                          f"create table {schema}.{SCOPE_TABLE} as select customer_id "
                          f"from warehouse.marts.dim_customers where {predicate};"]
            for name, has_customer in sorted(relations.items()):
                source = f"warehouse.marts.{name}"
                if name in UNSCOPED_RELATIONS:
                    body = f"select * from {source}"
                elif has_customer:
                    body = (f"select * from {source} where customer_id in "
                            f"(select customer_id from {schema}.{SCOPE_TABLE})")
                else:
                    continue
                statements.append(f"create view {schema}.{name} as {body};")
            statements.append("commit;")
            con.execute("\n".join(statements))
    # the published file's own schemas stay first, so that a qualified ``marts.`` name (the
    # periods) keeps its meaning; its schema `main` holds nothing, so a plain name is the view
    con.execute(f"set search_path = 'warehouse.main,{schema}'")


@contextmanager
def reader(warehouse: Warehouse, viewer: Viewer) -> Iterator:
    """A cursor on the published warehouse that shows ``viewer`` their rows only."""
    with warehouse.reader() as con:
        scope_views(con, _relations(warehouse, con), viewer)
        yield con


def can_see(con, customer_id: str) -> bool:
    """Whether the customer is one of the cursor's viewer's (a cursor from :func:`reader`)."""
    return con.execute("select count(*) from dim_customers where customer_id = ?",
                       [customer_id]).fetchone()[0] > 0


def may_read_audit(viewer: Viewer) -> bool:
    return viewer.role == "admin"
