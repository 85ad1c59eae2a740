"""What an unquoted scalar of a stack file is refused with, when the readers between the file and
the program do not all read it alike (components/config/readers.py): who reads it as what, and
the form to write, as far as the key's kind says it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.config import readers
from components.config.allowed import Duration, Node, allowed_metadata, allowed_text, scalar_kind
from components.config.errors import key_path


@dataclass(frozen=True)
class Plain:
    """A plain (unquoted) scalar: what PyYAML made of it, and its text."""

    value: Any
    text: str


# What each reader is called in a message.
_NAMES = {
    ("PyYAML",): "PyYAML",
    ("yaml.v2",): "the Pulumi CLI's yaml.v2",
    ("yaml.v3",): "the Pulumi CLI's yaml.v3",
    ("yaml.v2", "yaml.v3"): "the Pulumi CLI's YAML readers (yaml.v2 and yaml.v3)",
    ("PyYAML", "yaml.v2"): "PyYAML and the Pulumi CLI's yaml.v2",
    ("PyYAML", "yaml.v3"): "PyYAML and the Pulumi CLI's yaml.v3",
    ("PyYAML", "yaml.v2", "yaml.v3"): "PyYAML and the Pulumi CLI's YAML readers (yaml.v2 and "
    "yaml.v3)",
    ("YAML 1.2",): "a YAML 1.2 reader",
}


def readings(scalar: Plain) -> list[tuple[tuple[str, ...], Any]]:
    """Each reading of a scalar under a mapping or a list, with its readers, in reader order;
    a YAML 1.1 octal also as YAML 1.2 reads it."""
    found: list[tuple[tuple[str, ...], Any]] = []
    every = [("PyYAML", scalar.value)] + [
        (r, readers.go_yaml(scalar.text, r)) for r in readers.GO_READERS
    ]
    for reader, value in every:
        index = next((i for i, (_, v) in enumerate(found) if readers.same(v, value)), None)
        if index is None:
            found.append(((reader,), value))
        else:
            found[index] = ((*found[index][0], reader), found[index][1])
    if readers.octal(scalar.text) and len(found) == 1:
        found.append((("YAML 1.2",), int(scalar.text.replace("_", ""), 10)))
    return found


def plain_problem(loc: tuple[Any, ...], scalar: Plain, node: Node, *, top: bool) -> str | None:
    """Why an unquoted scalar is refused (the readers disagree on it, or JSON cannot carry
    what they all read), or None."""
    found = _top_readings(scalar) if top else readings(scalar)
    values = [value for _, value in found]
    if len(found) == 1 and not _not_finite(values[0]):
        return None
    read = _in_words(scalar, found, top)
    written = f"{scalar.text} is not quoted" if scalar.text else "the value is empty"
    line = f"{key_path(*loc)}: {written}, so {read}"
    fix = _fix(loc[-1], scalar, _numbers(values), node)
    if fix:
        line += f"; {fix}"
    return f"{line}; allowed: {allowed_text(scalar_kind(node))}"


def _top_readings(scalar: Plain) -> list[tuple[tuple[str, ...], Any]]:
    """PyYAML's reading of a top-level scalar, and the program's of the text the CLI hands it."""
    handed = readers.program_value(scalar.text)
    if readers.same(scalar.value, handed):
        return [(("PyYAML", "the Pulumi CLI"), handed)]
    return [(("PyYAML",), scalar.value), (("the Pulumi CLI",), handed)]


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _in_words(scalar: Plain, found: list[tuple[tuple[str, ...], Any]], top: bool) -> str:
    """Who reads the scalar as what: `PyYAML reads it as the number 120 (base 60) and ...`."""
    if len(found) == 1:
        return (
            f"every reader reads it as {readers.described(found[0][1], scalar.text)}, which the "
            "Pulumi CLI cannot hand to the program (JSON has no such number)"
        )
    if top:
        (_, mine), (_, handed) = found
        return (
            f"PyYAML reads it as {readers.described(mine, scalar.text)} and the Pulumi CLI "
            f"hands it to the program as {readers.described(handed, scalar.text)}"
        )
    (first, value), *rest = found
    verb = "reads" if len(first) == 1 else "read"
    parts = [f"{_NAMES[first]} {verb} it as {readers.described(value, scalar.text)}"]
    for who, other in rest:
        # A YAML 1.2 reader's number is decimal: the text's octal does not describe it.
        source = "" if who == ("YAML 1.2",) else scalar.text
        parts.append(f"{_NAMES[who]} as {readers.described(other, source)}")
    return _and(parts)


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _numbers(values: Sequence[Any]) -> list[int | float]:
    """The finite numbers among the readings, whole ones as integers, each once."""
    found: list[int | float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        number = int(value) if float(value).is_integer() else value
        if number not in found:
            found.append(number)
    return found


def _fix(name: Any, scalar: Plain, numbers: list[int | float], node: Node) -> str | None:
    """The form to write, as far as the field's kind says it: a duration with its units, a
    number or a boolean plainly, text quoted."""
    if not scalar.text:
        return "write a value, or leave the key out"
    as_text = f'"{scalar.text}"'
    quoted = f"write {name}: {as_text}" if isinstance(name, str) else f"write it quoted: {as_text}"
    leaf = scalar_kind(node)
    if isinstance(allowed_metadata(leaf), Duration) and readers.base_60(scalar.text):
        return _duration_fix(name, scalar.text)
    if leaf.kind is bool:
        read = [scalar.value, *(readers.go_yaml(scalar.text, r) for r in readers.GO_READERS)]
        word = next((w for w in read if w is True or w is False), None)
        return None if word is None else f"write {_written(name, str(word).lower())}"
    if leaf.kind is int or isinstance(allowed_metadata(leaf), Duration):
        if len(numbers) > 1:
            forms = " or ".join(_written(name, n) for n in numbers)
            return f"write {forms}, as you mean it"
        if numbers and readers.base_60(scalar.text):
            return f"if you mean {numbers[0]}, write {_written(name, numbers[0])}"
        return f"write {_written(name, numbers[0])}" if numbers else None
    return quoted if leaf.kind is str else None


def _written(name: Any, value: object) -> str:
    return f"{name}: {value}" if isinstance(name, str) else str(value)


def _duration_fix(name: Any, text: str) -> str:
    """`2:00` as hours and minutes or as minutes and seconds; `1:30:00` as all three."""
    parts = [int(p or 0) for p in text.split(".")[0].replace("_", "").lstrip("+").split(":")]
    if len(parts) == 3:
        return f"write {_written(name, _units(parts, 'hms'))}"
    if len(parts) == 2:
        hours, minutes = _units(parts, "hm"), _units(parts, "ms")
        return f"write {_written(name, hours)} or {_written(name, minutes)}, as you mean it"
    return f"write it with units, like {_written(name, '1h30m')}"


def _units(parts: list[int], units: str) -> str:
    return "".join(f"{n}{u}" for n, u in zip(parts, units, strict=True) if n) or "0s"


def environment_problem(loc: tuple[Any, ...], scalar: Plain) -> str | None:
    """An unquoted environment value some reader does not keep as text."""
    name = str(loc[-1])
    if not isinstance(scalar.value, str):
        read = (
            f"YAML reads it as {_word(scalar.value)} (and the Pulumi CLI's readers may read it "
            "otherwise)"
        )
    else:
        found = [(r, readers.go_yaml(scalar.text, r)) for r in readers.GO_READERS]
        other = [(r, v) for r, v in found if not isinstance(v, str)]
        if not other:
            return None
        if len(other) == 2 and readers.same(other[0][1], other[1][1]):
            who = "the Pulumi CLI's YAML readers (yaml.v2 and yaml.v3) read"
        else:
            who = f"{other[0][0]}, one of the Pulumi CLI's YAML readers, reads"
        what = readers.described(other[0][1], scalar.text)
        read = f"{who} it as {what}, though PyYAML keeps it text"
    return (
        f"{key_path(*loc)}: {scalar.text} is not quoted, so {read}; environment values "
        f'are strings: write {name}: "{scalar.text}"'
    )


def _word(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
