"""Ingest benchmarks.

    .venv/bin/python bench/ingest_bench.py [--rows 2000000] [--gx]
    .venv/bin/python bench/ingest_bench.py --make-only DIR [--rows 2000000]
    .venv/bin/python bench/ingest_bench.py --file DIR/service_activities.csv [--gx]
    .venv/bin/python bench/ingest_bench.py --landing DIR

The first three: a German-dialect cp1252 service_activities.csv of N rows (default 2M). Builds
the file with numpy in /tmp (or takes --file, whose folder must also hold a customers.csv),
loads customers then service_activities into a temp DuckDB file, and prints rows/s and the
peak RSS of the process. `--make-only DIR` only writes the two files into DIR, so that a
second process started with `--file` measures the load alone (its peak RSS is not inflated by
the generator).

`--landing DIR`: loads every file of every delivery under DIR (e.g. a sample written by
`cvm generate-sample`) into a temp DuckDB file, without the GX suites, and prints the time per
file and in total. With `--gx`, each file's suite then runs on its own (`validate_load`, as a
load runs it) and its time is printed apart, after the time of GX's first use (its import and
context).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from orchestration.lib.ingest.spec import SPECS

DATE = "2025-03-31"
CODES = np.array(["HOTLINE", "RESEARCH", "TRAINING", "TECH_INFO", "REPAIR"])


def _header(entity: str) -> str:
    return ";".join(SPECS[entity].column_names) + "\r\n"


def _lines(entity: str, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Records of `entity` in its header's column order; a column without values is empty."""
    lines = None
    for column in SPECS[entity].column_names:
        field = values.get(column, np.full(n, ""))
        lines = field if lines is None else np.char.add(np.char.add(lines, ";"), field)
    return lines


def build(folder: Path, rows: int, customers: int = 5000, seed: int = 7) -> None:
    """Write customers.csv and service_activities.csv (German dialect, cp1252), in chunks."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.char.add("C", np.arange(customers).astype(str))
    with open(folder / "customers.csv", "w", encoding="cp1252", newline="") as out:
        out.write(_header("customers"))
        lines = _lines("customers", {
            "customer_id": ids, "customer_name": np.char.add(np.char.add("Kunde ", ids), " Müller"),
            "customer_since": np.full(customers, "01.01.2020"),
            "annual_potential_eur": np.full(customers, "1.000,00"),
        }, customers)
        out.write("\r\n".join(lines.tolist()) + "\r\n")
    with open(folder / "service_activities.csv", "w", encoding="cp1252", newline="") as out:
        out.write(_header("service_activities"))
        for start in range(0, rows, 200_000):
            n = min(200_000, rows - start)
            aid = np.char.add("A", np.arange(start, start + n).astype(str))
            cust = ids[rng.integers(0, customers, n)]
            code = CODES[rng.integers(0, len(CODES), n)]
            day = rng.integers(1, 29, n).astype(str)
            minutes = rng.integers(0, 5000, n)
            minutes_txt = np.char.add(
                np.char.add((minutes // 1000).astype(str), "."),
                np.char.zfill((minutes % 1000).astype(str), 3),
            )
            minutes_txt = np.where(minutes < 1000, (minutes % 1000).astype(str), minutes_txt)
            cents = rng.integers(0, 100, n).astype(str)
            line = _lines("service_activities", {
                "activity_id": aid, "customer_id": cust, "service_type_code": code,
                "activity_date": np.char.add(np.char.zfill(day, 2), ".03.2025"),
                "duration_minutes": np.char.add(minutes_txt, ",50"),
                "participants": np.full(n, "1"), "employee_id": np.full(n, "E17"),
                "department": np.full(n, "Vertrieb"), "channel": np.full(n, "Telefon"),
                "billed_amount_eur": np.char.add("0,", cents),
                "description": np.full(n, '"Rückfrage; Gebühr 5 €"'),
                "status": np.full(n, "done"), "updated_at": np.full(n, "31.03.2025 14:05:00"),
            }, n)
            out.write("\r\n".join(line.tolist()))
            out.write("\r\n")


def load_landing(root: Path, gx: bool = False) -> None:
    """Load every file of every delivery under `root`; print the time per file and in total.
    `gx`: also run and time each file's suite apart from its load."""
    import duckdb

    from orchestration.lib import landing
    from orchestration.lib.ingest import expectations
    from orchestration.lib.ingest.loader import load_file
    from orchestration.lib.ingest.spec import SPECS

    gx_s = 0.0
    if gx:
        started = time.perf_counter()
        expectations._context()
        print(f"GX import and context: {time.perf_counter() - started:.2f} s")

    tmp = Path(tempfile.mkdtemp(prefix="cvm_bench_"))
    try:
        con = duckdb.connect(str(tmp / "bench.duckdb"))
        total_s, total_rows = 0.0, 0
        for delivery in landing.scan(root):
            for entity in delivery.files():
                started = time.perf_counter()
                result = load_file(con, root, delivery.partition_key, entity,
                                   run_expectations=False)
                seconds = time.perf_counter() - started
                total_s, total_rows = total_s + seconds, total_rows + result.rows_read
                print(f"{result.source_file}: {result.rows_read} rows, {seconds:.2f} s")
                if gx:
                    started = time.perf_counter()
                    suite = expectations.validate_load(con, SPECS[entity], delivery.extract_date,
                                                       result.source_file, result)[entity]
                    seconds = time.perf_counter() - started
                    gx_s += seconds
                    print(f"  its suite: {suite['rows_validated']} rows, "
                          f"{suite['successful_expectations']}/"
                          f"{suite['evaluated_expectations']} passed, {seconds:.2f} s")
        con.close()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"total: {total_rows} rows, {total_s:.1f} s, {total_rows / total_s:,.0f} rows/s, "
              f"peak RSS {peak_mb:,.0f} MB")
        if gx:
            print(f"suites: {gx_s:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--file", type=Path, help="an existing service_activities.csv")
    parser.add_argument("--gx", action="store_true", help="also run the GX suite")
    parser.add_argument("--make-only", type=Path, metavar="DIR",
                        help="only write customers.csv and service_activities.csv into DIR")
    parser.add_argument("--landing", type=Path, metavar="DIR",
                        help="load every delivery under DIR and print the time per file")
    args = parser.parse_args()

    if args.landing:
        load_landing(args.landing, gx=args.gx)
        return

    if args.make_only:
        started = time.perf_counter()
        build(args.make_only, args.rows)
        print(f"generated {args.rows} rows into {args.make_only} "
              f"in {time.perf_counter() - started:.1f} s")
        return

    import duckdb

    from orchestration.lib.ingest.loader import load_file

    tmp = Path(tempfile.mkdtemp(prefix="cvm_bench_"))
    try:
        folder = tmp / "landing" / DATE
        if args.file:
            folder.mkdir(parents=True)
            for name in ("service_activities.csv", "customers.csv"):
                (folder / name).symlink_to((args.file.parent / name).resolve())
        else:
            started = time.perf_counter()
            build(folder, args.rows)
            print(f"generated {args.rows} rows in {time.perf_counter() - started:.1f} s")
        size = (folder / "service_activities.csv").stat().st_size
        con = duckdb.connect(str(tmp / "bench.duckdb"))
        load_file(con, tmp / "landing", DATE, "customers", run_expectations=False)
        started = time.perf_counter()
        result = load_file(con, tmp / "landing", DATE, "service_activities",
                           run_expectations=args.gx)
        seconds = time.perf_counter() - started
        con.close()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"file: {size / 1e6:.0f} MB, dialect: {result.dialect}")
        print(f"rows read {result.rows_read}, loaded {result.rows_loaded}, "
              f"rejected {result.rows_rejected} {result.rejected_by_reason}")
        print(f"load: {seconds:.1f} s, {result.rows_read / seconds:,.0f} rows/s")
        print(f"peak RSS: {peak_mb:,.0f} MB")
        if args.gx:
            print(f"expectations: {result.expectation_results}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
