"""The container image and the package carry every room of the code, and nothing private."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _top_level_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {name.split(".")[0] for name in config["tool"]["setuptools"]["packages"]}


def test_every_package_is_declared_for_installation() -> None:
    on_disk = {
        path.parent.relative_to(ROOT).as_posix()
        for path in ROOT.glob("*/**/__init__.py")
        if path.parent.relative_to(ROOT).parts[0] not in {"tests", ".venv", "bench", "build"}
    }
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {name.replace(".", "/") for name in config["tool"]["setuptools"]["packages"]}
    assert on_disk <= declared, sorted(on_disk - declared)


def test_the_image_copies_every_top_level_package() -> None:
    copied = {
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and not line.startswith("COPY pyproject")
    }
    assert _top_level_packages() <= copied, sorted(_top_level_packages() - copied)


def test_the_image_leaves_out_the_venv_data_and_secrets() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "data", ".env", "*.pem", ".git"} <= ignored


def test_compose_keeps_the_database_password_out_of_the_url() -> None:
    app = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["app"]
    environment = app["environment"]
    assert "POSTGRES_PASSWORD" not in environment["DATABASE_URL"]
    assert environment["PGPASSWORD"] == "${POSTGRES_PASSWORD}"
