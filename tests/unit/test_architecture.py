"""Every piece in its own room: the import graph says what may depend on what.

A domain module (aggregates and their rules) imports only the standard library, the
eventsourcing library's domain module and the value types of `schemas/`; no service imports
another service or the command line; the contracts import no infrastructure.
"""

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())
DOMAIN_MODULES = ("domain.py", "domain_dates.py", "casework.py")


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, wherever in the file (lazy imports count too)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def standard(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "path",
    [p for s in SERVICES for p in modules(f"services/{s}") if p.name in DOMAIN_MODULES],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_a_domain_module_imports_no_infrastructure(path: Path) -> None:
    service = path.parent.name
    own = tuple(f"services.{service}.{name.removesuffix('.py')}" for name in DOMAIN_MODULES)
    for module in imports(path):
        allowed = (
            standard(module)
            or module == "eventsourcing.domain"
            or module.startswith("schemas.")
            or module in own
        )
        assert allowed, f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service_and_not_the_command_line(service: str) -> None:
    for path in modules(f"services/{service}"):
        for module in imports(path):
            parts = module.split(".")
            assert parts[0] != "civil_orders", f"{path.relative_to(ROOT)} imports {module}"
            if parts[0] == "services" and len(parts) > 1:
                assert parts[1] == service, f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("folder", ["schemas", "plumbing"])
def test_the_contracts_and_plumbing_import_no_service_nor_the_command_line(folder: str) -> None:
    for path in modules(folder):
        for module in imports(path):
            root = module.split(".")[0]
            assert root not in ("services", "civil_orders"), f"{path.name} imports {module}"
            if folder == "schemas":
                assert root != "plumbing", f"schemas/{path.name} imports {module}"



# The command line at the top of `civil_orders/`, and under it one subpackage per purpose
# (the stack, operator tools, drills); the command line calls them, never they it.
COMMAND_LINE = {"__init__.py", "__main__.py", "cli.py"}


def test_the_command_line_package_holds_only_the_command_line_and_its_subpackages() -> None:
    top = ROOT / "civil_orders"
    modules_at_top = {p.name for p in top.glob("*.py")}
    assert modules_at_top == COMMAND_LINE, f"in civil_orders/: {modules_at_top - COMMAND_LINE}"
    for folder in (p for p in top.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert (folder / "__init__.py").exists(), f"civil_orders/{folder.name} is no package"


@pytest.mark.parametrize(
    "path",
    [p for p in modules("civil_orders") if p.parent != ROOT / "civil_orders"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_subpackage_of_the_command_line_imports_it(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:  # `from civil_orders import cli`
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        assert "civil_orders.cli" not in names, f"{path.relative_to(ROOT)} imports the command line"

# The one clock (`Settings.current_time`); the real time where the contracts are judged before
# a service gives them its clock; and a token's times, which its checker judges by real time.
CLOCK_READERS = {"plumbing/settings.py", "schemas/dates.py", "services/web/auth.py"}
NOW = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


@pytest.mark.parametrize("folder", ["services", "plumbing", "schemas", "civil_orders"])
def test_nothing_asks_the_time_but_the_one_clock(folder: str) -> None:
    for path in modules(folder):
        if str(path.relative_to(ROOT)) in CLOCK_READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in NOW:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    pytest.fail(f"{where} asks {owner.id}.{node.func.attr}(): use the clock")


# PostgreSQL's clock in a query (now(), current_date...) is the real time, not the services'.
SQL_CLOCK = re.compile(
    r"(?<![\w.])(now\(\)|current_date|current_timestamp|localtimestamp|clock_timestamp\(\))",
    re.IGNORECASE,
)


@pytest.mark.parametrize("service", SERVICES)
def test_no_query_of_a_service_asks_postgresql_the_time(service: str) -> None:
    for path in modules(f"services/{service}"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found = SQL_CLOCK.search(node.value)
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                assert not found, f"{where} asks PostgreSQL {found[0]}: pass the service's clock"
