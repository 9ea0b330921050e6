"""The pod image's Dockerfile and the compose file, checked by the tools Docker users trust.

Docker cannot build or run here: the Dockerfile is parsed as Docker parses it
(dockerfile-parse) and linted (hadolint); the compose file is validated by docker-compose's
own ``config`` (no daemon involved); the entrypoint is linted with the other scripts
(tests/test_install_webui_extension.py runs shellcheck on scripts/**/*.sh).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from .conftest import REPO

RUNPOD = REPO / "scripts" / "runpod"
DOCKERFILE = RUNPOD / "Dockerfile"
COMPOSE = RUNPOD / "docker-compose.yml"
# The image project's documented tags: {variant}-{platform} (latest stable) or with -{version}.
BASE_TAG = re.compile(
    r"^atinoda/text-generation-webui:(default|base)-nvidia(-v\d+(\.\d+)+|-snapshot-[\w-]+)?$"
)


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    parser = DockerfileParser(path=str(DOCKERFILE))
    return parser


def instructions(dockerfile: DockerfileParser, name: str) -> list[str]:
    return [item["value"] for item in dockerfile.structure if item["instruction"] == name]


def test_the_image_builds_on_a_pinned_published_webui_image(dockerfile):
    assert BASE_TAG.match(dockerfile.baseimage), dockerfile.baseimage  # the ARG default, resolved
    assert instructions(dockerfile, "FROM") == ["${TEXTGEN_IMAGE}"]
    build_steps = " ".join(instructions(dockerfile, "RUN"))
    for webui_build in ("git clone", "requirements/full", "download-model", "server.py"):
        assert webui_build not in build_steps  # it never builds or runs the webui itself


def test_every_copied_file_exists_and_passes_the_dockerignore(dockerfile):
    ignore = [
        line.strip()
        for line in (RUNPOD / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path: str) -> bool:  # Docker's rule: the last matching pattern wins
        verdict = True
        for pattern in ignore:
            negated = pattern.startswith("!")
            bare = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
                verdict = negated
        return verdict

    copies = instructions(dockerfile, "COPY")
    assert copies
    for value in copies:
        *sources, _destination = value.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert sent(source), f"{source} is excluded from the build context"


def test_the_image_wires_the_entrypoint_requirements_and_ports(dockerfile):
    assert json.loads(instructions(dockerfile, "ENTRYPOINT")[0]) == ["/opt/joi/scripts/runpod/entrypoint.sh"]
    assert json.loads(instructions(dockerfile, "CMD")[0]) == []  # the base image's CMD would be an argument
    assert set(" ".join(instructions(dockerfile, "EXPOSE")).split()) == {"7860", "5000"}
    [install] = [step for step in instructions(dockerfile, "RUN") if "install-webui-extension.sh" in step]
    assert "--requirements-only" in install and "--python /venv/bin/python /app" in install
    assert "JOI_REQUIREMENTS_FILE=/app/extensions/joi_coach/requirements.txt" in install
    env = dockerfile.envs
    assert env["JOI_WORKSPACE"] == "/workspace" and env["JOI_TEXTGEN_DIR"] == "/app"
    # The seeds land where the entrypoint's JOI_SEED_DIR looks for them.
    copies = " ".join(instructions(dockerfile, "COPY"))
    seed = env["JOI_SEED_DIR"]
    assert f"{seed}/characters/" in copies and f"{seed}/instruction-templates/" in copies
    assert "/app/extensions/joi_coach" in copies


def test_the_image_installs_the_encryption_packages_into_the_webuis_python(dockerfile):
    """SQLCipher and cryptography (the `encryption` extra), so JOI_PASSPHRASE works on the pod;
    installed like Joi's requirements (the webui's packages held), and the build checks they import."""
    [extra_line] = re.findall(r"^encryption = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M)
    extra = re.findall(r'"([^"]+)"', extra_line)  # pyproject's optional-dependencies (py3.10: no tomllib)
    listed = [
        line.strip()
        for line in (RUNPOD / "requirements-encryption.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert sorted(listed) == sorted(extra) and any(name.startswith("sqlcipher3-binary") for name in listed)
    copies = instructions(dockerfile, "COPY")
    assert any(
        "scripts/runpod/requirements-encryption.txt" in value.split()[:-1]
        and value.split()[-1] == "/opt/joi/scripts/runpod/"
        for value in copies
    )
    [install] = [step for step in instructions(dockerfile, "RUN") if "install-webui-extension.sh" in step]
    assert "JOI_REQUIREMENTS_FILE=/opt/joi/scripts/runpod/requirements-encryption.txt" in install
    assert install.count("--requirements-only --python /venv/bin/python /app") == 2
    assert "/venv/bin/python -c" in install and "from sqlcipher3 import dbapi2" in install
    # A desktop webui's own requirements stay without them (installed only when wanted).
    desktop = (REPO / "extensions" / "joi_coach" / "requirements.txt").read_text().lower()
    assert "sqlcipher" not in desktop and "cryptography" not in desktop


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def port_text(port: str | dict) -> str:
    """A port mapping as host_ip:published:target, whichever form docker-compose printed."""
    if isinstance(port, dict):
        return f"{port.get('host_ip', '')}:{port['published']}:{port['target']}"
    return port.removesuffix("/tcp")


def compose_config(**env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("JOI_")}
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env={**clean, **env},
        check=False,
    )


def test_the_compose_file_is_valid_and_runs_the_pod_image_on_a_gpu(tmp_path):
    result = compose_config(JOI_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    service = yaml.safe_load(result.stdout)["services"]["joi"]
    assert Path(service["build"]["context"]) == REPO
    assert (REPO / service["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert BASE_TAG.match(service["build"]["args"]["TEXTGEN_IMAGE"])
    assert service["image"] == "joi-coach-pod:local"
    assert compose_config(JOI_DATA_DIR=str(tmp_path), JOI_IMAGE="me/joi-coach-pod:0.1").stdout.count(
        "image: me/joi-coach-pod:0.1"
    )
    ports = {port_text(port) for port in service["ports"]}
    assert ports == {"127.0.0.1:7860:7860", "127.0.0.1:5000:5000"}  # this machine only
    [volume] = service["volumes"]
    volume_text = volume if isinstance(volume, str) else f"{volume['source']}:{volume['target']}"
    assert volume_text.removesuffix(":rw") == f"{tmp_path}:/workspace"
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert "JOI_PASSPHRASE" in service["environment"]  # encryption at rest on your own machine too
    # Every setting it passes is one the entrypoint reads.
    source = "".join(path.read_text() for path in (RUNPOD / "joi_pod").glob("*.py"))
    for name in service["environment"]:
        assert name == "HF_TOKEN" or f'"{name}"' in source, name


def test_the_compose_file_asks_where_to_keep_the_data():
    result = compose_config()
    assert result.returncode != 0 and "set JOI_DATA_DIR" in result.stderr
