"""What `newsgraph import` prints: a progress line on stderr and the final summary."""

import sys
import time
from typing import TextIO

from db.bulk.importer import ImportReport

SHOWN_REJECTIONS = 20


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressLine:
    """A progress callback: one line rewritten in place on a terminal, else one every few
    seconds (so logs of a long import are neither empty nor flooded)."""

    def __init__(self, stream: TextIO = sys.stderr, *, interval: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval = 0.0 if self.tty else interval
        self.shown_at = -interval

    def __call__(self, lines: int, done: int, total: int, elapsed: float) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self.shown_at < self.interval:
            return
        self.shown_at = now
        share = done / total if total else 1.0
        rate = lines / elapsed if elapsed > 0 else 0.0
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        text = (
            f"import: {share:6.1%}  {lines:,} lines  {rate:,.0f} lines/s  "
            f"{done / 1e6:,.1f}/{total / 1e6:,.1f} MB  ETA {_duration(eta)}"
        )
        if self.tty:
            self.stream.write(f"\r\x1b[K{text}" + ("\n" if finished else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def summary(report: ImportReport) -> str:
    rows = sum(report.rows.values())
    rate = rows / report.seconds if report.seconds > 0 else 0.0
    lines = [
        f"read {report.lines:,} lines: {report.imported_lines:,} imported, "
        f"{report.rejected:,} rejected ({report.batches:,} batches, "
        f"{report.failed_batches:,} refused by the database)",
        "rows: "
        + (
            ", ".join(f"{table} {count:,}" for table, count in report.rows.items() if count)
            or "none"
        ),
        f"{rows:,} rows in {report.seconds:.1f}s ({rate:,.0f} rows/s)",
    ]
    if report.rejected:
        lines.append("rejected lines:")
        lines.extend(
            f"  line {rejection.line}: {rejection.reason}"
            for rejection in report.rejections[:SHOWN_REJECTIONS]
        )
        if report.rejected > SHOWN_REJECTIONS:
            lines.append(f"  and {report.rejected - SHOWN_REJECTIONS:,} more")
    return "\n".join(lines)
