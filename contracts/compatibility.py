"""The compatibility rule of the published contracts: a change must not break a v2 publisher.

A schema change is compatible when every document the released schema accepts, the new one
accepts too: fields and enum values may be added, bounds widened, a required field made
optional. It breaks a publisher when it removes a field, adds a required one, narrows an enum,
changes a type, tightens a bound or a pattern, or starts refusing extra fields. A break is a
new major version (v3, beside v2), never an edit of v2.

The released schemas are kept in contracts/schemas/released/ (what publishers built against);
`make lint` runs `python -m contracts.compatibility check`, which compares each with the file
of the same name that `make contracts` generates. `... record` copies the generated v2 files
there as the new release, and refuses when one would break the release before it. The check is
structural (JSON Schema as pydantic writes it: $ref into $defs, anyOf for unions): oneOf is read
as anyOf, and a changed pattern counts as a break even where it only widens.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "schemas"
RELEASED_DIR = SCHEMA_DIR / "released"
GUARDED_GLOB = "*.v2.schema.json"
"""The files under the rule: every v2 schema (the event, what publishers submit)."""
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "$schema", "$id", "deprecated"}
)
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in `new` refuses documents `old` accepted, one sentence each; empty if none."""
    return _Comparison(old, new).problems(old, new, "", frozenset())


class _Comparison:
    """Walks a released schema and its successor side by side (each resolves its own $refs)."""

    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root

    def problems(
        self, old: Any, new: Any, path: str, seen: frozenset[tuple[int, int]]
    ) -> list[str]:
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        if (id(old), id(new)) in seen:  # a recursive definition met again: judged already
            return []
        seen = seen | {(id(old), id(new))}
        if _accepts_anything(new) or old is False:
            return []
        if _accepts_anything(old) or new is False:
            return [f"{_at(path)}: accepts less than anything it accepted"]
        old_alternatives, new_alternatives = _alternatives(old), _alternatives(new)
        if len(old_alternatives) > 1:
            return [p for alt in old_alternatives for p in self.problems(alt, new, path, seen)]
        if len(new_alternatives) > 1:
            tries = [self.problems(old, alt, path, seen) for alt in new_alternatives]
            return [] if any(not t for t in tries) else min(tries, key=len)
        return self._single(old, new, path, seen)

    def _single(
        self, old: dict[str, Any], new: dict[str, Any], path: str, seen: frozenset[tuple[int, int]]
    ) -> list[str]:
        found = _value_problems(old, new, path)
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        for name, schema in old_properties.items():
            if name not in new_properties:
                found.append(f"{_at(path)}: field {name!r} removed")
            else:
                found += self.problems(schema, new_properties[name], f"{path}.{name}", seen)
        for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
            found.append(f"{_at(path)}: field {name!r} is now required")
        if (
            new.get("additionalProperties") is False
            and old.get("additionalProperties") is not False
        ):
            found.append(f"{_at(path)}: now refuses fields it does not name")
        if "items" in old or "items" in new:
            old_items, new_items = old.get("items", True), new.get("items", True)
            found += self.problems(old_items, new_items, f"{path}[]", seen)
        return found


def _value_problems(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    """Type, enum and bounds of one (non-union) schema."""
    found = []
    old_types, new_types = _types(old), _types(new)
    if new_types is not None and (old_types is None or not _types_within(old_types, new_types)):
        was = "any type" if old_types is None else "/".join(sorted(old_types))
        found.append(f"{_at(path)}: type changed from {was} to {'/'.join(sorted(new_types))}")
    old_values, new_values = _values(old), _values(new)
    if new_values is not None:
        missing = None if old_values is None else [v for v in old_values if v not in new_values]
        if missing is None or missing:
            lost = "values" if missing is None else ", ".join(map(json.dumps, missing))
            found.append(f"{_at(path)}: no longer accepts {lost}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            found.append(f"{_at(path)}: {key} raised to {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            found.append(f"{_at(path)}: {key} lowered to {new[key]}")
    for key in _EXACT:
        if key in new and new[key] != old.get(key):
            found.append(f"{_at(path)}: {key} changed")
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        found.append(f"{_at(path)}: items must now be unique")
    return found


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    """The schema with its $ref (into the same document) replaced by what it points at."""
    while isinstance(schema, dict) and "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _alternatives(schema: dict[str, Any]) -> list[Any]:
    """A union's branches, each with the keywords written beside the union; else the schema."""
    branches = schema.get("anyOf", schema.get("oneOf"))
    if branches is None:
        return [schema]
    beside = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    return [{**beside, **branch} if isinstance(branch, dict) else branch for branch in branches]


def _accepts_anything(schema: Any) -> bool:
    """True, or a schema of annotations only (what a reader is told, not what is checked)."""
    if not isinstance(schema, dict):
        return schema is True
    return all(k in _ANNOTATIONS or k.startswith("x-") or k == "$defs" for k in schema)


def _types(schema: dict[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    return {kind} if isinstance(kind, str) else set(kind)


def _types_within(old: set[str], new: set[str]) -> bool:
    widened = new | ({"integer"} if "number" in new else set())
    return old <= widened


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    values = schema.get("enum")
    return None if values is None else list(values)


def _at(path: str) -> str:
    return path.removeprefix(".") or "(the document)"


def check(schemas: Path = SCHEMA_DIR, released: Path = RELEASED_DIR) -> list[str]:
    """Every break of a released schema by the generated one, named `<file>: <what>`; a
    guarded file with no release yet is one too (record it)."""
    found = []
    for current in sorted(schemas.glob(GUARDED_GLOB)):
        if not (released / current.name).is_file():
            found.append(
                f"{current.name}: not released yet (python -m contracts.compatibility record)"
            )
    for baseline in sorted(released.glob("*.json")):
        current = schemas / baseline.name
        if not current.is_file():
            found.append(f"{baseline.name}: removed, and publishers built against it")
            continue
        old, new = (json.loads(p.read_text(encoding="utf-8")) for p in (baseline, current))
        found += [f"{baseline.name}: {problem}" for problem in breaking_changes(old, new)]
    return found


def record(schemas: Path = SCHEMA_DIR, released: Path = RELEASED_DIR) -> list[str]:
    """Releases the generated v2 schemas (copies them to `released`), unless one would break
    its release; returns the breaks (nothing is recorded then)."""
    found = [p for p in check(schemas, released) if "not released yet" not in p]
    if found:
        return found
    released.mkdir(parents=True, exist_ok=True)
    for current in sorted(schemas.glob(GUARDED_GLOB)):
        (released / current.name).write_text(current.read_text(encoding="utf-8"), encoding="utf-8")
    return []


def main(argv: Sequence[str] = ()) -> int:
    """`python -m contracts.compatibility check|record`: 0 when compatible, 1 (and each break
    on stderr) when not, 2 for a wrong command."""
    command = argv[0] if argv else "check"
    if command not in ("check", "record"):
        print("usage: python -m contracts.compatibility check|record", file=sys.stderr)
        return 2
    found = check() if command == "check" else record()
    for problem in found:
        print(f"contract break: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
