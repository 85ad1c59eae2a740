"""The images a Dockerfile builds from, each of which must be pinned by digest.

A tag can be moved to other content at any time; a digest cannot ("Pull an image by digest" in
the `docker pull` reference). An image tag that is to change exactly when the image would change
can only cover a base image by its digest. No pulumi here: the config's checks may use it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")
# `$NAME`, `${NAME}` and `${NAME:-default}`: the forms of ARG substitution in a FROM line the
# Dockerfile reference documents ("Understand how ARG and FROM interact").
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>\w+)(?::-(?P<default>[^}]*))?\}|(?P<bare>\w+))")
_SYNTAX = re.compile(r"#\s*syntax\s*=\s*(?P<image>\S+)", re.IGNORECASE)
_DIRECTIVE = re.compile(r"#\s*\w+\s*=")
_FROM_FLAG = re.compile(r"(?:--|[,=])from=(?P<source>[^\s,]+)")


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """(first line, KEYWORD, arguments) of each instruction, continuation lines joined, comment
    and empty lines dropped (inside an instruction too, as Docker drops them)."""
    found = []
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not pending:
            first = number
        continued = re.search(r"\\[ \t]*$", line)
        pending.append(line[: continued.start()] if continued else line)
        if not continued:
            keyword, _, arguments = " ".join(pending).partition(" ")
            found.append((first, keyword.upper(), arguments.strip()))
            pending = []
    if pending:
        keyword, _, arguments = " ".join(pending).partition(" ")
        found.append((first, keyword.upper(), arguments.strip()))
    return found


def _frontend(text: str) -> tuple[int, str] | None:
    """The line and the `# syntax=` image BuildKit runs the build with, if the Dockerfile names
    one: parser directives are comments at the very top, before any other comment or
    instruction."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        match = _SYNTAX.fullmatch(line)
        if match:
            return number, match["image"]
        if not _DIRECTIVE.match(line):
            return None
    return None


def _substitute(reference: str, variables: Mapping[str, str]) -> str | None:
    unresolved = False

    def value(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match["braced"] or match["bare"]
        if name in variables:
            return variables[name]
        if match["default"] is not None:
            return match["default"]
        unresolved = True
        return ""

    substituted = _VARIABLE.sub(value, reference)
    return None if unresolved else substituted


def base_images(dockerfile: Path, build_args: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The images the Dockerfile builds from, in order and once each, and why each that is not
    pinned by digest fails, by line: FROM lines, `COPY --from=` and `RUN --mount=...,from=`
    naming an image rather than a stage, and the `# syntax=` frontend. `scratch` is no image."""
    text = dockerfile.read_text(encoding="utf-8")
    variables: dict[str, str] = {}
    stages: set[str] = set()
    seen_from = False
    images: list[str] = []
    problems: list[str] = []

    def named(reference: str, where: str) -> None:
        if reference.lower() in stages or reference.isdigit() or reference == "scratch":
            return
        if not DIGEST.search(reference):
            problems.append(
                f"line {number}: {where}{reference} is not pinned by digest: write it as "
                "name:tag@sha256:<digest> (`docker buildx imagetools inspect name:tag` prints "
                "the digest)"
            )
        if reference not in images:
            images.append(reference)

    frontend = _frontend(text)
    if frontend:
        number, image = frontend
        named(image, "# syntax=")
    for number, keyword, arguments in _instructions(text):
        if keyword == "ARG" and not seen_from:
            # ARGs before the first FROM may be used in FROM lines; a build arg overrides one.
            for declaration in arguments.split():
                name, has_default, default = declaration.partition("=")
                if name in build_args or has_default:
                    variables[name] = build_args.get(name, default.strip("\"'"))
        elif keyword == "FROM":
            seen_from = True
            words = [w for w in arguments.split() if not w.startswith("--")]
            reference = _substitute(words[0], variables) if words else None
            if reference is None:
                problems.append(f"line {number}: FROM {arguments}: a variable it uses has no value")
            else:
                named(reference, "FROM ")
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2].lower())
        elif keyword in ("COPY", "RUN"):
            flags = " ".join(w for w in arguments.split() if w.startswith("--"))
            for match in _FROM_FLAG.finditer(flags):
                named(match["source"], "COPY --from=" if keyword == "COPY" else "RUN --mount from=")
    return images, problems


def base_digests(dockerfile: Path, build_args: Mapping[str, str]) -> list[str]:
    """The digest of each image the Dockerfile builds from; ValueError if one is not pinned."""
    images, problems = base_images(dockerfile, build_args)
    if problems:
        raise ValueError(f"{dockerfile}: " + "; ".join(problems))
    return [match[1] for match in (DIGEST.search(image) for image in images) if match]


_ROOT = ("root", "0")


def text_of(dockerfile: Path) -> str | None:
    """The Dockerfile's text, or None if it is not UTF-8 text (docker build reads UTF-8)."""
    try:
        return dockerfile.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def has_from(dockerfile: Path) -> bool:
    """Whether the Dockerfile has a FROM: docker build refuses one that has none."""
    return any(keyword == "FROM" for _, keyword, _ in _instructions(dockerfile.read_text()))


def _declared(keyword: str, arguments: str) -> dict[str, str | None]:
    """The variables an ARG or ENV instruction sets, each to its value (None: an ARG with no
    default). ENV takes `KEY=VALUE ...` or the older `KEY VALUE`."""
    if keyword == "ENV" and "=" not in arguments.split(maxsplit=1)[0]:
        name, _, value = arguments.partition(" ")
        return {name: value.strip().strip("\"'")}
    declared: dict[str, str | None] = {}
    for word in arguments.split():
        name, has_value, value = word.partition("=")
        declared[name] = value.strip("\"'") if has_value else None
    return declared


def _stage_variables(
    instructions: list[tuple[int, str, str]], last_from: int, until: int
) -> dict[str, str]:
    """The ARG and ENV values the last stage knows at line `until`, as Docker substitutes them
    in USER ("Environment replacement" in the Dockerfile reference): an ARG with no default
    takes a global ARG's default, and a variable with no known value is left out."""
    global_args: dict[str, str | None] = {}
    variables: dict[str, str | None] = {}
    for number, keyword, arguments in instructions:
        if (
            number < last_from
            and keyword == "ARG"
            and not any(k == "FROM" and n < number for n, k, _ in instructions)
        ):
            global_args.update(_declared(keyword, arguments))
        elif last_from < number < until and keyword in ("ARG", "ENV"):
            for name, value in _declared(keyword, arguments).items():
                if value is None and keyword == "ARG":
                    value = global_args.get(name)
                variables[name] = value
    return {name: value for name, value in variables.items() if value is not None}


def user_problems(dockerfile: Path) -> list[str]:
    """Why the image the Dockerfile makes would run its job as root, by line: its last stage
    (the image) sets no USER, or its last USER is root (`root`, `0`, with or without a group),
    its ARG and ENV variables substituted; a USER whose variable has no known value may be root.
    A container runs as the image's user unless the task definition names another ("user" in
    the ECS task definition parameters), and longjobs' task definitions name none."""
    instructions = _instructions(dockerfile.read_text())
    froms = [number for number, keyword, _ in instructions if keyword == "FROM"]
    if not froms:
        return []
    users = [
        (number, arguments)
        for number, keyword, arguments in instructions
        if keyword == "USER" and number > froms[-1]
    ]
    if not users:
        return [
            f"line {froms[-1]}: the last stage sets no USER: add USER <a user or uid other "
            "than root and 0> after its FROM"
        ]
    number, user = users[-1]
    resolved = _substitute(user, _stage_variables(instructions, froms[-1], number))
    if resolved is None:
        return [
            f"line {number}: USER {user}: a variable it uses has no value, so it may be root: "
            "give the variable a default other than root or 0, or name the user"
        ]
    if resolved.split(":")[0].strip() in _ROOT:
        shown = user if resolved == user else f"{user} ({resolved})"
        return [f"line {number}: USER {shown} is root: name another user or uid"]
    return []
