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


def test_compose_scales_stateless_app_instances_behind_a_trusted_proxy() -> None:
    """`docker compose up --scale app=3` (SPEC §11): the instances keep nothing on their disks
    (documents in the object store), publish no port of their own, and believe X-Forwarded-For
    only from the proxy's fixed address."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    app, proxy = services["app"], services["proxy"]
    assert "ports" not in app and "volumes" not in app and "container_name" not in app
    assert app["environment"]["STORAGE_BACKEND"] == "s3"
    assert app["environment"]["S3_ENDPOINT_URL"].startswith("http://s3:")
    proxy_address = proxy["networks"]["backend"]["ipv4_address"]
    assert app["environment"]["TRUSTED_PROXIES"] == proxy_address
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" not in app["command"], "one migration before the instances, not one each"
