"""`make soak`'s arithmetic and its section of bench/RESULTS.md (the run itself is `make soak`)."""

from pathlib import Path

import pytest

from bench.run import kept_soak_section
from bench.soak import slope_per_10_minutes, warm_up, write_section


def test_the_rss_slope_is_per_ten_minutes() -> None:
    minutes = [1.0, 2.0, 3.0, 4.0]
    assert slope_per_10_minutes(minutes, [120.0, 120.0, 120.0, 120.0]) == 0.0
    assert slope_per_10_minutes(minutes, [120.0, 120.5, 121.0, 121.5]) == pytest.approx(5.0)
    assert slope_per_10_minutes([1.0], [120.0]) == 0.0


def test_warm_up_is_the_first_fifth_and_at_least_one_interval() -> None:
    assert [warm_up(n) for n in (1, 4, 5, 30)] == [1, 1, 1, 6]


def test_the_soak_section_replaces_its_last_version_and_survives_a_bench_run(
    tmp_path: Path,
) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Endpoints\n\nfigures\n")
    write_section(results, "<!-- soak:start -->\n## Soak\n\nfirst\n<!-- soak:end -->")
    write_section(results, "<!-- soak:start -->\n## Soak\n\nsecond\n<!-- soak:end -->")
    text = results.read_text()
    assert text.count("## Soak") == 1
    assert "second" in text
    assert "first" not in text
    assert text.startswith("# Benchmark results\n\n## Endpoints\n\nfigures\n")
    # `make bench` rewrites the file and keeps the section.
    kept = kept_soak_section(results)
    assert "## Soak\n\nsecond" in kept
    assert kept_soak_section(tmp_path / "missing.md") == ""
