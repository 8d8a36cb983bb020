"""Ingest benchmark: a German-dialect cp1252 service_activities.csv of N rows (default 2M).

    .venv/bin/python bench/ingest_bench.py [--rows 2000000] [--gx]
    .venv/bin/python bench/ingest_bench.py --make-only DIR [--rows 2000000]
    .venv/bin/python bench/ingest_bench.py --file DIR/service_activities.csv [--gx]

Builds the file with numpy in /tmp (or takes --file, whose folder must also hold a
customers.csv), loads customers then service_activities into a temp DuckDB file, and prints
rows/s and the peak RSS of the process. `--make-only DIR` only writes the two files into DIR,
so that a second process started with `--file` measures the load alone (its peak RSS is not
inflated by the generator).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

DATE = "2025-03-31"
CODES = np.array(["HOTLINE", "RESEARCH", "TRAINING", "TECH_INFO", "REPAIR"])
HEADER = (
    "activity_id;customer_id;service_type_code;activity_date;duration_minutes;participants;"
    "employee_id;department;channel;billed_amount_eur;description;status;updated_at\r\n"
)


def build(folder: Path, rows: int, customers: int = 5000, seed: int = 7) -> None:
    """Write customers.csv and service_activities.csv (German dialect, cp1252), in chunks."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.char.add("C", np.arange(customers).astype(str))
    with open(folder / "customers.csv", "w", encoding="cp1252", newline="") as out:
        out.write("customer_id;customer_name;customer_since;annual_potential_eur\r\n")
        out.write("".join(f"{c};Kunde {c} Müller;01.01.2020;1.000,00\r\n" for c in ids))
    with open(folder / "service_activities.csv", "w", encoding="cp1252", newline="") as out:
        out.write(HEADER)
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
            parts = [aid, cust, code, np.char.add(np.char.zfill(day, 2), ".03.2025"),
                     np.char.add(minutes_txt, ",50"), np.full(n, "1"), np.full(n, "E17"),
                     np.full(n, "Vertrieb"), np.full(n, "Telefon"), np.char.add("0,", cents),
                     np.full(n, '"Rückfrage; Gebühr 5 €"'), np.full(n, "done"),
                     np.full(n, "31.03.2025 14:05:00")]
            line = parts[0]
            for part in parts[1:]:
                line = np.char.add(np.char.add(line, ";"), part)
            out.write("\r\n".join(line.tolist()))
            out.write("\r\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--file", type=Path, help="an existing service_activities.csv")
    parser.add_argument("--gx", action="store_true", help="also run the GX suite")
    parser.add_argument("--make-only", type=Path, metavar="DIR",
                        help="only write customers.csv and service_activities.csv into DIR")
    args = parser.parse_args()

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
