"""Driving the HTTP server with wrk: a Lua script per scenario, and its figures read back."""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.floor import Load

# Each wrk thread walks the path list from its own offset; `write_every` > 0 makes every
# n-th request of a thread a POST /v1/entities with a unique slug (the mixed profile).
_SCRIPT = """
local paths = {%(paths)s}
local write_every = %(write_every)d
local token = %(token)s
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = id * 7919
end

function request()
  n = n + 1
  if write_every > 0 and n %% write_every == 0 then
    local slug = string.format("bench-entity-%%d-%%d-%%d", %(run)d, id, n)
    local body = string.format('{"slug":"%%s","kind":"person","name":"Bench Person %%d %%d"}',
      slug, id, n)
    return wrk.format("POST", "/v1/entities", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
    }, body)
  end
  return wrk.format("GET", paths[(n %% #paths) + 1])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"non2xx": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when we are root and apt-get is there."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("==> installing wrk (apt-get install wrk)", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=False,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
        if not found:
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
            found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu), "
            "`brew install wrk` (macOS), or build it from https://github.com/wg/wrk"
        )
    return found


def run(
    wrk: str,
    base_url: str,
    paths: Sequence[str],
    *,
    connections: int,
    seconds: float,
    write_every: int = 0,
    token: str = "",
    run_id: int = 0,
) -> Load:
    def lua(text: str) -> str:
        return json.dumps(text)  # a JSON string is a valid Lua string literal for these

    script = _SCRIPT % {
        "paths": ", ".join(lua(path) for path in paths),
        "write_every": write_every,
        "token": lua(token),
        "run": run_id,
    }
    with tempfile.TemporaryDirectory() as scratch:
        script_path = Path(scratch) / "scenario.lua"
        script_path.write_text(script)
        completed = subprocess.run(
            [
                wrk,
                f"--threads={min(2, connections)}",
                f"--connections={connections}",
                f"--duration={seconds:g}s",
                "--timeout=10s",
                f"--script={script_path}",
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(
        (line for line in completed.stdout.splitlines() if line.startswith("RESULT ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(line.removeprefix("RESULT "))
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["non2xx"] + figures["socket_errors"],
    )
