"""Imports flow one way: no cycle between the project's modules, counting imports inside
functions too (they are where cycles hide), and the registries import nothing of the project."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ('benchmark', 'methods')


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
    pkg = tmp_path / 'benchmark'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'a.py').write_text('from benchmark import b\n')
    (pkg / 'b.py').write_text('def f():\n    from benchmark.a import x\n    return x\n')
    modules = project_modules(tmp_path, ('benchmark',))
    assert find_cycle(import_graph(modules)) == ['benchmark.a', 'benchmark.b', 'benchmark.a']


def test_no_import_cycle_between_project_modules():
    cycle = find_cycle(import_graph(project_modules()))
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)


@pytest.mark.parametrize('module', ['benchmark.registry', 'benchmark.plugins',
                                    'benchmark.errors'])
def test_registries_and_plugin_loading_import_nothing_of_the_project(module):
    modules = project_modules()
    assert imported_names(modules[module], module, modules) == []


def test_no_private_name_is_imported_from_another_module():
    modules = project_modules()
    private = [f'{m} imports {name} from {target}' for m, p in modules.items()
               for target, name in imported_names(p, m, modules) if name.startswith('_')]
    assert private == []


@pytest.mark.parametrize('layer,allowed', [
    # benchmark.io, .lock and .orphans are leaf utilities (files, locks, processes) that import
    # nothing above them; benchmark.errors (the user-error class) imports nothing at all
    ('benchmark.data', ('benchmark.data', 'benchmark.registry', 'benchmark.io', 'benchmark.lock',
                        'benchmark.orphans', 'benchmark.errors')),
    # methods sit above the data layer: a data preprocessor may apply its augmentation functions
    ('methods', ('methods', 'benchmark.registry', 'benchmark.data', 'benchmark.errors')),
])
def test_lower_layers_do_not_import_higher_ones(layer, allowed):
    """data -> methods -> runner -> features -> protocols -> leaderboard."""
    graph = import_graph(project_modules())
    upward = sorted(f'{m} -> {t}' for m, targets in graph.items()
                    if m == layer or m.startswith(layer + '.') for t in targets
                    if not any(t == a or t.startswith(a + '.') for a in allowed))
    assert upward == []
