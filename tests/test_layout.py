"""The architecture the folders promise: no import cycles, cogs depend on bot (never back), a light
`health` command, and a README file map that matches the tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.operator_env import operator_env

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "cogs")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path, known: set[str]) -> set[str]:
    """Internal modules imported when `path` is imported: module level, outside `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    if candidate in known:
                        found.add(candidate)
                    elif node.module in known:
                        found.add(node.module)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: runtime_imports(path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycle_among_runtime_imports():
    graph = import_graph()
    assert len(graph) > 40  # the walk sees the whole code base
    assert cycles(graph) == []


def test_the_cycle_finder_would_notice_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_cogs_import_from_bot_and_bot_never_imports_cogs():
    graph = import_graph()
    back = {(source, target) for source, targets in graph.items() for target in targets}
    back = {(s, t) for s, t in back if s.startswith("bot") and t.startswith("cogs")}
    assert back == set()
    # Features do not import each other either: what two features share lives in bot/.
    across = {
        (s, t)
        for s, targets in graph.items()
        for t in targets
        if s.startswith("cogs.") and t.startswith("cogs.") and s.split(".")[1] != t.split(".")[1]
    }
    assert across == set()


HEALTH_PROBE = """
import sys
from bot.__main__ import main
code = main(["health"])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"discord", "httpx", "aiosqlite", "aiohttp"})
print("heavy:" + ",".join(heavy))
"""


def test_health_imports_neither_discord_nor_httpx_nor_aiosqlite(tmp_path: Path):
    env = operator_env(DISCORD_TOKEN="fake-discord-token", TT_API_KEY="fake-api-key")
    result = subprocess.run(
        [sys.executable, "-c", HEALTH_PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "unhealthy: no heartbeat" in result.stderr  # it really ran the health check
    assert result.stdout.strip().splitlines()[-1] == "heavy:"


def readme_file_map() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- file map -->", 1)[1].split("```", 2)[1]
    return [line.split()[0] for line in block.splitlines() if line.strip() and not line.startswith(" " * 20)]


def test_readme_file_map_names_every_package_and_only_what_exists():
    paths = readme_file_map()
    for path in paths:
        assert (REPO_ROOT / path).exists(), f"README names {path}, which does not exist"
    packages = {
        f"{p.parent.relative_to(REPO_ROOT).as_posix()}/"
        for package in PACKAGES
        for p in (REPO_ROOT / package).rglob("__init__.py")
        if p.parent != REPO_ROOT / package
    }
    assert packages - set(paths) == set(), "packages missing from README's file map"
