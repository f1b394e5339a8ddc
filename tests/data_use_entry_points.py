"""Finding every entry point and what it declares about residents' data (for
``test_data_use_coverage.py``): URL patterns and the API's operations, management commands and
their subcommands, background tasks. And a small static call graph: which functions write a
data-use event, directly or through the functions they call.
"""

from __future__ import annotations

import ast
import functools
import gc
import importlib
import inspect
from argparse import _SubParsersAction
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.core.management import get_commands, load_command_class
from django.urls import get_resolver

import borough
from borough.core.subcommands import SubcommandCommand
from borough.transparency import coverage
from tests.test_access import _walk  # the URLconf walk the access table uses

HOW_TO_DECLARE = (
    "declare it with @data_use(touches=RESIDENT_DATA, purposes=[...]) or "
    '@data_use(none="why it uses no resident\'s data") from borough.transparency.coverage '
    "(a command's subcommands: data_use_by_subcommand on the command, or DATA_USE in a "
    "subcommand module; code that cannot import it: DECLARED_HERE in that module). See "
    'docs/data-use-log.md, "Every use, by construction".'
)


@dataclass(frozen=True)
class Entry:
    kind: str  # "page", "API operation", "command" or "task"
    name: str  # "/staff/data-use", "POST /api/v1/verifications", "borough housing bacs-run"
    target: object  # what runs: a function, or a command's module or class
    declaration: coverage.DataUse | None

    def problem(self) -> str:
        return f"The {self.kind} {self.name} ({_where(self.target)}) declares no data use: " + (
            HOW_TO_DECLARE
        )


def _where(target) -> str:
    if inspect.ismodule(target):
        return target.__name__
    target = inspect.unwrap(target) if callable(target) else target
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"


def _declaration(target) -> coverage.DataUse | None:
    found = coverage.declared(target)
    if found is not None:
        return found
    if isinstance(target, functools.partial):
        target = target.func
    target = getattr(target, "view_class", None) or inspect.unwrap(target)
    module = getattr(target, "__module__", "")
    return coverage.declared_here(f"{module}.{target.__qualname__}", module)


# -- pages and API operations ------------------------------------------------------------------


def _path_view(callback):
    """The django-ninja ``PathView`` behind an API URL pattern, or None for any other view."""
    from ninja.operation import PathView

    for cell in getattr(callback, "__closure__", None) or ():
        if isinstance(cell.cell_contents, PathView):
            return cell.cell_contents
    return None


def url_entries(patterns=None) -> list[Entry]:
    """Every URL pattern (the whole URLconf, the admin included), with each API operation
    behind an API URL as its own entry."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns if patterns is None else patterns):
        url = "/" + route.replace("^", "").replace("$", "")
        path_view = _path_view(pattern.callback)
        if path_view is None:
            declared = coverage.declared_here(url) if url.startswith("/admin/") else None
            declared = declared or _declaration(pattern.callback)
            found.append(Entry("page", url, pattern.callback, declared))
            continue
        for operation in path_view.operations:
            func = operation.view_func
            for method in sorted(operation.methods):
                found.append(Entry("API operation", f"{method} {url}", func, _declaration(func)))
    return found


# -- management commands -----------------------------------------------------------------------


def _subcommand_names(command) -> list[str]:
    parser = command.create_parser("borough", "")
    for action in parser._actions:
        if isinstance(action, _SubParsersAction):
            return list(action.choices)
    return []


def _command_entries_of(name: str, command) -> list[Entry]:
    typed = f"borough {name}"
    if isinstance(command, SubcommandCommand):
        return [
            Entry(
                "command",
                f"{typed} {sub}",
                module,
                getattr(module, "DATA_USE", None) or coverage.declared_here(f"{typed} {sub}"),
            )
            for sub, module in command.subcommands().items()
        ]
    by_sub = getattr(type(command), "data_use_by_subcommand", {})
    subs = _subcommand_names(command)
    if not subs:
        declared = coverage.declared(type(command)) or coverage.declared_here(typed)
        return [Entry("command", typed, type(command), declared)]
    return [
        Entry(
            "command",
            f"{typed} {sub}",
            type(command),
            by_sub.get(sub) or coverage.declared_here(f"{typed} {sub}"),
        )
        for sub in subs
    ]


def command_entries(commands: dict | None = None) -> list[Entry]:
    """Every management command of Borough's own apps, one entry per subcommand.
    ``commands``: name → command instance (default: Django's, from Borough's apps)."""
    if commands is None:
        commands = {
            name: load_command_class(app, name)
            for name, app in get_commands().items()
            if app == "borough" or app.startswith("borough.")
        }
    found = []
    for name, command in sorted(commands.items()):
        found.extend(_command_entries_of(name, command))
    return found


# -- background tasks --------------------------------------------------------------------------

PRODUCT_SKIP = ("borough.synth", ".tests", ".migrations")


def product_modules() -> list[tuple[str, Path]]:
    """Borough's product modules (not ``synth``, tests or migrations) and their files."""
    root = Path(borough.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        if name.startswith(PRODUCT_SKIP[0]) or any(s in f".{name}." for s in PRODUCT_SKIP[1:]):
            continue
        found.append((name, path))
    return found


def task_entries(module_names: Iterable[str] | None = None) -> list[Entry]:
    """Every django-tasks ``@task`` in Borough's modules (any module that imports the task
    API is imported and searched)."""
    from django_tasks.base import Task

    if module_names is None:
        module_names = [
            name
            for name, path in product_modules()
            if "django_tasks import" in (text := path.read_text()) or "django.tasks import" in text
        ]
    found = []
    for name in module_names:
        module = importlib.import_module(name)
        for attribute, value in sorted(vars(module).items()):
            if isinstance(value, Task) and value.func.__module__ == module.__name__:
                found.append(
                    Entry("task", f"{name}.{attribute}", value.func, _declaration(value.func))
                )
    return found


def all_entries() -> list[Entry]:
    return url_entries() + command_entries() + task_entries()


# -- which functions record (a static call graph by import) -----------------------------------

SEED = ("borough.transparency.services", "record_data_use")


class _Module(ast.NodeVisitor):
    """One module's imports and, for each function (by name), what it calls: one pass."""

    def __init__(self, name: str, tree: ast.Module, known_modules: set[str]) -> None:
        self.name = name
        self.known_modules = known_modules
        self.aliases: dict[str, tuple[str, str | None]] = {}  # name → (module, attribute)
        self._called: dict[str, list[ast.expr]] = {}
        self._stack: list[str] = []
        self.visit(tree)
        # resolved after the pass: an import inside a function may come after a call
        self.calls = {
            function: {r for func in called if (r := self._resolve(func))}
            for function, called in self._called.items()
        }

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                self.aliases[alias.asname or alias.name] = (
                    (full, None) if full in self.known_modules else (node.module, alias.name)
                )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = (alias.name, None)

    def visit_FunctionDef(self, node) -> None:
        self._called.setdefault(node.name, [])
        self._stack.append(node.name)
        self.generic_visit(node)
        self._stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        for function in self._stack:  # an outer function calls what its inner ones call
            self._called[function].append(node.func)
        self.generic_visit(node)

    def _resolve(self, func) -> tuple[str, str] | None:
        if isinstance(func, ast.Name):
            module, attribute = self.aliases.get(func.id, (self.name, None))
            return (module, attribute) if attribute else (self.name, func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id in ("self", "cls", "command"):
                return (self.name, func.attr)
            module, attribute = self.aliases.get(func.value.id, ("", None))
            if module and attribute is None:
                return (module, func.attr)
        return None


def _parse(path: Path) -> ast.Module:
    """``ast.parse`` with the garbage collector paused: on CPython 3.11.7 a finalizer that runs
    while the tree is being built (py4j's, after the Spark tests) can make it raise "AST
    constructor recursion depth mismatch" (CPython gh-106905, fixed in 3.11.8)."""
    source = path.read_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source)
    except SystemError:  # the same bug by another route: parse again, once
        return ast.parse(source)
    finally:
        if enabled:
            gc.enable()


@functools.cache
def recording_functions() -> frozenset[tuple[str, str]]:
    """(module, function name) of every product function that writes a data-use event: it
    calls ``record_data_use``, or a function that does, followed through imports."""
    modules = product_modules()
    known = {name for name, _ in modules}
    parsed = {name: _Module(name, _parse(path), known) for name, path in modules}

    def canonical(module: str, name: str, hops: int = 5) -> tuple[str, str]:
        # a name a package re-exports (``from .service import verify``) → where it is defined
        while hops and module in parsed and name not in parsed[module].calls:
            target = parsed[module].aliases.get(name)
            if not target or target[1] is None:
                break
            module, name, hops = target[0], target[1], hops - 1
        return module, name

    callers: dict[tuple[str, str], set[tuple[str, str]]] = {}  # callee → its callers
    for module in parsed.values():
        for function, calls in module.calls.items():
            for call in calls:
                callers.setdefault(canonical(*call), set()).add((module.name, function))
    recorders, waiting = {SEED}, [SEED]
    while waiting:
        for caller in callers.get(waiting.pop(), ()):
            if caller not in recorders:
                recorders.add(caller)
                waiting.append(caller)
    return frozenset(recorders)


def records_statically(target) -> bool:
    """Whether ``target`` (a view or task function, a subcommand module's ``run``, a command
    class's ``handle``) calls, through its code, something that writes a data-use event."""
    if inspect.ismodule(target):
        key = (target.__name__, "run")
    elif inspect.isclass(target):
        key = (target.__module__, "handle")
    else:
        function = inspect.unwrap(target)
        key = (function.__module__, function.__name__)
    return key in recording_functions()
