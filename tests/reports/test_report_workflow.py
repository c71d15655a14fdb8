"""The CI workflow runs exactly the README's commands and publishes what the
report writer produces."""
from __future__ import annotations

import os
import re
import shlex

import pytest

from support.build import ROOT

yaml = pytest.importorskip("yaml", reason="python3-yaml is missing: apt-get install python3-yaml")

WORKFLOW = os.path.join(ROOT, ".github", "workflows", "conformance.yml")


def readme_commands() -> list[str]:
    """The commands of the README's first code block, comments dropped."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        block = re.search(r"^```[^\n]*\n(.*?)^```", f.read(), re.S | re.M)
    assert block, "README.md has no code block"
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(" ".join(words))
    return commands


@pytest.fixture(scope="module")
def workflow() -> dict:
    with open(WORKFLOW, encoding="utf-8") as f:
        return yaml.safe_load(f)


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def run_lines(workflow: dict) -> list[str]:
    lines = []
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            for line in str(step.get("run", "")).splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    lines.append(" ".join(words))
    return lines


def uses(workflow: dict, action: str) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])
            if str(s.get("uses", "")).split("@")[0] == action]


def test_readme_block_is_two_front_door_commands():
    commands = readme_commands()
    assert len(commands) == 2 and all(c.startswith("./tlsclose ") for c in commands), commands


def test_runs_on_push_and_pull_request(workflow):
    # YAML 1.1 reads the key `on` as the boolean true
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) >= {"push", "pull_request"}


def test_debian_12_container(workflow):
    assert workflow["jobs"]["matrix"]["container"] in ("debian:12", {"image": "debian:12"})


def test_runs_the_readme_commands(workflow):
    lines = run_lines(workflow)
    for command in readme_commands():
        assert command in lines, f"the workflow does not run `{command}`"


def test_publishes_junit_and_uploads_out(workflow):
    junit = uses(workflow, "mikepenz/action-junit-report")
    assert junit and junit[0]["with"]["report_paths"] == "out/junit.xml"
    assert "!cancelled()" in junit[0]["if"]  # published when the matrix found failures too
    artifact = uses(workflow, "actions/upload-artifact")
    assert artifact and artifact[0]["with"]["path"].rstrip("/") == "out"


def test_pages_from_the_default_branch_only(workflow):
    upload = uses(workflow, "actions/upload-pages-artifact")
    assert upload and upload[0]["with"]["path"].rstrip("/") == "out"
    pages = workflow["jobs"]["pages"]
    assert "default_branch" in pages["if"] and "push" in pages["if"]
    assert "default_branch" in upload[0]["if"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert pages["environment"]["name"] == "github-pages"
    assert uses(workflow, "actions/deploy-pages")
