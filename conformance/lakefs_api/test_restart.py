"""Persistence across a restart of ``lakegate dev`` on the same data directory."""

import hashlib
import signal

import lakefs_sdk
import pytest

from harness import data_url, ns

from .support import create_repo, http, upload_bytes


@pytest.mark.ledger("every operation (server lifecycle)")
def test_restart_keeps_everything(server_factory):
    srv = server_factory()
    c = srv.lakefs_client()
    repo = create_repo(c).id
    branches = lakefs_sdk.BranchesApi(c)
    objects = lakefs_sdk.ObjectsApi(c)
    commits = lakefs_sdk.CommitsApi(c)

    committed = bytes(range(256)) * 64 + b"committed"
    upload_bytes(srv, repo, "main", "data/committed.bin", committed, content_type="application/x-bin",
                 headers={"x-lakefs-meta-k": "v"})
    c1 = commits.commit(repo, "main", lakefs_sdk.CommitCreation(message="persist me", metadata={"m": "1"}))
    branches.create_branch(repo, lakefs_sdk.BranchCreation(name="feature", source="main"))
    upload_bytes(srv, repo, "feature", "data/staged.txt", b"uncommitted but staged")
    # a staged (presigned + linked) object too
    loc = lakefs_sdk.StagingApi(c).get_physical_address(repo, "main", "linked.txt", presign=True)
    put = http("PUT", loc.presigned_url, body=b"linked bytes")
    assert put.status == 200
    lakefs_sdk.StagingApi(c).link_physical_address(
        repo, "main", "linked.txt",
        lakefs_sdk.StagingMetadata(staging=loc, checksum=put.headers["ETag"], size_bytes=12))

    before_repo = lakefs_sdk.RepositoriesApi(c).get_repository(repo)
    before_log = [x.id for x in lakefs_sdk.RefsApi(c).log_commits(repo, "main").results]
    before_branches = [(b.id, b.commit_id) for b in branches.list_branches(repo).results]
    before_repos = [r.id for r in lakefs_sdk.RepositoriesApi(c).list_repositories(amount=1000).results]
    c.close()

    rc = srv.stop(signal.SIGTERM)
    assert not srv.killed, "lakegate did not stop within 10 s of SIGTERM (had to SIGKILL it)"
    assert rc == 0, f"lakegate exited with {rc} on SIGTERM\n{srv.log_tail()}"

    srv2 = server_factory(srv.data_dir)
    assert srv2.lakefs_access_key_id == srv.lakefs_access_key_id
    assert srv2.lakefs_secret_access_key == srv.lakefs_secret_access_key
    c = srv2.lakefs_client()
    branches = lakefs_sdk.BranchesApi(c)
    objects = lakefs_sdk.ObjectsApi(c)

    r = lakefs_sdk.RepositoriesApi(c).get_repository(repo)
    assert (r.id, r.default_branch, r.storage_namespace, r.creation_date) == (
        before_repo.id, before_repo.default_branch, before_repo.storage_namespace, before_repo.creation_date)
    assert [r.id for r in lakefs_sdk.RepositoriesApi(c).list_repositories(amount=1000).results] == before_repos
    assert [(b.id, b.commit_id) for b in branches.list_branches(repo).results] == before_branches
    assert [x.id for x in lakefs_sdk.RefsApi(c).log_commits(repo, "main").results] == before_log
    g = lakefs_sdk.CommitsApi(c).get_commit(repo, c1.id)
    assert (g.message, g.metadata) == ("persist me", {"m": "1"})

    assert bytes(objects.get_object(repo, c1.id, "data/committed.bin")) == committed
    assert bytes(objects.get_object(repo, "main", "data/committed.bin")) == committed
    st = objects.stat_object(repo, "main", "data/committed.bin")
    assert st.checksum == hashlib.md5(committed).hexdigest()
    assert st.content_type == "application/x-bin"
    assert st.metadata == {"k": "v"}
    assert bytes(objects.get_object(repo, "feature", "data/staged.txt")) == b"uncommitted but staged"
    assert bytes(objects.get_object(repo, "main", "linked.txt")) == b"linked bytes"
    # presigned reads work against the new instance
    pst = objects.stat_object(repo, "main", "data/committed.bin", presign=True)
    assert pst.physical_address.startswith(data_url(srv2))
    got = http("GET", pst.physical_address)
    assert got.status == 200 and got.data == committed
    # the server is still writable after restart
    upload_bytes(srv2, repo, "main", "after-restart", b"ok")
    c2 = lakefs_sdk.CommitsApi(c).commit(repo, "main", lakefs_sdk.CommitCreation(message="after"))
    assert c2.parents == [before_log[0]]
    c.close()


@pytest.mark.ledger("every operation (server lifecycle)")
def test_sigint_stops_server(server_factory):
    srv = server_factory()
    assert srv.proc.poll() is None
    rc = srv.stop(signal.SIGINT)
    assert not srv.killed, "lakegate did not stop within 10 s of SIGINT (had to SIGKILL it)"
    assert rc in (0, 130, -signal.SIGINT), rc
    # the demo repository was created on first start and survives a restart
    srv2 = server_factory(srv.data_dir)
    with srv2.lakefs_client() as c:
        demo = lakefs_sdk.RepositoriesApi(c).get_repository("demo")
        assert (demo.default_branch, demo.storage_namespace) == ("main", ns("demo"))
