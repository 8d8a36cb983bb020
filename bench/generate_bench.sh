#!/usr/bin/env bash
# Time the sample generator: wall time, peak RSS and rows per second.
# Usage: bench/generate_bench.sh [customers] [years] [dialect] [out_dir]
# The generated data is deleted afterwards.
set -euo pipefail
customers=${1:-20000}
years=${2:-5}
dialect=${3:-utf8}
out=${4:-$(mktemp -d /tmp/cvm-generate-bench.XXXXXX)}
repo=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
trap 'rm -rf "$out" "$log"' EXIT

/usr/bin/time -v "$repo/.venv/bin/python" -c "
import sys, time
from pathlib import Path
from orchestration.lib.sample.generator import generate_sample
start = time.perf_counter()
summary = generate_sample(Path('$out'), customers=$customers, years=$years, dialect='$dialect')
seconds = time.perf_counter() - start
rows = sum(summary['rows'].values())
print(f'rows: {summary[\"rows\"]}')
print(f'seconds: {seconds:.1f}  rows/s: {rows / seconds:,.0f}')
" 2> "$log"
grep -E "Elapsed \(wall|Maximum resident" "$log"
du -sh "$out"
