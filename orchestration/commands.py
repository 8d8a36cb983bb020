"""The words of `cvm --help`: each command's line there, and its description in
`cvm COMMAND --help` (cli.py builds the parser)."""

COMMANDS = {
    "generate-sample": (
        "write realistic sample landing folders",
        "Write sample landing folders: an initial history delivery of customers, orders and "
        "service activities, then nightly deltas, in the layout <out>/<YYYY-MM-DD>/*.csv "
        "that `cvm load` reads. The same seed gives the same files."),
    "load": (
        "load new deliveries, build, check and publish",
        "Load the deliveries of the landing root that are not loaded yet, build the dbt "
        "project, run its checks and tests, and publish the warehouse only when every blocking "
        "check passed. Exit code 0: published, or nothing new; 1: failed, nothing published; "
        "2: refused before anything ran; 130: interrupted, nothing published (one that "
        "comes as the new catalog replaces the old one acts once that is done, and the last "
        "line names the version published)."),
    "chart": (
        "portfolio, whale, payback or capacity chart of a period as PNG",
        "Draw a period's portfolio (classic value against value transfer, per customer), "
        "its whale curve (cumulative profit after service), its payback (value transfer "
        "against the margin change to the next period, per segment: an association, not "
        "proof of cause) or its capacity (used against unused, per department) from the "
        "published warehouse, read-only."),
    "export": (
        "controllers' export of a period (xlsx or CSV)",
        "Write the controllers' export of a period from the published warehouse, read-only: "
        "one workbook (xlsx) or one CSV file per table."),
    "docs": (
        "dbt docs site of the published warehouse",
        "Build the dbt docs site (models, columns, tests, catalog) of the published "
        "warehouse from a read-only snapshot of it, and serve it locally with --serve."),
    "serve": (
        "the sales cockpit in the browser (read-only)",
        "Serve the sales cockpit (portfolio, customer, migration pages) on the published "
        "warehouse, read-only, on a production server (Waitress): a load may publish at any "
        "time, the next request shows it. People sign in (users file or OpenID Connect) and "
        "see their own customers; views and downloads go to the audit trail."),
    "statement": (
        "a customer's value statement as PDF and HTML",
        "Write a customer's value statement (the services given free or discounted, at "
        "standard cost) for a period or a range, as PDF and HTML, from the published "
        "warehouse, read-only."),
    "users": (
        "the cockpit's users file: add, remove, list",
        "Keep the users file of `cvm serve --auth users`: names, roles, accounts and argon2 "
        "hashes of the passwords (never a password)."),
    "writeback": (
        "a CRM's import file of the segments and values that changed",
        "Write the import file that a CRM's own bulk tool takes (salesforce: Bulk API 2.0 / "
        "Data Loader upsert on Account; hubspot: company import; dynamics: account import; "
        "zendesk: organization import): per customer of the period its segment, strategy, "
        "classic value, value transfer, profit after service, data through and CLV, only for "
        "the customers whose values changed since the last write-back to that system. The "
        "ledger of what was written is audit.writeback_ledger in <store>/writeback.duckdb. "
        "Column names: $CVM_WRITEBACK_CONFIG (docs/reference.md)."),
    "pull": (
        "a system's records from its REST API into a delivery's native files",
        "Fetch a system's records from its REST API into the native files that `cvm load` "
        "reads: <out>/salesforce/Account.csv, Order.csv, OrderItem.csv, Task.csv, Event.csv "
        "(Salesforce's queryAll resource, deleted records included, page by page). The access "
        "token comes from the environment only ($CVM_SALESFORCE_TOKEN). The files appear only "
        "when every object was fetched; an object's file already in <out> refuses the pull."),
}
