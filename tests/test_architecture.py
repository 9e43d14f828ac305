"""The rules the package's layout promises (docs/contributing.md, "The house"), checked.

- The package root shows at most fourteen names: wiring (app, emulator, settings, registry,
  surfaces), core/, cli/, a slice per product (theazo/, theo/) and the admin surface, and the
  shared machinery that is neither kernel nor product (record/, fixtures/).
- A product is one slice with the same file names as the other (surface.py, routes/,
  domain/, bodies/, migrations.py, endpoints.txt), and nothing named for Theo lives outside
  its slice.
- Nothing outside an endpoint package (theazo/routes, theo/routes, admin/routes) imports it:
  endpoints are free to change; what other code shares lives in a domain (or the core).
- Nothing below the wiring (core/, record/, fixtures/, admin/, cli/, the product slices)
  imports the Emulator, not even under TYPE_CHECKING: cross-tenant code names it core/host.Host, which the
  Emulator satisfies, and the command line builds one through app.create_app.
- No import cycle between the package's modules, counting imports inside functions too
  (only `if TYPE_CHECKING:` blocks, which never run, are left out), so no cycle is dodged.
- Neither product slice imports the other, not even under TYPE_CHECKING: what both need
  lives in core/.
- Counting TYPE_CHECKING imports too, the largest import loop is three modules, all core.
- A domain takes a tenant's handle, never the Emulator; only timer sources and Theo's key
  lookup take the running instance. The whole store is reached through the running instance
  at most twenty times, each in a named place that is cross-tenant by nature.
- One direction between a product's layers: bodies may import their domain (its constants,
  validators, the agent config), a domain never imports bodies, not even for a type under
  TYPE_CHECKING (it takes plain values or its own types), and no two folders of a slice
  import each other (the workflow engine is domain/workflow/, part of the domain).
- Raw SQL through `.db.execute` stays in the modules that own their tables; endpoint
  modules reach the store only through the tenant-scoped view (`ctx.store`).
- The tables holding tenant data are exactly the registry's, and schema.JSON names real
  tables and columns.
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

from theazo_emu import registry
from theazo_emu.core.schema import JSON, prepare

PACKAGE = Path(__file__).resolve().parent.parent / "theazo_emu"
# Modules that own tables or the connection, and so may write SQL against the connection.
RAW_SQL_OWNERS = {
    "core.store", "core.schema", "core.migrations", "core.snapshot", "core.crypto", "emulator", "core.lazy",
    "theazo.domain.runs", "theazo.domain.checkpoints", "theazo.domain.channels",
    "theazo.domain.scheduler", "theazo.domain.agent_io", "theazo.domain.chat", "theazo.domain.guardrails",
    "theazo.domain.webhooks", "theazo.domain.workflow.approvals", "theazo.domain.workflow.engine",
}
PRODUCT_ROUTES = ("theazo.routes", "theo.routes")  # a tenant's requests: the tenant view only
ENDPOINT_PACKAGES = (*PRODUCT_ROUTES, "admin.routes")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(name: str, path: Path, typed: bool = False) -> set[str]:
    """The package's modules this module imports, at any depth but under TYPE_CHECKING
    (there too when `typed`)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node) and not typed:
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("theazo_emu"):
                target = node.module.removeprefix("theazo_emu").lstrip(".")
            else:
                target = None
            if target is not None:
                for alias in node.names:
                    child = f"{target}.{alias.name}" if target else alias.name
                    found.add(child if child in MODULES else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("theazo_emu."):
                    found.add(alias.name.removeprefix("theazo_emu."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return {m for m in found if m in MODULES}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}
TYPED_GRAPH = {name: _imports(name, path, typed=True) for name, path in MODULES.items()}
PRODUCTS = ("theazo", "theo")


def _in(package: str, module: str) -> bool:
    return module == package or module.startswith(package + ".")


SLICE = {"surface.py", "routes", "domain", "bodies", "migrations.py", "endpoints.txt"}


def test_the_package_root_shows_at_most_fourteen_names() -> None:
    names = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert len(names) <= 14, names


def test_each_product_is_a_slice_with_the_same_file_names() -> None:
    for product in ("theazo", "theo"):
        names = {p.name for p in (PACKAGE / product).iterdir()}
        assert SLICE <= names, (product, sorted(SLICE - names))


def test_nothing_named_for_theo_lives_outside_its_slice() -> None:
    theo = PACKAGE / "theo"
    outside = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("theo*")
                     if p != theo and theo not in p.parents and p.name != "__pycache__")
    assert outside == []


def test_neither_product_slice_imports_the_other() -> None:
    """What both products need lives in core/ (cron, field checks, periods of the clock, the
    delivery machine), so a product can change without the other noticing; not even a type
    is borrowed across."""
    offenders = sorted(f"{name} imports {target}" for name, targets in TYPED_GRAPH.items() for target in targets
                       for product, other in (PRODUCTS, PRODUCTS[::-1]) if _in(product, name) and _in(other, target))
    assert offenders == []


def test_nothing_outside_an_endpoint_package_imports_it() -> None:
    offenders = sorted(f"{name} imports {target}" for package in ENDPOINT_PACKAGES for name, targets in GRAPH.items()
                       if not _in(package, name) for target in targets if _in(package, target))
    assert offenders == []


BELOW_THE_WIRING = ("core", "record", "fixtures", "admin", "cli", *PRODUCTS)


def test_nothing_below_the_wiring_imports_the_emulator() -> None:
    offenders = sorted(name for name, targets in TYPED_GRAPH.items()
                       if any(_in(package, name) for package in BELOW_THE_WIRING) and "emulator" in targets)
    assert offenders == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(cycles, key=len, reverse=True)


def test_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_type_imports_close_no_loop_of_more_than_three_modules() -> None:
    """Counting `if TYPE_CHECKING:` imports too, the largest loop is the kernel's own three
    (core.http names its Surface's type, the surface builds routes from core.lazy's table,
    whose routes are core.http's): nothing ties a product, the Emulator or the domain in."""
    cycles = _cycles(TYPED_GRAPH)
    assert max(map(len, cycles), default=0) <= 3, cycles
    assert all(_in("core", name) for cycle in cycles for name in cycle), cycles


def test_a_domain_never_imports_bodies() -> None:
    bodies = [f"{product}.bodies" for product in PRODUCTS] + ["admin.bodies"]
    offenders = sorted(f"{name} imports {target}" for product in PRODUCTS for name, targets in TYPED_GRAPH.items()
                       if _in(f"{product}.domain", name) for target in targets
                       if any(_in(package, target) for package in bodies))
    assert offenders == []


# mock/engine.py prices a run with domain/pricing while the domain runs the mock engine.
MUTUAL_FOLDERS = {("theazo.domain", "theazo.mock")}


def _folder(module: str) -> str | None:
    """The slice folder a module is in (`theazo.domain`, `theo.routes`), None for a slice's own files."""
    parts = module.split(".")
    inside = len(parts) > 1 and parts[0] in PRODUCTS and (PACKAGE / parts[0] / parts[1]).is_dir()
    return ".".join(parts[:2]) if inside else None


def test_no_two_folders_of_a_slice_import_each_other() -> None:
    edges = {(_folder(name), _folder(target)) for name, targets in GRAPH.items() for target in targets}
    edges = {(a, b) for a, b in edges if a and b and a != b}
    mutual = {tuple(sorted(edge)) for edge in edges if edge[::-1] in edges}
    assert mutual <= MUTUAL_FOLDERS, sorted(mutual - MUTUAL_FOLDERS)


def test_the_import_graph_sees_function_level_imports() -> None:
    # The cycle test would be toothless if imports inside functions were not edges.
    assert "record.recording" in GRAPH["record.tape"]  # imported inside a method
    assert "core.host" not in GRAPH["core.http"] and "core.host" in TYPED_GRAPH["core.http"]  # TYPE_CHECKING only


def test_raw_sql_stays_with_the_owners_of_tables() -> None:
    offenders = sorted(name for name, path in MODULES.items() if name not in RAW_SQL_OWNERS
                       and (".db.execute" in path.read_text() or ".db.executemany" in path.read_text()))
    assert offenders == []


def test_endpoints_reach_the_store_only_through_the_tenant_view() -> None:
    offenders = sorted(name for name, path in MODULES.items() if name.startswith(PRODUCT_ROUTES)
                       and "emu.store" in path.read_text())
    assert offenders == []


def _takes_the_running_instance(path: Path) -> list[str]:
    """The functions (or `Class.method`) of a module with a parameter named `emu`."""
    found: list[str] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = f"{where}.{node.name}" if where else node.name
            if not isinstance(node, ast.ClassDef) and any(arg.arg == "emu" for arg in node.args.args):
                found.append(where)
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


# What a product's domain may hand the running instance (core/host.Host) to: the timer
# sources (core/timers hands them the instance and the whole store) and the Theo key lookup
# (a key names its tenant). Everything else takes one tenant's handle (core/tenant.Tenant).
TIMER_METHODS = {"next_due", "fire"}
DOMAIN_HOST_USERS = {"theo.domain.keys:lookup", "theo.domain.keys:declare"}


def test_a_domain_takes_a_tenant_handle_not_the_emulator() -> None:
    """Only timer sources and the key lookup take the running instance (the Emulator itself
    no product module names: test_nothing_below_the_wiring_imports_the_emulator)."""
    domains = [name for name in MODULES if any(_in(f"{product}.domain", name) for product in PRODUCTS)]
    takers = {f"{name}:{where}" for name in domains for where in _takes_the_running_instance(MODULES[name])}
    assert sorted(use for use in takers - DOMAIN_HOST_USERS if use.rpartition(".")[2] not in TIMER_METHODS) == []
    assert DOMAIN_HOST_USERS <= takers  # an entry no longer needed leaves the list


def _schema() -> dict[str, set[str]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    prepare(conn)
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: {row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")} for table in tables}


def test_the_registry_names_every_table_that_holds_tenant_data() -> None:
    tenanted = {table for table, columns in _schema().items() if "tenant" in columns}
    assert sorted(registry.TENANT_TABLES) == sorted(tenanted)
    assert len(set(registry.TENANT_TABLES)) == len(registry.TENANT_TABLES)


def test_json_columns_are_columns_of_their_tables() -> None:
    schema = _schema()
    for table, columns in JSON.items():
        assert table in schema and columns <= schema[table], table


# Every place that reaches the whole store through the running instance (`emu.store`,
# `ctx.emu.store`, `self.emu.store`), by module and function: code cross-tenant by nature.
# The kernel makes a request's tenant view and its transaction, and finds a public route's
# row whoever's it is; the owner of time hands the whole store to the timer sources; the
# delivery machine queues, starts and settles every tenant's deliveries; snapshots export and
# import every tenant's tables; the admin API (control, inspector, exposed ports, Theo's
# account admin) works across tenants; Theo's key lookup finds the tenant a key names.
# Nothing of a product's routes, and nothing of a domain but the key lookup.
CROSS_TENANT_STORE_USERS: dict[str, set[str]] = {
    "core.http": {"Ctx.store", "ApiRoute._respond", "public_row"},
    "core.timers": {"fire_until", "run_loop"},
    "core.delivery": {"queue", "_next_attempts", "attempt_request", "settle"},
    "core.snapshot": {"export_state", "import_state"},
    "admin.routes.control": {"settle", "reset"},
    "admin.routes.inspector": {"inspector_state", "inspector_run", "_Feed.poll"},
    "admin.routes.ports": {"exposed_port"},
    "theo.admin": {"_billing"},
    "theo.domain.keys": {"lookup"},
}
MAX_UNSCOPED_USES = 20


def _unscoped_store_uses(path: Path) -> list[str]:
    """The functions (or `Class.method`) of a module that reach `<...>emu.store`, once per use."""
    found: list[str] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = f"{where}.{node.name}" if where else node.name
        if (isinstance(node, ast.Attribute) and node.attr == "store"
                and ast.unparse(node.value).split(".")[-1] == "emu"):
            found.append(where or "<module>")
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(ast.parse(path.read_text()), "")
    return found


UNSCOPED_USES = [f"{name}:{where}" for name, path in sorted(MODULES.items()) for where in _unscoped_store_uses(path)]


def test_the_whole_store_is_reached_through_the_emulator_only_across_tenants() -> None:
    allowed = {f"{name}:{where}" for name, functions in CROSS_TENANT_STORE_USERS.items() for where in functions}
    assert sorted(set(UNSCOPED_USES) - allowed) == []
    assert sorted(allowed - set(UNSCOPED_USES)) == []  # listed but no longer reaching the store: take it off
    assert len(UNSCOPED_USES) <= MAX_UNSCOPED_USES, len(UNSCOPED_USES)


def test_the_unscoped_store_count_sees_every_form_of_reaching_it() -> None:
    # The count would be toothless if `ctx.emu.store` or `self.emu.store` slipped through.
    assert "core.http:public_row" in UNSCOPED_USES  # ctx.emu.store
    assert "admin.routes.inspector:_Feed.poll" in UNSCOPED_USES  # self.emu.store
    assert "core.timers:fire_until" in UNSCOPED_USES  # emu.store
