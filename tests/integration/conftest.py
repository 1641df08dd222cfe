"""One lab per test session, under its own project name, always taken down (also on failure and Ctrl-C).

Without a Docker engine these tests skip with the reason; with CI=true that is a failure instead.
"""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from orchestrator.errors import LabError
from orchestrator.lab import Lab, connect_engine

PROJECT = "socklabtest"
ROOT = Path(__file__).resolve().parents[2]
# the learner's account in the nodes: the host user's, or (as root, as in CI) another, so that the tests
# can tell "owned by the host user" from "owned by root"
LEARNER_UID, LEARNER_GID = ("4321", "4321") if os.getuid() == 0 else (str(os.getuid()), str(os.getgid()))
os.environ["SOCKLAB_UID"], os.environ["SOCKLAB_GID"] = LEARNER_UID, LEARNER_GID
if os.getuid() == 0:  # that user's own workspace, as a learner's clone of the repository would be; inside
    # the repository, which a local swarm's engines bind, so that a running `make swarm-local` serves the tests too
    (ROOT / ".lab").mkdir(exist_ok=True)
    WORKSPACE = Path(tempfile.mkdtemp(prefix="socklabtest-workspace-", dir=ROOT / ".lab"))
    atexit.register(shutil.rmtree, WORKSPACE, True)
    os.chown(WORKSPACE, int(LEARNER_UID), int(LEARNER_GID))
    os.environ["SOCKLAB_WORKSPACE"] = str(WORKSPACE)


RESULTS = []  # every Result of a scenario or check this session ran: the browser test shows them
CLASSES = []  # the folders of the classes this session graded: the browser test shows their pages


def pytest_collection_modifyitems(items):
    for item in items:  # marked by what it needs: a test here that reads only files is not an integration test
        if {"lab", "docker_engine"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
    # the swarm's engines last but one (idle, they still take some CPU from the timing steps of the rest); the
    # browser test last: it shows what the rest ran
    items.sort(key=lambda item: {"test_swarm.py": 1, "test_report_browser.py": 2}.get(item.path.name, 0))


@pytest.fixture(scope="session", autouse=True)
def recorded():
    """Keep every Result that scenarios.run and exercises.run return, in RESULTS."""
    from orchestrator import exercises, scenarios
    originals = {"scenario": scenarios.run, "check": exercises.run}

    def keeping(kind):
        def run(*args, **kwargs):
            result = originals[kind](*args, **kwargs)
            RESULTS.append(result)
            return result
        return run
    scenarios.run, exercises.run = keeping("scenario"), keeping("check")
    yield RESULTS
    scenarios.run, exercises.run = originals["scenario"], originals["check"]


@pytest.fixture(scope="session")
def docker_engine():
    try:
        return connect_engine()
    except LabError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs a Docker engine: {exc}", pytrace=False)
        pytest.skip(f"no Docker engine: {exc}")


@pytest.fixture(scope="session")
def lab(docker_engine):
    lab = Lab(PROJECT, engine=docker_engine)
    lab.down()  # whatever an interrupted earlier session left
    try:
        yield lab.up(workers=3)
    finally:
        lab.down()


def ping(node, *hosts, count=2, timeout=0.5):
    """{host: received} for echo requests from node."""
    result = node.program("ping", "--count", count, "--timeout", timeout, "--interval", 0.01, *hosts)
    return {t["host"]: t["received"] for t in result["targets"]}


def assert_passed(result):
    """The result, once every step has passed; else a failure listing each failed step's key and observation."""
    assert result.passed, [(s.key, s.observed) for s in result.steps if not s.passed]
    return result
