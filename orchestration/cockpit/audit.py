"""The cockpit's audit trail: who signed in (or failed to), who viewed or downloaded which
customer, when, with which role, from which address.

Append-only JSON lines, one file per day (UTC), in settings.audit_dir: beside the warehouse file,
outside the published warehouse and its store, so that a publish never touches it. Nothing
rewrites a line; keeping the trail for $CVM_AUDIT_DAYS days (default 365) deletes the files of
older days whole. The trail holds personal data (names and network addresses of the staff), and
no customer figures: only the customer's id and the period.

`admin` reads it on the page /audit and downloads it as CSV from /audit.csv.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

FIELDS = ("time", "event", "user", "role", "customer_id", "period", "address", "detail")
# sign_in, sign_in_failed, sign_out, view_customer, statement_pdf, statement_html,
# denied (a customer outside the viewer's scope), audit_export
DEFAULT_DAYS = 365


@dataclass(frozen=True)
class Entry:
    time: str
    event: str
    user: str
    role: str
    customer_id: str = ""
    period: str = ""
    address: str = ""
    detail: str = ""


class AuditTrail:
    def __init__(self, folder: Path, days: int = DEFAULT_DAYS):
        self.folder = Path(folder)
        self.days = int(days)
        self._lock = threading.Lock()
        self._pruned: date | None = None

    def _file(self, day: date) -> Path:
        return self.folder / f"{day.isoformat()}.jsonl"

    def record(self, event: str, user: str, role: str, *, customer_id: str | None = None,
               period: str | None = None, address: str | None = None,
               detail: str = "", now: datetime | None = None) -> Entry:
        now = now or datetime.now(UTC)
        entry = Entry(now.isoformat(timespec="seconds"), event, user or "", role or "",
                      customer_id or "", period or "", address or "", detail)
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            # one write of a whole line, opened for appending: lines never interleave or change
            with open(self._file(now.date()), "a", encoding="utf-8") as handle:
                handle.write(line)
            if self._pruned != now.date():
                self.prune(now.date())
                self._pruned = now.date()
        return entry

    def prune(self, today: date) -> list[Path]:
        """Delete the files of the days older than the retention; the deleted files."""
        oldest = today - timedelta(days=self.days)
        gone = []
        for path in self.folder.glob("*.jsonl"):
            try:
                day = date.fromisoformat(path.stem)
            except ValueError:
                continue
            if day < oldest:
                path.unlink(missing_ok=True)
                gone.append(path)
        return gone

    def entries(self, since: date | None = None) -> list[Entry]:
        """Every entry, oldest first (from ``since`` on, when given)."""
        rows = []
        for path in sorted(self.folder.glob("*.jsonl")):
            try:
                day = date.fromisoformat(path.stem)
            except ValueError:
                continue
            if since and day < since:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rows.append(Entry(**json.loads(line)))
                except (json.JSONDecodeError, TypeError) as exc:
                    raise ValueError(f"{path}: line {number}: not an audit entry: {exc}") from None
        return rows

    def csv_text(self, since: date | None = None) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for entry in self.entries(since):
            writer.writerow([getattr(entry, f) for f in FIELDS])
        return out.getvalue()
