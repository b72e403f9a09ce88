"""Where a request's CPU goes, by layer, from a py-spy profile in its raw (collapsed) format.

    py-spy record -r 500 -f raw -o profile.txt -- python -m bench.inprocess --path ...
    py-spy record -r 500 -f raw -o profile.txt --pid <worker pid>   # a server under load
    python -m bench.layers profile.txt

Each sample is charged to the layer of its innermost frame that belongs to a known layer
("self"), and to every layer found anywhere in its stack ("inclusive").
"""

import argparse
import re
from collections import Counter
from pathlib import Path

# (layer, pattern on a frame's "function (file:line)"), first match wins; order matters.
LAYERS: tuple[tuple[str, str], ...] = (
    ("uvicorn / httptools", r"\((uvicorn|httptools)/"),
    ("middleware: request id", r"\(api/transport/request_id\.py"),
    ("middleware: request line", r"\(api/transport/request_line\.py"),
    ("middleware: body limit", r"\(api/transport/body_limit\.py|\(fastapi/_body_limit\.py"),
    ("middleware: media type", r"\(api/transport/media_type\.py"),
    ("middleware: CORS", r"\(api/transport/cors\.py"),
    ("middleware: security headers", r"\(api/transport/security_headers\.py"),
    ("middleware: rate limit", r"\(api/transport/ratelimit\.py|\(limits/"),
    ("middleware: observability", r"\(api/transport/observability\.py"),
    ("middleware: metrics", r"\(api/transport/metrics\.py|\(prometheus_client/"),
    ("middleware: logs", r"\(api/transport/logs\.py|\(logging/|\(pythonjsonlogger/"),
    ("middleware: other", r"\(api/transport/"),
    ("ETag / HTTP cache", r"\(api/shared/http_cache\.py"),
    ("JSON encoding", r"\(json/|orjson"),
    ("pydantic", r"\(pydantic/|\(pydantic_core/"),
    ("SQLAlchemy", r"\(sqlalchemy/|\(greenlet/|<sqlalchemy generated"),
    ("asyncpg (with its socket I/O)", r"\(asyncpg/"),
    (
        "handlers and services",
        r"\(api/(articles|entities|events|disputes|search|sources|statements)/",
    ),
    ("shared API code", r"\(api/"),
    ("FastAPI: dependencies and parameters", r"\(fastapi/dependencies/|\(fastapi/_compat"),
    ("FastAPI / Starlette: routing and exceptions", r"\(fastapi/|\(starlette/"),
    ("event loop", r"\(asyncio/|\(selectors\.py|uvloop"),
)
# Samples outside request handling (imports, startup) are left out.
REQUEST = re.compile(r"\(uvicorn/protocols/|get \(bench/inprocess\.py")
EVENT_LOOP = "event loop"
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in LAYERS)


def layer_of(frame: str) -> str | None:
    for name, pattern in _COMPILED:
        if pattern.search(frame):
            return name
    return None


def summarise(text: str) -> tuple[int, Counter[str], Counter[str]]:
    """Samples in all, and per layer the samples spent in it (self) and under it (inclusive).
    Event-loop frames under a layer (a socket write asyncpg asked for) are charged to it."""
    total = 0
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or not REQUEST.search(stack):
            continue
        count = int(count_text)
        total += count
        known = [layer for layer in map(layer_of, stack.split(";")) if layer is not None]
        charged = [layer for layer in known if layer != EVENT_LOOP]
        own[charged[-1] if charged else EVENT_LOOP] += count
        for layer in set(known):
            under[layer] += count
    return total, own, under


def table(total: int, own: Counter[str], under: Counter[str]) -> str:
    lines = ["| layer | self | inclusive |", "|---|---:|---:|"]
    for layer, samples in own.most_common():
        lines.append(
            f"| {layer} | {100 * samples / total:.1f}% | {100 * under.get(layer, 0) / total:.1f}% |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__)
    parser.add_argument("profile", type=Path)
    arguments = parser.parse_args()
    total, own, under = summarise(arguments.profile.read_text())
    print(f"{total} samples")
    print(table(total, own, under))


if __name__ == "__main__":
    main()
