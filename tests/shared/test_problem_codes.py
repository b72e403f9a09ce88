"""One registry of problem codes (api/shared/problems.py): the source spells no code outside it,
uses every code in it, and docs/problems.md is what it generates. And one rule for the
constraint violations a write meets: a unique one is a 409 `conflict`, any other is re-raised."""

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from api.cli import main
from api.main import create_app
from api.settings import Settings
from api.shared.errors import ProblemError
from api.shared.problems import (
    PROBLEM_TYPE_BASE,
    PROBLEM_TYPES,
    ProblemCode,
    problems_page,
    status_of,
)
from api.shared.writes import flush_or_conflict, unique_conflict
from db.enums import EntityKind
from db.models import Entity
from tests.support.factories import make_entity

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "api" / "shared" / "problems.py"
CODES = frozenset(code.value for code in ProblemCode)


def _sources() -> dict[str, ast.Module]:
    """Every module of the app but the registry itself, parsed."""
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(), filename=str(path))
        for path in sorted((ROOT / "api").rglob("*.py"))
        if path != REGISTRY
    }


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _literal_codes(tree: ast.AST) -> list[str]:
    """ProblemError calls whose code is a literal (a string, an f-string, or the status of the
    old `ProblemError(409, "conflict", ...)`) rather than a ProblemCode."""
    return [
        f"line {node.lineno}: {ast.unparse(node)[:80]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called(node) == "ProblemError"
        for value in [*node.args[:1], *(k.value for k in node.keywords if k.arg == "code")]
        if isinstance(value, (ast.Constant, ast.JoinedStr))
    ]


def _spelled_codes(tree: ast.AST) -> list[str]:
    """String literals that are a registered code: a problem body or map built by hand. A
    FieldError's `type` is another vocabulary (`unknown_parameter` is both)."""
    field_error_types = {
        id(keyword.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called(node) == "FieldError"
        for keyword in node.keywords
        if keyword.arg == "type"
    }
    return [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in CODES
        and id(node) not in field_error_types
    ]


def _members_used(trees: Iterable[ast.AST]) -> set[str]:
    """The ProblemCode members the code names (`ProblemCode.CONFLICT`)."""
    return {
        node.attr
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ProblemCode"
    }


def test_no_problem_is_raised_with_a_string_code() -> None:
    found = {path: hits for path, tree in _sources().items() if (hits := _literal_codes(tree))}

    assert found == {}, "raise ProblemError(ProblemCode.X, ...) and register X"


def test_no_code_is_spelled_outside_the_registry() -> None:
    found = {path: hits for path, tree in _sources().items() if (hits := _spelled_codes(tree))}

    assert found == {}, "use the ProblemCode member"


def test_every_registered_code_is_used() -> None:
    unused = set(ProblemCode.__members__) - _members_used(_sources().values())

    assert unused == set(), "a code nothing answers with: remove it from the registry"


def test_the_source_checks_catch_what_they_look_for() -> None:
    """The checks above would fail: each finds its target in a made-up module."""
    old_style = ast.parse(
        'raise ProblemError(409, "conflict", "Taken.")\n'
        'raise errors.ProblemError(code=f"http_{status}", detail="x")\n'
        'raise ProblemError("conflict", "Taken.")\n'
        'raise ProblemError(ProblemCode.CONFLICT, "Taken.")\n'
    )
    by_hand = ast.parse(
        'body = {"code": "rate_limited"}\n'
        'FieldError(location="query", field="x", message="m", type="unknown_parameter")\n'
    )

    assert [hit.split(":")[0] for hit in _literal_codes(old_style)] == [
        "line 1",
        "line 2",
        "line 3",
    ]
    assert _spelled_codes(old_style) == ["line 1: 'conflict'", "line 3: 'conflict'"]
    assert _spelled_codes(by_hand) == ["line 1: 'rate_limited'"]
    assert _members_used([old_style]) == {"CONFLICT"}


def test_every_entry_is_complete() -> None:
    assert set(PROBLEM_TYPES) == set(ProblemCode)
    for code, entry in PROBLEM_TYPES.items():
        assert entry.statuses, code
        assert list(entry.statuses) == sorted(set(entry.statuses)), code
        assert all(400 <= status <= 599 for status in entry.statuses), code
        assert entry.title.strip() == entry.title != "", code
        assert entry.meaning.endswith("."), code
        assert "\n" not in entry.meaning, code


def test_the_status_comes_from_the_registry() -> None:
    assert ProblemError(ProblemCode.CONFLICT, "Taken.").status == 409
    assert ProblemError(ProblemCode.UNKNOWN_REFERENCE, "x", status=422).status == 422
    assert status_of(ProblemCode.VALIDATION_ERROR, 400) == 400


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ProblemCode.CONFLICT, 400),  # not one of its statuses
        (ProblemCode.VALIDATION_ERROR, None),  # 400 or 422: the raise site must say
        (ProblemCode.VALIDATION_ERROR, 409),
    ],
)
def test_a_status_the_registry_does_not_give_is_refused(
    code: ProblemCode, status: int | None
) -> None:
    with pytest.raises(ValueError, match=code.value):
        ProblemError(code, "x", status=status)


def test_the_contract_enumerates_every_code(settings: Settings) -> None:
    code = create_app(settings).openapi()["components"]["schemas"]["Problem"]["properties"]["code"]

    assert code["enum"] == [code.value for code in ProblemCode]
    assert "docs/problems.md" in code["description"]


def test_committed_problems_page_matches_the_registry() -> None:
    committed = (ROOT / "docs" / "problems.md").read_text()

    assert committed == problems_page(), "run `newsgraph problems` and commit docs/problems.md"


def test_problems_command_writes_the_page(tmp_path: Path) -> None:
    written = tmp_path / "problems.md"

    main(["problems", "--output", str(written)])

    assert written.read_text() == problems_page()


def test_the_page_lists_every_code_with_its_statuses() -> None:
    page = problems_page()

    for code, entry in PROBLEM_TYPES.items():
        statuses = ", ".join(map(str, entry.statuses))
        assert f"| `{code}` | {statuses} | {entry.title} |" in page


@pytest.fixture
def raising_app(app: FastAPI) -> FastAPI:
    """The real app plus a route raising what Starlette and FastAPI raise."""

    @app.get("/_probe/http/{status}")
    async def raise_http(status: int) -> None:
        raise HTTPException(status)

    return app


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "http_400"),  # FastAPI, for a body it cannot read (the client hung up)
        (401, "http_401"),  # StaticFiles, for a /docs asset it may not read
        (404, "not_found"),
        (405, "method_not_allowed"),
        (413, "payload_too_large"),
    ],
)
async def test_framework_errors_answer_registered_codes(
    raising_app: FastAPI, client: AsyncClient, status: int, code: str
) -> None:
    response = await client.get(f"/_probe/http/{status}")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["type"] == PROBLEM_TYPE_BASE + code


async def test_a_framework_status_without_a_code_is_an_unexpected_error(
    raising_app: FastAPI, client: AsyncClient
) -> None:
    response = await client.get("/_probe/http/418")

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


async def test_a_unique_violation_is_a_conflict_named_after_its_columns(
    session: AsyncSession,
) -> None:
    await make_entity(session, "japan", "Japan")
    session.add(Entity(slug="japan", name="Nippon", kind=EntityKind.COUNTRY))

    with pytest.raises(ProblemError) as caught:
        await flush_or_conflict(session, resource="entity")

    problem = caught.value
    assert (problem.status, problem.code) == (409, ProblemCode.CONFLICT)
    assert problem.detail == "Another entity already has this slug."


async def test_any_other_violation_is_re_raised(session: AsyncSession) -> None:
    session.add(Entity(slug="Not A Slug", name="X", kind=EntityKind.COUNTRY))

    with pytest.raises(IntegrityError):
        await flush_or_conflict(session, resource="entity")


async def test_the_rule_hands_the_constraint_name_to_the_detail(session: AsyncSession) -> None:
    """As the seed-backed writes word it: the whole constraint name."""
    insert = "INSERT INTO entity (slug, kind, name) VALUES ('japan', 'country', 'Japan')"
    await session.execute(text(insert))
    with pytest.raises(IntegrityError) as caught:
        async with session.begin_nested():
            await session.execute(text(insert))

    problem = unique_conflict(caught.value, lambda constraint: f"({constraint})")

    assert problem is not None
    assert problem.detail == "(uq_entity_slug)"
