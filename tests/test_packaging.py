"""The wheel ships the product only (issue 16): the harnesses live in benchmarks/, and
nothing the wheel installs imports a test-only library or runs pip.

Reads the packages the way setuptools' `[tool.setuptools.packages.find]` does for the
wheel (namespaces on, pyproject's include), so moving a harness back under jira_etl/ or
widening the include fails here without building a wheel (that needs the network for
the build backend)."""
import ast
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = {"hypothesis", "pytest", "pip"}


def wheel_packages() -> list[str]:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    found = find_namespace_packages(where=str(ROOT), include=find["include"], exclude=find.get("exclude", ()))
    return [p for p in found if "__pycache__" not in p.split(".")]


def test_the_wheel_holds_jira_etl_and_no_harness():
    pkgs = wheel_packages()
    assert "jira_etl" in pkgs and "jira_etl.simulator" in pkgs
    assert all(p == "jira_etl" or p.startswith("jira_etl.") for p in pkgs), pkgs
    harness = [p for p in pkgs if {"bench", "benchmarks", "reliability", "tests"} & set(p.split("."))]
    assert harness == []
    assert (ROOT / "benchmarks" / "bench" / "__main__.py").is_file()
    assert (ROOT / "benchmarks" / "reliability" / "__main__.py").is_file()


def test_no_shipped_module_imports_a_test_only_library_or_pip():
    offenders = []
    for pkg in wheel_packages():
        for path in sorted((ROOT / pkg.replace(".", "/")).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    roots = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    roots = {node.module.split(".")[0]}
                elif isinstance(node, ast.Constant) and node.value in ("pip", "ensurepip"):
                    roots = {"pip"}  # `python -m pip install ...` in a subprocess
                else:
                    continue
                if roots & TEST_ONLY:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(roots & TEST_ONLY)}")
    assert offenders == []
