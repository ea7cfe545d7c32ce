"""Who may import whom, for the packages around the tests: the publisher SDK runs at the
publisher and takes only `contracts` and `privacy` with it; production never imports the test
house (`testkit`, `tests`); nothing but the tests imports `tests`.

Read from the source (the import statements, wherever they sit in a module), so a deferred
import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("contracts", "privacy", "radar", "services", "publisher_sdk")
TEST_HOUSE = ("testkit", "tests")
OURS = (*PRODUCTION, *TEST_HOUSE, "bench")
SDK_MAY_USE = ("publisher_sdk", "contracts", "privacy")


def _modules(package: str) -> Iterator[Path]:
    yield from sorted((REPO / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[str]:
    """Every absolute module name the file imports (for `from a.b import c`, also `a.b.c`)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _source(module: str) -> Path | None:
    """The file of one of our modules, or None when the name is not a module (an attribute)."""
    base = REPO.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _ours(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in OURS else None


def test_the_publisher_sdk_takes_only_contracts_and_privacy_along() -> None:
    reached: dict[str, str] = {}  # our top-level package -> a module that pulled it in
    pending = list(_modules("publisher_sdk"))
    seen = set(pending)
    while pending:
        path = pending.pop()
        for module in _imports(path):
            if (top := _ours(module)) is None:
                continue
            reached.setdefault(top, f"{path.relative_to(REPO)} imports {module}")
            source = _source(module)
            if source is not None and source not in seen:
                seen.add(source)
                pending.append(source)
    assert {top: why for top, why in reached.items() if top not in SDK_MAY_USE} == {}


def test_production_never_imports_the_test_house() -> None:
    found = [
        f"{path.relative_to(REPO)} imports {module}"
        for package in PRODUCTION
        for path in _modules(package)
        for module in _imports(path)
        if _ours(module) in TEST_HOUSE
    ]
    assert found == []


def test_nothing_but_the_tests_imports_tests() -> None:
    found = [
        f"{path.relative_to(REPO)} imports {module}"
        for package in (*PRODUCTION, "testkit", "bench")
        for path in _modules(package)
        for module in _imports(path)
        if _ours(module) == "tests"
    ]
    assert found == []
