"""The profile summary and the targets table `make bench` writes (bench/layers.py,
bench/cost.py): pure functions over what a run measured."""

from bench import cost, layers

# Two request samples and one import-time sample, as py-spy writes them (raw format).
PROFILE = "\n".join(
    [
        "run (uvicorn/protocols/http/httptools_impl.py:1);app (fastapi/routing.py:2);"
        "fetch (api/shared/rows.py:3);_do_execute (asyncpg/connection.py:4);"
        "write (asyncio/selector_events.py:5) 30",
        "run (uvicorn/protocols/http/httptools_impl.py:1);app (fastapi/routing.py:2) 10",
        "<module> (api/main.py:1);_find_and_load (<frozen importlib._bootstrap>:2) 500",
    ]
)


def test_a_profile_is_summed_by_layer_with_socket_io_charged_to_its_caller() -> None:
    total, own, under = layers.summarise(PROFILE)

    assert total == 40  # the import-time sample is no request's
    assert own["asyncpg (with its socket I/O)"] == 30
    assert own["FastAPI / Starlette: routing and exceptions"] == 10
    assert "event loop" not in own
    assert under["shared API code"] == 30
    assert under["uvicorn / httptools"] == 40
    table = layers.table(total, own, under)
    assert "| asyncpg (with its socket I/O) | 75.0% | 75.0% |" in table


def _measured(**changes: object) -> cost.Measured:
    figures = cost.Measured(
        to_lean={"article_by_id": 0.65},
        to_floor={"dispute_timeline": 0.5, "search": 0.9},
        floor_p99_ms={"dispute_timeline": 40.0, "search": 300.0},
        p99_ms={"article_by_id": 30.0, "dispute_timeline": 120.0, "search": 450.0},
        floor_rate={"dispute_timeline": 1300.0, "search": 290.0},
        non_2xx=0,
        worker_rss_mb=110.0,
        cpu_by_id_ms=0.44,
    )
    for name, value in changes.items():
        setattr(figures, name, value)
    return figures


def _verdicts(lines: list[str]) -> dict[str, str]:
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and "---" not in line]
    return {row[0].lstrip("| "): row[3].rstrip(" |") for row in rows[1:]}


def test_each_target_is_met_or_not_on_the_run_s_medians() -> None:
    verdicts = _verdicts(cost.targets_section(_measured(), lean_target=0.6))

    assert verdicts["article_by_id: API / lean"] == "met"
    assert verdicts["by id: CPU per request in process"] == "not met"
    assert verdicts["dispute timeline: API / floor"] == "not met"
    assert verdicts["search: API / floor"] == "met"
    assert verdicts["search: floor p99 (floor 290 q/s)"] == "not met"
    assert verdicts["article_by_id: p99"] == "met"
    assert verdicts["dispute_timeline: p99"] == "not met"
    # A p99 the floor itself cannot reach is not held against the endpoint.
    assert "search: p99" not in verdicts
    assert verdicts["non-2xx answers"] == "met"
    assert verdicts["worker RSS after the run"] == "not met"


def test_an_error_or_a_slow_lean_ratio_fails_its_target() -> None:
    verdicts = _verdicts(
        cost.targets_section(_measured(non_2xx=3, to_lean={"article_by_id": 0.59}), 0.6)
    )

    assert verdicts["non-2xx answers"] == "not met"
    assert verdicts["article_by_id: API / lean"] == "not met"
