"""What the readers between a stack file and the program make of one plain (unquoted) scalar.

The Pulumi CLI reads stack files with Go YAML libraries, yaml.v2 and yaml.v3 (REFERENCE.md, "The
Pulumi CLI's view of stack config"); the plan and the tests read them with PyYAML, a YAML 1.1
reader. They agree on quoted scalars and disagree on some plain ones. And the CLI hands the
program each top-level value (`longjobs:runRetentionDays: 90`) as its text, whatever YAML made
of it: its `config.Value` is unmarshalled as a string first, and only a mapping or a list, which
cannot be, becomes a JSON object (sdk/go/common/resource/config/value.go in pulumi/pulumi).

The Go readers are modelled on their resolve.go (gopkg.in/yaml.v2 v2.4.0, gopkg.in/yaml.v3):
words from a table (v2 takes y, yes and on as true, v3 only true), then, for a scalar that starts
with a digit or a sign, a timestamp, an integer as Go's strconv.ParseInt(plain, 0, 64) reads it
with `_` removed (0x, 0o, 0b, and a leading 0 for octal), or a YAML 1.2 float (`1e3`, which
PyYAML wants as `1.0e+3`); one that starts with `.`, a float. yaml.v2 hands a timestamp to an
untyped value as its text, yaml.v3 as a time.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

GO_READERS = ("yaml.v2", "yaml.v3")
_GO_WORDS: dict[str, dict[str, Any]] = {
    "yaml.v2": {
        **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
        **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
    },
    "yaml.v3": {},
}
_BOTH_WORDS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_GO_INTEGER = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]+|[1-9][0-9]*|0)")
_YAML_12_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
# The timestamp forms both Go readers try, with one- or two-digit fields (Go's layouts
# 2006-1-2T15:4:5.999999999Z07:00, the same with a space and no zone, and 2006-1-2).
_GO_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})"
    r"|[ ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?)?"
)
# A YAML 1.1 octal (PyYAML and both Go readers: 017 is 15); YAML 1.2 reads 017 as 17.
_OCTAL = re.compile(r"[-+]?0[0-7_]*[0-7][0-7_]*")
_BASE_60 = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?")


@dataclass(frozen=True)
class Timestamp:
    """yaml.v3's time: the program gets it as RFC 3339 text, not as written."""

    text: str
    day: date


def go_yaml(text: str, reader: str) -> Any:
    """What `reader` (yaml.v2 or yaml.v3) makes of a plain scalar: the value it hands to an
    untyped Go value (then JSON), a Timestamp, or the text itself."""
    if text in _GO_WORDS[reader]:
        return _GO_WORDS[reader][text]
    if text in _BOTH_WORDS:
        return _BOTH_WORDS[text]
    if text[:1] == ".":
        return float(text) if _GO_DOT_FLOAT.fullmatch(text) else text
    if not re.match(r"[-+0-9]", text):
        return text
    stamp = _GO_TIMESTAMP.fullmatch(text)
    day = _day(stamp) if stamp else None
    if day is not None:
        return text if reader == "yaml.v2" else Timestamp(text, day)
    plain = text.replace("_", "")
    if _GO_INTEGER.fullmatch(plain):
        return _go_integer(plain)
    if _YAML_12_FLOAT.fullmatch(plain):
        return float(plain)
    return text


def _day(match: re.Match[str]) -> date | None:
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def _go_integer(plain: str) -> int:
    """An integer literal as Go's strconv.ParseInt(plain, 0, 64) reads it."""
    digits = plain.lstrip("+-")
    sign = -1 if plain.startswith("-") else 1
    if digits[:1] == "0" and digits[1:2].isdigit():
        return sign * int(digits, 8)
    return sign * int(digits, 0)


def program_value(text: str) -> Any:
    """A value the CLI handed over as text, as the program reads it: JSON when it is JSON (a
    number, true, false, null, or an object's JSON), else the text itself. JSON's NaN and
    Infinity are Python's, not JSON's: they stay text."""

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(text, parse_constant=no_constant)
    except ValueError:
        return text


def octal(text: str) -> bool:
    """A YAML 1.1 octal like 017, which YAML 1.2 readers take as decimal."""
    return bool(_OCTAL.fullmatch(text)) and len(text.lstrip("+-").replace("_", "")) > 1


def base_60(text: str) -> bool:
    """A YAML 1.1 sexagesimal number like 2:00 or 1:30:00."""
    return bool(_BASE_60.fullmatch(text))


def same(a: Any, b: Any) -> bool:
    """Whether two readings are one value of one kind (true is not 1, NaN is NaN, PyYAML's
    date is yaml.v3's time of that day)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return _kind(a) == _kind(b) and _day_of(a) == _day_of(b)


def _day_of(value: Any) -> Any:
    return value.day if isinstance(value, Timestamp) else value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, datetime | date | Timestamp):
        return "timestamp"
    return type(value).__name__


def described(value: Any, text: str) -> str:
    """A reading in words: `true`, `the number 120 (base 60)`, `the text "2:00"`."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Timestamp):
        with_time = any(c in value.text for c in "Tt ")
        return f"the time {value.text}" if with_time else f"the date {value.day.isoformat()}"
    if isinstance(value, datetime):
        return f"the time {value.isoformat(sep=' ')}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, float) and math.isinf(value):
        return "infinity" if value > 0 else "minus infinity"
    if isinstance(value, float) and math.isnan(value):
        return "not-a-number"
    if isinstance(value, int | float):
        how = " (base 60)" if base_60(text) else " (octal)" if octal(text) else ""
        return f"the number {value}{how}"
    return f"the text {json.dumps(value, ensure_ascii=False)}"
