"""Fixtures for the OIDC single-sign-on suite (test_sso.py): one provider.mjs, one ``lakegate dev``
whose embedded lakeFS trusts it (subject ``alice`` → lakeFS user ``alice``, claim
``groups=data-eng`` required), and alice's access set up as admin through lakefs-sdk: repository
``sso`` and a policy allowing ``fs:*`` on it only (so ``demo`` answers AccessDenied to her).

On a failing test the harness's failure-report hook attaches the tails of every running process's
output (provider, dev, gateways) to the report.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import lakefs_sdk
import pytest

import harness
from harness import LakegateServer

from . import support as sso

ALICE_POLICY = "sso-alice-fs"


def pytest_configure(config: pytest.Config) -> None:
    """The harness's fixtures and failure report."""
    harness.register(config)


@pytest.fixture(scope="session")
def oidc_installed() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found on PATH: the OIDC provider needs Node.js and npm")
    r = subprocess.run(["bash", str(sso.INSTALL)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail(f"install.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


@pytest.fixture(scope="session")
def sso_work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sso")


@pytest.fixture(scope="session")
def sso_provider(oidc_installed: None, sso_work: Path) -> Iterator[sso.Provider]:
    p = sso.start_provider(sso_work / "provider.log", "--client-id", sso.CLIENT_ID,
                           "--claim", "groups=data-eng")
    yield p
    p.stop()


def _setup_alice(dev: LakegateServer) -> None:
    with dev.lakefs_client() as api:
        lakefs_sdk.RepositoriesApi(api).create_repository(lakefs_sdk.RepositoryCreation(
            name="sso", storage_namespace="local://sso", default_branch="main"))
        auth = lakefs_sdk.AuthApi(api)
        auth.create_policy(lakefs_sdk.Policy(id=ALICE_POLICY, statement=[
            lakefs_sdk.Statement(effect="allow", action=["fs:*"], resource="arn:lakefs:fs:::repository/sso"),
            lakefs_sdk.Statement(effect="allow", action=["fs:*"], resource="arn:lakefs:fs:::repository/sso/*"),
        ]))
        auth.attach_policy_to_user("alice", ALICE_POLICY)
        attached = [p.id for p in auth.list_user_policies("alice").results]
        assert attached == [ALICE_POLICY], attached


@pytest.fixture(scope="session")
def sso_dev(sso_provider: sso.Provider, sso_work: Path) -> Iterator[LakegateServer]:
    dev = sso.start_dev(sso_work / "dev", sso_work / "dev.log", [
        "--oidc-issuer", sso_provider.issuer, "--oidc-client-id", sso.CLIENT_ID,
        "--oidc-user", "alice=alice", "--oidc-required-claim", "groups=data-eng",
    ])
    try:
        _setup_alice(dev)
        yield dev
    finally:
        dev.stop()


@pytest.fixture(scope="session")
def gateways(sso_dev: LakegateServer, sso_work: Path) -> Iterator[Callable[[str, Path], LakegateServer]]:
    """Starts extra ``lakegate serve`` gateways on the dev lakeFS: gateways(name, key_file)."""
    started = []

    def start(name: str, key_file: Path) -> LakegateServer:
        gw = sso.start_serve(sso_dev, sso_work, name, key_file)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()
