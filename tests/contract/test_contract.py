"""The committed contract (openapi/openapi.json) and the deployment files stay true."""

import json
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter

from api.cli import write_openapi
from api.main import create_app
from api.settings import Settings
from db.enums import EventType

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_app(settings: Settings) -> None:
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text())

    assert create_app(settings).openapi() == committed, "run `make openapi` and commit the result"


def test_openapi_command_writes_the_committed_document(tmp_path: Path) -> None:
    written = tmp_path / "openapi.json"

    write_openapi(written)

    assert written.read_text() == (ROOT / "openapi" / "openapi.json").read_text()


def test_event_type_schema_defines_every_plover_type() -> None:
    schema = json.loads((ROOT / "openapi" / "openapi.json").read_text())["components"]["schemas"][
        "EventType"
    ]
    definitions = {
        value: definition.strip()
        for value, _, definition in (
            line.removeprefix("- ").partition(":")
            for line in schema["description"].splitlines()
            if line.startswith("- ")
        )
    }

    assert schema["enum"] == [event_type.value for event_type in EventType]
    # One definition per type, in the enum's order: "- AGREE: agree to, offer, promise, ..."
    assert list(definitions) == schema["enum"]
    assert all(definitions.values())
    assert definitions["COERCE"].startswith("repression, restrictions on rights")


def test_operation_ids_are_unique_handler_names(settings: Settings) -> None:
    document = create_app(settings).openapi()
    operation_ids = [
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
    ]

    assert len(operation_ids) == len(set(operation_ids))
    assert all(op.isidentifier() and op.islower() for op in operation_ids), operation_ids


@pytest.mark.process
def test_compose_file_follows_the_compose_specification() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_api_waits_for_a_healthy_database() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert services["api"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert services["api"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert "healthcheck" in services["db"]
    assert services["db"]["image"] == "postgres:18"
    # Two API containers, reached through the proxy on 8000, never directly.
    assert services["api"]["deploy"]["replicas"] == 2
    assert "ports" not in services["api"]
    assert services["proxy"]["ports"] == ["8000:8000"]


def test_compose_replica_streams_from_the_primary_and_takes_the_api_reads() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    replica = services["replica"]

    assert replica["image"] == services["db"]["image"]
    assert "pg_basebackup -h db" in replica["command"][0]
    assert " -R " in replica["command"][0]  # a standby, streaming from db
    environment = services["api"]["environment"]
    assert environment["NEWSGRAPH_REPLICA_URLS"].endswith("@replica:5432/newsgraph")
    assert environment["NEWSGRAPH_REDIS_URL"] == "redis://redis:6379/0"  # shared rate limits
    assert "host replication" in compose["configs"]["allow-replication"]["content"]


def test_schema_names_are_clean_for_sdk_generators(settings: Settings) -> None:
    names = list(create_app(settings).openapi()["components"]["schemas"])

    assert [n for n in names if "__" in n or n.endswith(("-Input", "-Output", "_"))] == []
    assert "HTTPValidationError" not in names


def test_every_v1_operation_documents_problem_errors(settings: Settings) -> None:
    paths = create_app(settings).openapi()["paths"]

    for path, operations in paths.items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            assert operation["summary"], path
            assert operation["description"], path
            problem = operation["responses"]["400"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, path


def test_document_names_its_version_licence_contact_server_and_tags(settings: Settings) -> None:
    document = create_app(settings).openapi()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    used = {
        tag
        for item in document["paths"].values()
        for operation in item.values()
        for tag in operation["tags"]
    }
    tags = {tag["name"]: tag["description"] for tag in document["tags"]}

    assert document["info"]["version"] == version("newsgraph") == pyproject["version"]
    assert document["info"]["license"]["identifier"] == pyproject["license"]
    assert document["info"]["contact"]["url"].startswith("https://")
    assert document["servers"] == [
        {"url": "/", "description": "The server this document is served from."}
    ]
    assert set(tags) == used
    assert all(tags.values())


def test_every_request_body_has_examples_valid_against_its_schema(settings: Settings) -> None:
    """Each example validates against the body's model as the app parses it; that each one
    also succeeds on the seed data is tests/contract/test_headers.py's walk."""
    app = create_app(settings)
    bodies = {
        (context.path_format, method.lower()): route.body_field
        for context in iter_route_contexts(app.routes)
        if isinstance(route := context.original_route, APIRoute) and route.body_field is not None
        for method in route.methods or ()
    }
    document = app.openapi()

    # Create and update of six resources, a webhook's create, accepting a candidate and
    # resolving a mention.
    assert len(bodies) == 15
    for (path, method), field in bodies.items():
        examples = document["paths"][path][method]["requestBody"]["content"]["application/json"][
            "examples"
        ]
        assert examples, (method, path)
        model = field.field_info.annotation
        assert model is not None
        for example in examples.values():
            assert example["summary"]
            TypeAdapter(model).validate_python(example["value"])


def test_seed_models_are_named_as_the_api_write_models(settings: Settings) -> None:
    """Request bodies share the seed loader's models; the contract names them `...Write`, and
    nothing named after the seed loader is left for an SDK to expose."""
    schemas = create_app(settings).openapi()["components"]["schemas"]
    referenced = json.dumps(create_app(settings).openapi()["paths"])

    assert [name for name in schemas if name.endswith("Seed")] == []
    assert "Seed" not in referenced
    for name in ("Alias", "Evidence", "Participant", "Party", "Relation", "Territory"):
        assert f"{name}Write" in schemas, name
        assert f"{name}Read" in schemas, name
    assert "DisputeEventWrite" in schemas
    assert schemas["EvidenceWrite"]["title"] == "EvidenceWrite"
    entity = schemas["EntityCreate"]["properties"]["aliases"]["items"]
    assert entity == {"$ref": "#/components/schemas/AliasWrite"}
