from dataclasses import dataclass, field


@dataclass(slots=True)
class ResourceCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


@dataclass(slots=True)
class SeedReport:
    """What a seed run did (or, with dry_run, would do), per resource type."""

    counts: dict[str, ResourceCounts]
    elapsed_seconds: float
    files: list[str]
    dry_run: bool = False
    # Every file was unchanged since the last load, so no row was even read.
    skipped: bool = False
    removed_files: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(counts.changed for counts in self.counts.values())

    def total(self) -> ResourceCounts:
        total = ResourceCounts()
        for counts in self.counts.values():
            total.created += counts.created
            total.updated += counts.updated
            total.deleted += counts.deleted
            total.unchanged += counts.unchanged
        return total

    def summary(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        header = f"seeds: {len(self.files)} file(s), {self.elapsed_seconds * 1000:.0f} ms" + (
            " (dry run, nothing written)" if self.dry_run else ""
        )
        if self.skipped:
            return f"{header}\nseeds unchanged since the last load: nothing to do"
        width = max(len(name) for name in self.counts) if self.counts else 8
        lines = [
            header,
            f"{'resource':<{width}}  created  updated  deleted  unchanged",
        ]
        for name, counts in self.counts.items():
            if counts.changed or counts.unchanged:
                lines.append(
                    f"{name:<{width}}  {counts.created:>7}  {counts.updated:>7}  "
                    f"{counts.deleted:>7}  {counts.unchanged:>9}"
                )
        total = self.total()
        lines.append(
            f"{'total':<{width}}  {total.created:>7}  {total.updated:>7}  {total.deleted:>7}  "
            f"{total.unchanged:>9}"
        )
        if self.removed_files:
            lines.append("files gone, their rows deleted: " + ", ".join(self.removed_files))
        if not self.changed:
            lines.append(f"nothing {verb}")
        return "\n".join(lines)
