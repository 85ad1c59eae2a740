"""The README stays a five-minute read, and every relative link in it and in docs/ leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offline.program import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 150

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose(text: str) -> list[str]:
    """The lines of a Markdown text outside its fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercased, inline code marks and punctuation dropped,
    each space a hyphen."""
    text = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor, a repeated one numbered as GitHub numbers it (`-1`, `-2`)."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for line in prose(page.read_text()):
        match = HEADING.match(line)
        if match is None:
            continue
        base = slug(match[2])
        found.add(f"{base}-{counts[base]}" if base in counts else base)
        counts[base] = counts.get(base, 0) + 1
    return found


def broken_links(page: Path) -> list[str]:
    """Each relative link of the page whose file, or whose anchor in that file, is missing."""
    broken = []
    for line in prose(page.read_text()):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{target}: no file {path}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


def test_the_readme_is_a_five_minute_read():
    lines = README.read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md is {lines} lines; at most {README_MAX_LINES}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file_and_heading(page):
    assert broken_links(page) == []


def test_every_docs_page_is_linked_from_the_readme():
    linked = {target.partition("#")[0] for target in LINK.findall(README.read_text())}
    pages = {f"docs/{page.name}" for page in PAGES[1:]}
    assert pages - linked == set()


def test_anchors_are_made_as_github_makes_them():
    assert slug("A VPC of the stack's own") == "a-vpc-of-the-stacks-own"
    assert slug("Which image runs, and who may push") == "which-image-runs-and-who-may-push"
    assert slug("`make plan`: what `pulumi up` would declare") == (
        "make-plan-what-pulumi-up-would-declare"
    )
    assert slug("Alarms, and what to do when one fires") == "alarms-and-what-to-do-when-one-fires"


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "there.md").write_text(
        "# Here\n\n## Twice\n\n## Twice\n\n```\n# Not a heading\n```\n"
    )
    page = tmp_path / "page.md"
    page.write_text(
        "[a](there.md) [b](there.md#here) [c](there.md#twice-1) [d](https://example.com/x#y)\n"
        "[e](missing.md) [f](there.md#nowhere) [g](there.md#not-a-heading) [h](#local)\n"
        "```\n[i](inside-a-fence.md)\n```\n## Local\n"
    )
    assert broken_links(page) == [
        "missing.md: no file missing.md",
        "there.md#nowhere: no heading #nowhere in there.md",
        "there.md#not-a-heading: no heading #not-a-heading in there.md",
    ]
