"""Where the API's CPU goes, for `make bench`: CPU per request in process beside the lean
reference, a py-spy profile of one worker under load summed by layer, and issue 13's targets
beside what the run measured."""

import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.main import create_app
from api.settings import Settings
from bench import inprocess, layers, lean
from bench.scenarios import SINGLE_REQUEST_TARGET_MS, Scenario

# Issue 13's targets.
CPU_BY_ID_TARGET_MS = 0.30
TIMELINE_TO_FLOOR_TARGET = 0.6
TO_FLOOR_TARGET = 0.8  # name search, events by participant and period, full-text search
FLOOR_P99_TARGET_MS = 100.0
RSS_TARGET_MB = 80
P99_TARGET_MS = 100.0
DATABASE_BOUND = ("entities_q", "events_participant_range", "search")


@dataclass
class CpuBeside:
    scenario: str
    api: inprocess.CpuFigure
    lean: inprocess.CpuFigure


async def cpu_beside_lean(
    settings: Settings, scenarios: Sequence[Scenario], *, requests: int = 2000, rounds: int = 3
) -> list[CpuBeside]:
    """CPU per request of the API and of the lean reference, in process, same paths."""
    figures = []
    for scenario in scenarios:
        api = await inprocess.cpu_per_request(
            create_app(settings), scenario.paths, requests=requests, rounds=rounds
        )
        reference = await inprocess.cpu_per_request(
            lean.create_app(settings.database_url), scenario.paths, requests=requests, rounds=rounds
        )
        figures.append(CpuBeside(scenario.name, api, reference))
    return figures


def profile_worker(pid: int, drive: Callable[[], Any], *, rate: int = 250) -> str | None:
    """A py-spy profile (raw, collapsed stacks) of process `pid` while `drive()` runs; None
    when py-spy is missing or may not attach (it needs ptrace: root, or a permissive
    kernel.yama.ptrace_scope)."""
    spy = shutil.which("py-spy") or str(Path(inprocess.__file__).parents[1] / ".venv/bin/py-spy")
    if not Path(spy).exists():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "profile.txt"
        recorder = subprocess.Popen(
            [
                *(spy, "record", "--pid", str(pid), "--rate", str(rate)),
                *("--format", "raw", "--output", str(out), "--nonblocking"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            drive()
        finally:
            recorder.send_signal(signal.SIGINT)
            try:
                recorder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                recorder.kill()
        return out.read_text() if out.exists() else None


def cpu_section(figures: Sequence[CpuBeside], profile: str | None) -> list[str]:
    lines = [
        "## CPU per request",
        "",
        "In process (`bench/inprocess.py`): the app called directly, one request at a time, "
        "no HTTP; process CPU time per request, 3 rounds of 2,000 (min / median). The lean "
        "reference serves the same paths with the same SQL.",
        "",
        "| endpoint | API ms | lean ms | API / lean CPU |",
        "|---|---:|---:|---:|",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.scenario} | {figure.api.min_ms:.3f} / {figure.api.median_ms:.3f} | "
            f"{figure.lean.min_ms:.3f} / {figure.lean.median_ms:.3f} | "
            f"{figure.api.median_ms / figure.lean.median_ms:.1f}x |"
        )
    lines.append("")
    if profile is not None:
        total, own, under = layers.summarise(profile)
        lines += [
            f"One API worker under `GET /v1/articles/{{id}}` load (wrk, after the rounds, not "
            f"counted), sampled by py-spy ({total:,} samples): the share of each layer, the "
            "innermost frame's layer (self) and any frame's (inclusive). Socket I/O is charged "
            "to the layer that asked for it (`python -m bench.layers`).",
            "",
            layers.table(total, own, under),
            "",
        ]
    return lines


@dataclass
class Measured:
    """What the targets are checked against, from the run."""

    to_lean: dict[str, float]  # median API / lean per raced scenario
    to_floor: dict[str, float]  # median API / floor per scenario with a floor
    floor_p99_ms: dict[str, float]  # median floor p99
    p99_ms: dict[str, float]  # median HTTP p99
    floor_rate: dict[str, float]  # median floor q/s
    non_2xx: int
    worker_rss_mb: float
    cpu_by_id_ms: float | None
    # median single-request p50 per aggregate scenario (bench.scenarios.SINGLE_REQUEST_SCENARIOS)
    single_p50_ms: dict[str, float] = field(default_factory=dict)


def targets_section(measured: Measured, lean_target: float) -> list[str]:
    rows: list[tuple[str, str, str, bool]] = []
    for name, ratio in measured.to_lean.items():
        rows.append(
            (f"{name}: API / lean", f">= {lean_target}", f"{ratio:.2f}", ratio >= lean_target)
        )
    if measured.cpu_by_id_ms is not None:
        rows.append(
            (
                "by id: CPU per request in process",
                f"<= {CPU_BY_ID_TARGET_MS} ms",
                f"{measured.cpu_by_id_ms:.3f} ms",
                measured.cpu_by_id_ms <= CPU_BY_ID_TARGET_MS,
            )
        )
    if "dispute_timeline" in measured.to_floor:
        ratio = measured.to_floor["dispute_timeline"]
        rows.append(
            (
                "dispute timeline: API / floor",
                f">= {TIMELINE_TO_FLOOR_TARGET}",
                f"{ratio:.2f}",
                ratio >= TIMELINE_TO_FLOOR_TARGET,
            )
        )
    for name in DATABASE_BOUND:
        if name not in measured.to_floor:
            continue
        ratio = measured.to_floor[name]
        p99 = measured.floor_p99_ms[name]
        rows.append(
            (
                f"{name}: API / floor",
                f">= {TO_FLOOR_TARGET}",
                f"{ratio:.2f}",
                ratio >= TO_FLOOR_TARGET,
            )
        )
        rows.append(
            (
                f"{name}: floor p99 (floor {measured.floor_rate[name]:,.0f} q/s)",
                f"< {FLOOR_P99_TARGET_MS:.0f} ms",
                f"{p99:.0f} ms",
                p99 < FLOOR_P99_TARGET_MS,
            )
        )
    for name, p99 in measured.p99_ms.items():
        floor_p99 = measured.floor_p99_ms.get(name)
        if floor_p99 is not None and floor_p99 >= P99_TARGET_MS:
            continue  # the floor itself does not allow it
        rows.append(
            (f"{name}: p99", f"<= {P99_TARGET_MS:.0f} ms", f"{p99:.0f} ms", p99 <= P99_TARGET_MS)
        )
    for name, p50 in measured.single_p50_ms.items():
        rows.append(
            (
                f"{name}: one request at a time, p50 (issue 15)",
                f"<= {SINGLE_REQUEST_TARGET_MS:.0f} ms",
                f"{p50:.0f} ms",
                p50 <= SINGLE_REQUEST_TARGET_MS,
            )
        )
    rows.append(("non-2xx answers", "0", str(measured.non_2xx), measured.non_2xx == 0))
    rows.append(
        (
            "worker RSS after the run",
            f"<= {RSS_TARGET_MB} MB",
            f"{measured.worker_rss_mb:.0f} MB",
            measured.worker_rss_mb <= RSS_TARGET_MB,
        )
    )
    lines = [
        "## Targets (issues 13 and 15)",
        "",
        "Medians over the rounds of this run. Doubling the database floors of name search, "
        "events and full-text search is measured against the statements they replaced: "
        "bench/README.md.",
        "",
        "| target | wanted | measured | |",
        "|---|---|---:|---|",
    ]
    lines += [
        f"| {name} | {wanted} | {got} | {'met' if ok else 'not met'} |"
        for name, wanted, got, ok in rows
    ]
    lines.append("")
    return lines
