"""Imports flow one way: no cycle between the project's modules, counting imports inside
functions too (they are where cycles hide); each layer of the package imports only the layers
below it (core -> data -> methods -> engine -> protocols -> report -> harness -> cli), the
package imports nothing of the maintenance tools, and the registries import nothing at all."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ('vssl_bench', 'tools')


def project_modules(root: Path = ROOT, packages=PACKAGES) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob('*.py')):
            parts = path.relative_to(root).with_suffix('').parts
            modules['.'.join(parts[:-1] if parts[-1] == '__init__' else parts)] = path
    return modules


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """Import nodes under ``if TYPE_CHECKING:`` (never executed)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and 'TYPE_CHECKING' in ast.unparse(node.test):
            skipped.update(n for stmt in node.body for n in ast.walk(stmt))
    return skipped


def imported_names(path: Path, module: str, modules: dict[str, Path]) -> list[tuple[str, str]]:
    """(project module, imported name or '') of every import in ``path``, at any depth.

    ``from pkg import name`` counts as an import of ``pkg.name`` when that is a module, else of
    ``pkg``; an import of ``a.b.c`` counts as one of the innermost project module it names.
    """
    tree = ast.parse(path.read_text())
    package = module if path.name == '__init__.py' else module.rpartition('.')[0]
    skipped = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [(alias.name, '') for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            targets = [(f'{base}.{a.name}', '') if f'{base}.{a.name}' in modules
                       else (base, a.name) for a in node.names]
        else:
            continue
        for target, name in targets:
            while target and target not in modules:
                target = target.rpartition('.')[0]
            if target and target != module:
                found.append((target, name))
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {m: {t for t, _ in imported_names(p, m, modules)} for m, p in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': set()}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b', 'c'}, 'b': {'c'}, 'c': set()}) is None


def test_a_function_level_import_counts(tmp_path):
    pkg = tmp_path / 'vssl_bench'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'a.py').write_text('from vssl_bench import b\n')
    (pkg / 'b.py').write_text('def f():\n    from vssl_bench.a import x\n    return x\n')
    modules = project_modules(tmp_path, ('vssl_bench',))
    assert find_cycle(import_graph(modules)) == ['vssl_bench.a', 'vssl_bench.b', 'vssl_bench.a']


def test_no_import_cycle_between_project_modules():
    cycle = find_cycle(import_graph(project_modules()))
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)


@pytest.mark.parametrize('module', ['vssl_bench.core.registry', 'vssl_bench.core.plugins',
                                    'vssl_bench.core.errors'])
def test_registries_and_plugin_loading_import_nothing_of_the_project(module):
    modules = project_modules()
    assert imported_names(modules[module], module, modules) == []


def test_no_private_name_is_imported_from_another_module():
    modules = project_modules()
    private = [f'{m} imports {name} from {target}' for m, p in modules.items()
               for target, name in imported_names(p, m, modules) if name.startswith('_')]
    assert private == []


#: The package's layers, lowest first; each may import itself and the layers before it.
LAYERS = ('core', 'data', 'methods', 'engine', 'protocols', 'report', 'harness', 'cli')


def layer_of(module: str) -> str | None:
    """The layer of a module of the package (``vssl_bench.engine.pretrain`` -> ``engine``); None
    for the package's ``__init__`` and for modules outside it (the tools)."""
    parts = module.split('.')
    return parts[1] if parts[0] == 'vssl_bench' and len(parts) > 1 else None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of the package that points at a higher layer or outside the package."""
    found = []
    for module, targets in graph.items():
        if not module.startswith('vssl_bench'):
            continue
        mine = layer_of(module)
        for target in targets:
            theirs = layer_of(target)
            if not target.startswith('vssl_bench'):
                found.append(f'{module} -> {target} (outside the package)')
            elif mine is not None and theirs is not None and \
                    LAYERS.index(theirs) > LAYERS.index(mine):
                found.append(f'{module} -> {target}')
    return sorted(found)


def test_every_module_belongs_to_a_layer():
    stray = [m for m in project_modules() if m.startswith('vssl_bench.')
             and layer_of(m) not in LAYERS]
    assert stray == []


def test_the_layer_rule_catches_an_upward_import():
    graph = {'vssl_bench.data.video': {'vssl_bench.core.io', 'vssl_bench.engine.pretrain'},
             'vssl_bench.report.leaderboard': {'vssl_bench.protocols.base', 'tools.faults'},
             'tools.faults': {'vssl_bench.harness.suite'}}
    assert upward_imports(graph) == [
        'vssl_bench.data.video -> vssl_bench.engine.pretrain',
        'vssl_bench.report.leaderboard -> tools.faults (outside the package)']


def test_no_layer_imports_a_higher_one():
    """core -> data -> methods -> engine -> protocols -> report -> harness -> cli, in every
    package of the project, and nothing of the package imports the maintenance tools."""
    assert upward_imports(import_graph(project_modules())) == []
