from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SeedProblem:
    """One thing wrong with the seed data: where it is and what is wrong."""

    file: str
    # Where inside the file, e.g. `events[3].participants[1].entity`; empty for the whole file.
    path: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}: {self.path}" if self.path else self.file
        return f"{location}: {self.message}"


class SeedError(Exception):
    """The seed data was rejected; nothing was written. `problems` lists every reason."""

    def __init__(self, problems: Sequence[SeedProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"seed data rejected: {count} problem{'s' if count != 1 else ''}"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


@dataclass
class Problems:
    """Collects problems during a run so that every one is reported, not only the first."""

    items: list[SeedProblem] = field(default_factory=list)

    def add(self, file: str, path: str, message: str) -> None:
        self.items.append(SeedProblem(file, path, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise SeedError(self.items)
