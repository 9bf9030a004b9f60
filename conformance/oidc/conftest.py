"""Fixtures for the OIDC single-sign-on suite (test_sso.py): one provider.mjs, one ``lakegate dev``
whose embedded lakeFS trusts it (subject ``alice`` → lakeFS user ``alice``, claim
``groups=data-eng`` required), and alice's access set up as admin through lakefs-sdk: repository
``sso`` and a policy allowing ``fs:*`` on it only (so ``demo`` answers AccessDenied to her).

On a failing test the tails of every process's output are attached to the report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import lakefs_sdk
import pytest

from . import sso_support as sso

ALICE_POLICY = "sso-alice-fs"

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
def sso_provider(oidc_installed, sso_work):
    p = sso.start_provider(sso_work / "provider.log", "--client-id", sso.CLIENT_ID,
                           "--claim", "groups=data-eng")
    yield p
    sso.stop_process(p.proc)


def _setup_alice(info: dict) -> None:
    conf = lakefs_sdk.Configuration(host=info["api_endpoint"], username=info["lakefs_access_key_id"],
                                    password=info["lakefs_secret_access_key"])
    with lakefs_sdk.ApiClient(conf) as api:
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
def sso_dev(sso_provider, sso_work):
    dev = sso.DevServer(sso_work / "dev", sso_work / "dev.log", [
        "--oidc-issuer", sso_provider.issuer, "--oidc-client-id", sso.CLIENT_ID,
        "--oidc-user", "alice=alice", "--oidc-required-claim", "groups=data-eng",
    ]).start()
    try:
        _setup_alice(dev.info)
        yield dev
    finally:
        dev.stop()


@pytest.fixture(scope="session")
def gateways(sso_dev, sso_work):
    """Starts extra ``lakegate serve`` gateways on the dev lakeFS: gateways(name, key_file)."""
    started = []

    def start(name: str, key_file: Path) -> sso.Gateway:
        gw = sso.start_serve(sso_dev, sso_work, name, key_file)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        sso.stop_process(gw.proc)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and item.module.__name__.endswith("test_sso"):
        for name, path in sso.LOGS:
            rep.sections.append((f"{name} ({path})", sso.tail(path, 3000)))
