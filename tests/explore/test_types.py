"""The explorer is checked against the contract: `make check` generates TypeScript types from
openapi/openapi.json and type-checks the page's modules with them (explorer/). Here that check
runs on the committed document, where it passes, and on documents changed the way a careless
API change would, where it must fail naming the line of the page that breaks."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# openapi-typescript and tsc.
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "explorer"
BIN = TOOLS / "node_modules" / ".bin"

Document = dict[str, Any]


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None or not (BIN / "tsc").exists():
        pytest.skip(
            "the explorer's type checker is not installed: `make check-explorer` (Node.js 20+)"
        )
    return found


def _type_check(document: Document, workdir: Path) -> subprocess.CompletedProcess[str]:
    """tsc over the page's modules, with types generated from `document`."""
    (workdir / "openapi.json").write_text(json.dumps(document))
    (workdir / "generated").mkdir()
    shutil.copy(TOOLS / "newsgraph-api.d.ts", workdir)
    (workdir / "tsconfig.json").write_text(
        json.dumps(
            {
                "extends": str(TOOLS / "tsconfig.json"),
                "compilerOptions": {"paths": {"newsgraph-api": ["./newsgraph-api.d.ts"]}},
                "include": [
                    str(ROOT / "api" / "explore" / "assets" / "*.js"),
                    "newsgraph-api.d.ts",
                ],
            }
        )
    )
    subprocess.run(
        [
            BIN / "openapi-typescript",
            "openapi.json",
            "--immutable",
            "--output",
            "generated/openapi.d.ts",
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        [BIN / "tsc", "--project", "tsconfig.json"], cwd=workdir, capture_output=True, text=True
    )


def _contract() -> Document:
    document: Document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    return document


def test_the_page_type_checks_against_the_contract(node: str, tmp_path: Path) -> None:
    result = _type_check(_contract(), tmp_path)

    assert result.returncode == 0, result.stdout


def _rename_party_position(document: Document) -> None:
    party = document["components"]["schemas"]["PartyRead"]
    party["properties"]["stance"] = party["properties"].pop("position")
    party["required"] = ["stance" if name == "position" else name for name in party["required"]]


def _drop_the_pov_parameter(document: Document) -> None:
    operation = document["paths"]["/v1/disputes/{dispute}"]["get"]
    operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "pov"]


def _drop_the_timeline(document: Document) -> None:
    del document["paths"]["/v1/disputes/{dispute}/timeline"]


def _make_the_time_bounds_numbers(document: Document) -> None:
    document["components"]["schemas"]["TimeRead"]["properties"]["earliest"] = {"type": "integer"}


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        (_rename_party_position, "Property 'position' does not exist"),
        (_drop_the_pov_parameter, "'{ pov: string | undefined; }'"),
        (_drop_the_timeline, '"/v1/disputes/{dispute}/timeline"'),
        (_make_the_time_bounds_numbers, "timeline.js"),
    ],
)
def test_a_contract_change_that_breaks_the_page_fails_the_check(
    node: str, tmp_path: Path, change: Callable[[Document], None], broken: str
) -> None:
    document = _contract()
    change(document)

    result = _type_check(document, tmp_path)

    assert result.returncode != 0
    assert broken in result.stdout, result.stdout
