"""`cvm`: the project's console command."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from orchestration import settings
from orchestration.commands import COMMANDS


def _generate(args: argparse.Namespace) -> int:
    from orchestration.lib.progress import Progress
    from orchestration.lib.sample.generator import generate_sample

    with Progress("sample") as progress:
        summary = generate_sample(
            Path(args.out),
            customers=args.customers,
            years=args.years,
            seed=args.seed,
            dialect=args.dialect,
            with_errors=args.with_errors,
            end_date=date.fromisoformat(args.end_date),
            deltas=args.deltas,
            progress=progress,
            capacity_out=Path(args.capacity_out) if args.capacity_out else None,
        )
    totals = ", ".join(f"{entity}.csv {rows:,}" for entity, rows in summary["rows"].items())
    folders = len(summary["folders"])
    print(f"sample written to {args.out}: {folders:,} deliver{'y' if folders == 1 else 'ies'}; "
          f"rows: {totals}")
    if args.native:
        from orchestration.lib.sample.native import write_native

        latest = max(date.fromisoformat(Path(f).name) for f in summary["folders"])
        written = write_native(Path(args.out), latest, args.customers)
        print(f"native files in {latest.isoformat()}: "
              + ", ".join(f"{name} {rows:,}" for name, rows in written.items()))
    return 0


def _load(args: argparse.Namespace) -> int:
    from orchestration.lib.warehouse.dbt_build import describe

    try:
        engine_kind = settings.engine_kind(args.engine)
    except ValueError as error:
        print(f"cvm load: FAILED: {error}", flush=True)
        return 2
    landing_dir = settings.landing_dir(args.landing)
    warehouse = settings.warehouse_path(args.warehouse)
    print(f"engine: {describe(engine_kind)}", flush=True)
    print(f"cvm load: landing {landing_dir} -> warehouse {warehouse}", flush=True)
    try:
        return _run_load(args, landing_dir, warehouse, engine_kind)
    except KeyboardInterrupt:  # before the load proper: nothing to undo
        print("cvm load: INTERRUPTED; nothing published", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one line here, the traceback in the log
        from orchestration.lib.warehouse.store import Store

        log = _log_traceback(Store(warehouse, engine_kind).log)
        print(f"cvm load: FAILED: {type(error).__name__}: {error}"
              + (f" (traceback in {log})" if log else ""), file=sys.stderr)
        return 1


def _run_load(args: argparse.Namespace, landing_dir: Path, warehouse: Path,
              engine_kind: str) -> int:
    from orchestration.lib.ingest import suite_server

    # GX's import in the load's suite server, beside the load's own imports that follow
    suite_server.start_early(warehouse)
    from orchestration.lib.reports.summary import print_summary
    from orchestration.runner import LoadError, run_load

    try:
        outcome = run_load(landing_dir, warehouse, full_refresh=args.full_refresh,
                           dbt_vars=args.vars or "", engine_kind=engine_kind)
    except LoadError as error:
        print(f"cvm load: {error}", file=sys.stderr)
        return 2
    finally:
        suite_server.discard_early()  # not taken: the load ended before it held the lock
    if outcome.exit_code == 0 and warehouse.exists():
        try:
            print_summary(warehouse, outcome.loaded, files=outcome.files)
        except KeyboardInterrupt:  # the load has ended: what it published is said above
            print("cvm load: INTERRUPTED while printing the summary; the load itself had "
                  "ended, as said above", file=sys.stderr)
            return 130
    return outcome.exit_code


def _log_traceback(log: Path) -> Path | None:
    """Append the current exception's traceback to the load's log; the log, or None when it
    cannot be written either."""
    import traceback

    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
    except OSError:
        return None
    return log


def _chart(args: argparse.Namespace) -> int:
    from orchestration.lib.reports.capacity import (
        capacity_chart,
        capacity_rows_of,
        capacity_table,
    )
    from orchestration.lib.reports.chart import portfolio_chart
    from orchestration.lib.reports.payback import payback_chart
    from orchestration.lib.reports.whale import whale_chart

    warehouse = settings.warehouse_path(args.warehouse)
    out = Path(args.out or f"reports/{args.kind}.png")
    draw = {"portfolio": portfolio_chart, "whale": whale_chart,
            "payback": payback_chart, "capacity": capacity_chart}[args.kind]
    options = {"grid": args.grid} if args.kind == "portfolio" else {}
    drawn = draw(warehouse, out, period=args.period, lang=args.lang, **options)
    label = _terminal_period(warehouse, args.period, args.kind)
    print(f"{args.kind} chart of {label} written to {drawn.path}")
    if args.kind == "capacity":  # and the unused capacity per department, as a short table
        print("\n".join(capacity_table(capacity_rows_of(warehouse, args.period), label)))
    return 0


def _terminal_period(warehouse: Path, wanted: str | None, kind: str = "") -> str:
    """The period a report was made of, as the terminal names it (English, ISO dates), whatever
    the report's language; of the payback chart, its period t and t + 1."""
    from orchestration.lib.reports.payback import choose_payback_period
    from orchestration.lib.reports.periods import choose_period, terminal_label
    from orchestration.lib.reports.warehouse import Warehouse

    with Warehouse(warehouse).reader() as con:
        if kind == "payback":
            period, after = choose_payback_period(con, wanted)
            return f"{terminal_label(period)} to {terminal_label(after)}"
        return terminal_label(choose_period(con, wanted))


def _export(args: argparse.Namespace) -> int:
    from orchestration.lib.reports.export import build_export
    from orchestration.lib.reports.periods import terminal_label
    from orchestration.lib.reports.sheets import write_csv, write_xlsx

    export = build_export(settings.warehouse_path(args.warehouse), args.period, args.lang)
    stem = f"reports/export-{export.period.key}"
    if args.format == "xlsx":
        out = write_xlsx(export, Path(args.out or f"{stem}.xlsx"))
        print(f"export of {terminal_label(export.period)} written to {out}")
    else:
        files = write_csv(export, Path(args.out or stem))
        print(f"export of {terminal_label(export.period)} written to {files[0].parent}: "
              + ", ".join(path.name for path in files))
    return 0


def _docs(args: argparse.Namespace) -> int:
    from orchestration.lib.docs_site import DocsError, build_docs, serve

    warehouse = settings.warehouse_path(args.warehouse)
    try:
        page = build_docs(warehouse, Path(args.out))
    except DocsError as error:
        print(f"cvm docs: {error}", file=sys.stderr)
        return 1
    print(f"dbt docs of {warehouse} (a read-only snapshot) written to {page}")
    if args.serve:
        server = serve(page.parent, args.port)
        host, port = server.server_address[:2]
        print(f"serving http://{host}:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from orchestration.cockpit.app import serve

    try:
        mode = settings.auth_mode("none" if args.no_auth else args.auth)
    except ValueError as error:
        print(f"cvm serve: {error}", file=sys.stderr)
        return 2
    warehouse = settings.warehouse_path(args.warehouse)
    users = settings.users_file(args.users) if mode == "users" else None
    sign_in = {
        "users": f"sign-in: users file {users}",
        "oidc": "sign-in: OpenID Connect, issuer "
                + settings.env_text("CVM_OIDC_ISSUER", "(CVM_OIDC_ISSUER unset)"),
        "none": "sign-in: NONE - nobody is signed in and every customer is shown; "
                "this machine only (127.0.0.1)",
    }[mode]

    def ready(port: int, threads: int) -> None:
        print(f"cockpit on http://{args.host}:{port}/portfolio  (warehouse {warehouse}, "
              "read-only; Ctrl+C or SIGTERM stops it)\n"
              f"{sign_in}\n"
              f"server: Waitress, {threads} threads; requests are not logged, errors are; "
              "views and downloads go to the audit trail", flush=True)

    try:
        serve(warehouse, host=args.host, port=args.port, auth=mode, users=users, ready=ready)
    except ValueError as error:
        print(f"cvm serve: {error}", file=sys.stderr)
        return 2
    return 0


def _users(args: argparse.Namespace) -> int:
    from orchestration.cockpit.users import UsersFileError, add_user, read_users, remove_user

    path = settings.users_file(args.users)
    try:
        if args.action == "add":
            if not args.password_stdin:
                print("cvm users add: give the password on standard input (--password-stdin)",
                      file=sys.stderr)
                return 2
            password = sys.stdin.readline().rstrip("\r\n")
            managers = tuple(m.strip() for value in args.account_manager or ()
                             for m in value.split(",") if m.strip())
            user = add_user(path, args.name, args.role, password, managers, args.region)
            print(f"{user.name} ({user.role}) saved in {path}")
        elif args.action == "remove":
            remove_user(path, args.name)
            print(f"{args.name} removed from {path}")
        else:
            users = read_users(path)
            for user in users.values():
                scope = ", ".join(filter(None, [
                    "account managers " + ",".join(user.account_managers)
                    if user.account_managers else "",
                    f"region {user.region}" if user.region else ""])) or "every customer"
                print(f"{user.name}\t{user.role}\t{scope}")
            if not users:
                print(f"no users in {path}")
    except UsersFileError as error:
        print(f"cvm users {args.action}: {error}", file=sys.stderr)
        return 2
    return 0


def _statement(args: argparse.Namespace) -> int:
    from orchestration.lib.reports.statement import write_statement
    from orchestration.lib.reports.warehouse import Warehouse

    pdf, html = write_statement(
        Warehouse(settings.warehouse_path(args.warehouse)), args.customer_id,
        Path(args.out) if args.out else None,
        period=args.period, start=args.start, end=args.end, lang=args.lang,
    )
    print(f"statement written to {pdf} and {html}")
    return 0


def _writeback(args: argparse.Namespace) -> int:
    from orchestration.lib.reports.periods import terminal_label
    from orchestration.lib.writeback import TARGETS, write_back

    if args.target not in TARGETS:  # one line, as every other refusal (not argparse's two)
        print(f"cvm writeback: unknown target {args.target!r}; choose one of "
              f"{', '.join(TARGETS)}", file=sys.stderr)
        return 2
    from orchestration.lib.warehouse.lock import WarehouseBusy
    from orchestration.runner import EXIT_BUSY

    warehouse = settings.warehouse_path(args.warehouse)
    try:
        done = write_back(warehouse, args.target, Path(args.out) if args.out else None,
                          args.period, everyone=args.all,
                          on_wait=lambda line: print(line, file=sys.stderr, flush=True))
    except (WarehouseBusy, ValueError) as error:  # a load holds the lock; CVM_WRITER_WAIT
        print(f"cvm writeback: {error}; nothing written", file=sys.stderr)
        return EXIT_BUSY if isinstance(error, WarehouseBusy) else 2
    which = "every customer" if args.all else "changed since the last write-back"
    print(f"{args.target} write-back of {terminal_label(done.period)} written to {done.path}: "
          f"{done.customers} of {done.of} customers ({which})"
          + ("" if done.customers else "; the file holds only the header"))
    return 0


def _pull(args: argparse.Namespace) -> int:
    import os

    from orchestration.lib.ingest.pull import URL_ENV, FetchFailed, PullError, pull

    base_url = args.base_url or os.environ.get(URL_ENV.get(args.system, ""), "")
    if not base_url:
        print(f"cvm pull: no base URL: give --base-url or set ${URL_ENV.get(args.system)}",
              file=sys.stderr)
        return 2
    objects = tuple(o.strip() for o in args.objects.split(",")) if args.objects else None
    try:
        done = pull(args.system, base_url, Path(args.out), objects=objects,
                    echo=lambda line: print(line, flush=True))
    except PullError as error:
        print(f"cvm pull: {error}", file=sys.stderr)
        return 1 if isinstance(error, FetchFailed) else 2
    total = sum(done.records.values())
    print(f"{args.system}: {total} records of {len(done.records)} objects written to "
          f"{done.folder}")
    return 0


WAREHOUSE_HELP = ("published catalog (default: $CVM_WAREHOUSE, else the demo's "
                  "data/demo/warehouse.duckdb); its files are in <name>.store/ beside it")
USERS_HELP = ("the users file (default: $CVM_USERS_FILE, else data/cockpit-users.json)")
LANDING_HELP = ("landing root (default: $CVM_LANDING_DIR, else the demo's sample folder "
                "data/demo/landing)")




PERIOD_HELP = "e.g. 2026 or 2026-Q4 (default: the latest)"


def language_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """`--lang`: one of the reports' languages, German unless given."""
    from orchestration.lib.reports.translations import DEFAULT_LANGUAGE, LANGUAGES

    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help=help_text)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default at the end of its help, unless the help names it already or there
    is none to name (a flag, or a default that the help explains)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return super()._get_help_string(action)


def version() -> str:
    """`cvm --version`: the project's version and those of the tools that build the marts."""
    from importlib.metadata import version as installed

    tools = ", ".join(f"{name} {installed(name)}" for name in ("dbt-core", "dagster", "duckdb"))
    return f"cvm {installed('customer-value-warehouse')} ({tools})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvm",
        description="Customer-value warehouse: generate, load, chart, export, docs, serve, "
        "statement, writeback, pull. `cvm COMMAND --help` describes a command and its defaults.",
    )
    parser.add_argument("--version", action="version", version=version())
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run) -> argparse.ArgumentParser:
        """The command `name` (its words in COMMANDS), run by `run(args)`."""
        summary, description = COMMANDS[name]
        parser = sub.add_parser(name, help=summary, description=description,
                                formatter_class=_HelpFormatter)
        parser.set_defaults(func=run)
        return parser

    gen = command("generate-sample", _generate)
    gen.add_argument("--out", required=True, help="landing root to write into")
    gen.add_argument("--customers", type=int, default=120,
                     help="customers in the history (default: %(default)s)")
    gen.add_argument("--years", type=int, default=3,
                     help="years of history before the initial delivery (default: %(default)s)")
    gen.add_argument("--seed", type=int, default=42,
                     help="random seed; a seed gives the same files (default: %(default)s)")
    gen.add_argument("--dialect", choices=["utf8", "german"], default="utf8",
                     help="utf8: ',' and ISO dates; german: ';', decimal comma, cp1252")
    gen.add_argument("--with-errors", action="store_true",
                     help="mix in rows that break each row rule (every reason code; "
                     "invalid_encoding in the utf8 dialect only)")
    gen.add_argument("--end-date", default="2026-11-20",
                     help="extract date of the initial history delivery")
    gen.add_argument("--deltas", type=int, default=3, help="nightly deltas after it")
    gen.add_argument("--native", action="store_true",
                     help="also write a few SAP billing documents (sap/VBRK.csv, VBRP.csv) and "
                     "Salesforce tasks and events (salesforce/Task.csv, Event.csv) of the "
                     "sample's customers into the latest delivery")
    gen.add_argument("--capacity-out", metavar="CSV",
                     help="also write capacity data of the sample's departments there, in the "
                          "form of the seed capacity_inputs (default: none)")

    load = command("load", _load)
    load.add_argument("--landing", help=LANDING_HELP)
    load.add_argument("--warehouse", help=WAREHOUSE_HELP)
    load.add_argument("--full-refresh", action="store_true",
                      help="rebuild every model from the raw zone instead of the delta")
    load.add_argument("--vars", metavar="YAML",
                      help="dbt vars for this run, e.g. '{period_grain: quarter}' (over "
                      "dbt_project.yml and $CVM_DBT_VARS); changed vars rebuild everything")
    load.add_argument("--engine", choices=settings.ENGINE_KINDS,
                      help="where dbt builds (default: $CVM_ENGINE, else duckdb): duckdb, "
                      "embedded, or spark, the same models on Apache Spark (profiles.yml "
                      "target `spark`); the published warehouse is the same DuckDB file")

    chart = command("chart", _chart)
    chart.add_argument("--warehouse", help=WAREHOUSE_HELP)
    chart.add_argument("--kind", choices=["portfolio", "whale", "payback", "capacity"],
                       default="portfolio",
                       help="portfolio: classic value against value transfer; whale: "
                       "cumulative profit after service over the customers; payback: value "
                       "transfer in the period against the margin change to the next one; "
                       "capacity: used (by transfer kind) against unused capacity per "
                       "department")
    chart.add_argument("--period", help=PERIOD_HELP + "; payback: the period of the value "
                       "transfer, by default the latest with a following period")
    language_option(chart, "language of the labels and the number formats")
    chart.add_argument("--grid", action="store_true",
                       help="portfolio: draw the finer grid of the value bands")
    chart.add_argument("--out", help="PNG file (default: reports/<kind>.png)")

    export = command("export", _export)
    export.add_argument("--warehouse", help=WAREHOUSE_HELP)
    export.add_argument("--period", help=PERIOD_HELP)
    export.add_argument("--format", choices=["xlsx", "csv"], default="xlsx",
                        help="one workbook, or one CSV file per table")
    language_option(export, "headings and formats; CSV: de = the German Excel dialect "
                    "(';', decimal comma, UTF-8 with BOM), en = the standard one")
    export.add_argument("--out", help="xlsx file, or the folder of the CSV files "
                        "(default: reports/export-<period>.xlsx or reports/export-<period>/)")

    docs = command("docs", _docs)
    docs.add_argument("--warehouse", help=WAREHOUSE_HELP)
    docs.add_argument("--out", default="data/docs", help="folder of the site")
    docs.add_argument("--serve", action="store_true",
                      help="serve the site on http://127.0.0.1:PORT/ until Ctrl-C")
    docs.add_argument("--port", type=int, default=8080, help="port of --serve")

    serve = command("serve", _serve)
    serve.add_argument("--warehouse", help=WAREHOUSE_HELP)
    serve.add_argument("--port", type=int, default=8050, help="port to listen on")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (0.0.0.0 for the whole network)")
    serve.add_argument("--auth", choices=settings.AUTH_MODES,
                       help="sign-in (default: $CVM_AUTH, else users): a users file, the "
                       "company's OpenID Connect provider, or none (127.0.0.1 only)")
    serve.add_argument("--no-auth", action="store_true",
                       help="the same as --auth none: nobody signs in, this machine only")
    serve.add_argument("--users", metavar="FILE", help=USERS_HELP)

    users = command("users", _users)
    users_sub = users.add_subparsers(dest="action", required=True)
    add = users_sub.add_parser("add", help="add a user, or replace one of the same name",
                               formatter_class=_HelpFormatter)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("sales", "sales_lead", "controller",
                                                         "admin"),
                     help="sales: their account manager's customers; sales_lead: a region or "
                     "a list of account managers; controller, admin: every customer (admin "
                     "also reads the audit trail)")
    add.add_argument("--account-manager", action="append", metavar="M",
                     help="the account manager id as in the customers extract (sales: one; "
                     "sales_lead: repeat it, or separate with commas)")
    add.add_argument("--region", metavar="R", help="sales_lead: the region they see")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.add_argument("--users", metavar="FILE", help=USERS_HELP)
    remove = users_sub.add_parser("remove", help="remove a user",
                                  formatter_class=_HelpFormatter)
    remove.add_argument("name")
    remove.add_argument("--users", metavar="FILE", help=USERS_HELP)
    listing = users_sub.add_parser("list", help="the users, their roles and scopes",
                                   formatter_class=_HelpFormatter)
    listing.add_argument("--users", metavar="FILE", help=USERS_HELP)

    statement = command("statement", _statement)
    statement.add_argument("customer_id", help="e.g. K000060")
    statement.add_argument("--warehouse", help=WAREHOUSE_HELP)
    statement.add_argument("--period", help="a period, e.g. 2026 (default: the latest)")
    statement.add_argument("--from", dest="start", help="first period or date (YYYY-MM-DD)")
    statement.add_argument("--to", dest="end", help="last period or date (YYYY-MM-DD)")
    language_option(statement, "language of the statement")
    statement.add_argument(
        "--out", help="PDF to write; the HTML goes beside it "
                      "(default: reports/statements/<customer>_<period>_<lang>.pdf)")

    writeback = command("writeback", _writeback)
    writeback.add_argument("--target", required=True,
                           help="salesforce, hubspot, dynamics or zendesk")
    writeback.add_argument("--warehouse", help=WAREHOUSE_HELP)
    writeback.add_argument("--period", help=PERIOD_HELP)
    writeback.add_argument("--out", help="CSV file to write (default: "
                           "reports/writeback/<target>-<period>-<date-time>.csv)")
    writeback.add_argument("--all", action="store_true",
                           help="every customer of the period, changed or not (e.g. after "
                           "the CRM was restored)")

    pull_ = command("pull", _pull)
    pull_.add_argument("--system", required=True, choices=["salesforce"],
                       help="the system to fetch from")
    pull_.add_argument("--base-url", help="the instance's URL, e.g. "
                       "https://example.my.salesforce.com (default: $CVM_SALESFORCE_URL)")
    pull_.add_argument("--out", required=True,
                       help="the delivery folder to write into, e.g. <landing>/2026-12-04")
    pull_.add_argument("--objects", help="objects to fetch, comma-separated (default: "
                       "Account, Order, OrderItem, Task, Event)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from orchestration.lib.reports.errors import ReportError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ReportError as error:  # every report's refusal: one line naming the warehouse
        text = str(error)
        warehouse = str(settings.warehouse_path(getattr(args, "warehouse", None)))
        if not text.startswith(warehouse):
            text = f"{warehouse}: {text}"
        print(f"cvm {args.command}: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
