"""A small seed file the loader tests start from and edit, and how they write one."""

from pathlib import Path

STORY = """\
sources:
  - {slug: test-wire, name: Test Wire, kind: news_agency}
articles:
  - slug: test-wire-story
    source: test-wire
    language: en
    published: "2021-10-07"
    body: |-
      Alpha met Beta in Gamma on Monday.

      Alpha and Beta agreed to meet again.
    mentions:
      - {entity: alpha, surface: Alpha, occurrence: 1}
      - {entity: alpha, surface: Alpha, occurrence: 2}
      - {entity: beta, surface: Beta, occurrence: 1}
      - {entity: beta, surface: Beta, occurrence: 2}
      - {entity: gamma, surface: Gamma}
entities:
  - slug: alpha
    kind: person
    name: Alpha
    description: A person.
    aliases:
      - {name: Al, kind: short}
      - {name: A., kind: abbreviation}
    relations:
      - kind: member_of
        object: gamma
        time: "2020"
        evidence: [{quote: Alpha met Beta}]
  - {slug: beta, kind: person, name: Beta}
  - {slug: gamma, kind: organization, name: Gamma}
events:
  - slug: alpha-meets-beta
    title: Alpha meets Beta
    type: CONSULT
    time: "2021-10-04"
    participants:
      - {entity: alpha, role: actor, evidence: [{quote: Alpha met Beta}]}
      - {entity: beta, role: actor, evidence: [{quote: Alpha met Beta}]}
    evidence:
      - quote: Alpha met Beta in Gamma on Monday
      - {field: time, editorial: true, note: The Monday of the week of the story.}
"""


def write(tmp_path: Path, text: str, name: str = "story.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
