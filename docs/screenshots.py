"""Redraw the README's pictures of the cockpit and the value statement from a warehouse.

  make demo && .venv/bin/python docs/screenshots.py [--warehouse data/demo/warehouse.duckdb]

Starts the cockpit on a free port, photographs the portfolio and the cockpit of the customer
with the most activities in the latest period (Debian's Chromium), writes that customer's
statement and renders its first page with pdftoppm; small palette PNGs go to docs/images/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from orchestration.cockpit.app import create_app  # noqa: E402
from orchestration.lib.reports.periods import read_periods  # noqa: E402
from orchestration.lib.reports.statement import write_statement  # noqa: E402
from orchestration.lib.reports.warehouse import Warehouse  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def small_png(source: Path, target: Path, width: int) -> None:
    image = Image.open(source).convert("RGB")
    height = round(image.height * width / image.width)
    image = image.resize((width, height), Image.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1024:.0f} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", default=str(ROOT / "data/demo/warehouse.duckdb"))
    args = parser.parse_args()
    wh = Warehouse(args.warehouse)
    with wh.reader() as con:
        latest = read_periods(con)[-1]
        customer_id = con.execute(
            "select customer_id from marts.customer_cockpit where period_start = ? "
            "group by 1 order by count(*) desc, 1 limit 1", [latest.start]).fetchone()[0]
    IMAGES.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="cvm-shots-"))

    httpd = make_server("127.0.0.1", 0, create_app(args.warehouse).server, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            for name, path in (("cockpit-portfolio", f"/portfolio?period={latest.key}"),
                               ("cockpit-customer", f"/customer/{customer_id}?period="
                                                    f"{latest.key}")):
                page.goto(url + path)
                page.wait_for_selector("#page-title")
                page.wait_for_timeout(1500)  # the chart's drawing
                page.screenshot(path=work / f"{name}.png")
                small_png(work / f"{name}.png", IMAGES / f"{name}.png", 1000)
            browser.close()
    finally:
        httpd.shutdown()

    pdf, _ = write_statement(wh, customer_id, work / "statement.pdf", period=latest.key)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", str(pdf),
                    str(work / "statement")], check=True)
    small_png(next(work.glob("statement-*1.png")), IMAGES / "statement-page1.png", 700)
    return 0


if __name__ == "__main__":
    sys.exit(main())
