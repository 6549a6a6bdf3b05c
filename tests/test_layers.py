"""The layers point one way: the club's apps know nothing of bexio; bexio and the sandbox know no
Django; no import cycles between the modules of the app."""

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CLUB_APPS = ("tenancy", "members", "flights", "billing")


def _imports(path: Path):
    """(module imported, at module level?) for every import in the file."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    package = ".".join(path.relative_to(SRC).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name, id(node) in top
            for alias in node.names:  # `from . import x` imports the module x
                yield f"{name}.{alias.name}", id(node) in top


def _modules(root: Path):
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        yield path


def test_club_apps_never_import_the_bexio_layer():
    for app in CLUB_APPS:
        for path in _modules(SRC / "aeroledger" / app):
            for name, _top in _imports(path):
                assert not name.startswith(("aeroledger.bexio_link", "bexio")), f"{path}: imports {name}"


def test_club_templates_never_name_bexio_urls():
    for app in CLUB_APPS:
        for path in (SRC / "aeroledger" / app).rglob("*.html"):
            text = path.read_text()
            assert "bexio_transfer:" not in text and "bexio_masterdata:" not in text, path


def test_the_client_and_the_sandbox_know_no_django():
    for package in ("bexio", "bexio_sandbox"):
        for path in _modules(SRC / package):
            for name, _top in _imports(path):
                assert not name.startswith(("django", "aeroledger")), f"{path}: imports {name}"
                other = "bexio_sandbox" if package == "bexio" else "bexio."
                assert not name.startswith(other) or package == "bexio" and name.startswith("bexio."), path


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycles_at_module_level():
    """A module-level import graph without cycles (imports inside functions are not edges)."""
    modules = {_module_name(p): p for p in _modules(SRC / "aeroledger")}
    graph = defaultdict(set)
    for name, path in modules.items():
        for imported, top in _imports(path):
            if not top:
                continue
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                graph[name].add(imported)
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()

    for module in sorted(modules):
        visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])
