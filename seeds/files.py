"""Reading seed files: bytes -> YAML -> SeedDocument, with every problem of every file kept."""

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from db.fields import blank_message
from seeds.problems import Problems
from seeds.schema import SeedDocument

SEEDS_DIR = Path(__file__).resolve().parent
DATA_DIR = SEEDS_DIR / "data"

# Part of every file's content hash: bump it when the loader starts reading the same YAML
# differently, so that unchanged files are loaded again instead of skipped.
FORMAT_VERSION = b"newsgraph-seed-format-1\n"

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


# libyaml's parser when the wheel has it: ten times faster than the pure-Python one.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SeedLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe YAML without implicit dates (EDTF stays text) and with duplicate keys rejected."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base constructor reports unhashable keys itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_SeedLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class SeedFileInput:
    path: Path
    # Stable identity in the seed_file table: relative to the seeds package when shipped.
    key: str
    # How problems name the file: the path as the caller gave it.
    display: str
    content_hash: str
    raw: bytes | None
    document: SeedDocument | None = None


def file_key(path: Path) -> str:
    resolved = path.resolve()
    if resolved.is_relative_to(SEEDS_DIR):
        return resolved.relative_to(SEEDS_DIR).as_posix()
    return resolved.as_posix()


def default_seed_paths() -> list[Path]:
    """The YAML files shipped in seeds/data, in a stable order."""
    return sorted(
        [*DATA_DIR.rglob("*.yaml"), *DATA_DIR.rglob("*.yml")],
        key=lambda path: path.relative_to(DATA_DIR).as_posix(),
    )


def _error_path(location: Sequence[int | str]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else item)
    return "".join(parts)


def _error_message(error: ErrorDetails) -> tuple[Sequence[int | str], str]:
    location = error["loc"]
    kind = error["type"]
    if kind == "extra_forbidden":
        return location[:-1], f"unknown key {location[-1]!r}"
    if kind == "value_error":
        return location, str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "missing":
        return location[:-1], f"missing required key {location[-1]!r}"
    if (blank := blank_message(error)) is not None:
        return location, blank
    message = error["msg"]
    if kind in {"enum", "literal_error", "string_pattern_mismatch"}:
        message += f" (got {error['input']!r})"
    return location, message


def add_validation_problems(problems: Problems, display: str, error: ValidationError) -> None:
    """One problem per schema error, with its path and the loader's wording (also used by the
    write API, which validates request bodies with the same models)."""
    for detail in error.errors(include_url=False):
        location, message = _error_message(detail)
        problems.add(display, _error_path(location), message)


def read_seed_file(path: Path, problems: Problems) -> SeedFileInput:
    """Read the bytes and hash them; parsing waits until a changed file makes it necessary."""
    display = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.add(display, "", f"cannot read the file: {error.strerror or error}")
        return SeedFileInput(path, file_key(path), display, "", None)
    content_hash = hashlib.sha256(FORMAT_VERSION + raw).hexdigest()
    return SeedFileInput(path, file_key(path), display, content_hash, raw)


def parse_seed_file(seed_file: SeedFileInput, problems: Problems) -> SeedFileInput:
    """YAML -> SeedDocument; every schema problem of the file is added to `problems`."""
    display = seed_file.display
    if seed_file.raw is None:
        return seed_file
    try:
        data = yaml.load(seed_file.raw.decode("utf-8"), Loader=_SeedLoader)  # noqa: S506
    except UnicodeDecodeError as error:
        problems.add(display, "", f"not UTF-8 text: {error.reason} at byte {error.start}")
        return seed_file
    except yaml.YAMLError as error:
        problems.add(display, "", f"invalid YAML: {error}".replace("\n", " "))
        return seed_file
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.add(display, "", "the top level must be a mapping of sections (entities: ...)")
        return seed_file
    try:
        document = SeedDocument.model_validate(data)
    except ValidationError as error:
        add_validation_problems(problems, display, error)
        return seed_file
    return replace(seed_file, document=document)
