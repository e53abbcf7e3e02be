"""The IPFS content store against a real js-ipfs node: stamp --store, then fetch; and every way a
node can fail or lie, each ending in a clear error with nothing recorded as stored."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bctrace import ProofBundle, Tracer
from bctrace._internal.cid import same_cid
from bctrace._internal.hashing import check_subject
from bctrace._internal.record import Subject
from bctrace.cli import main
from bctrace.errors import ConfigError, StoreError
from bctrace._internal.stores import fetch_bundle
from bctrace.errors import StoreContentMismatch

from .conftest import FakeNode, node_folder_cid

pytestmark = pytest.mark.integration


def random_file(path: Path, size: int, seed: int = 0) -> Path:
    rnd = random.Random(seed)
    with path.open("wb") as fh:
        for start in range(0, size, 1 << 20):
            fh.write(rnd.randbytes(min(1 << 20, size - start)))
    return path


def stamp_and_flush(tracer: Tracer, path: Path) -> ProofBundle:
    tracer.stamp(path, store="ipfs")
    tracer.flush()
    return ProofBundle.read(path.with_name(path.name + ".bctrace.json"))


def test_50mb_round_trip_through_node(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path) -> None:
    data = random_file(tmp_path / "data.bin", 50 * 1024 * 1024)
    tracer = make_tracer(ipfs_api)
    bundle = stamp_and_flush(tracer, data)
    subject = bundle.record["subjects"][0]
    assert subject["cid"].startswith("bafybei") and subject["cid_params"]["chunker"] == "size-262144"
    assert bundle.record["body"]["stores"] == [{"store": "ipfs", "cid": subject["cid"]}]
    pins = httpx.post(f"{ipfs_api}/api/v0/pin/ls", params={"arg": subject["cid"]}, timeout=30)
    assert pins.status_code == 200 and same_cid(next(iter(pins.json()["Keys"])), subject["cid"])

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "bctrace.toml"), "ipfs", "fetch", str(data) + ".bctrace.json", "--to", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "data.bin").read_bytes() == data.read_bytes()


def test_folder_round_trip(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    (folder / "sub").mkdir(parents=True)
    (folder / "empty").mkdir()
    random_file(folder / "sub" / "a.bin", 300_000, seed=1)
    (folder / "b.txt").write_text("hello\n")
    (folder / "link").symlink_to("b.txt")
    tracer = make_tracer(ipfs_api)
    bundle = stamp_and_flush(tracer, folder)
    root = bundle.record["subjects"][0]["cid"]
    assert root == node_folder_cid(ipfs_api, folder) and bundle.record["subjects"][0]["cid_params"]["directory"] == "basic"
    by_path = httpx.post(f"{ipfs_api}/api/v0/cat", params={"arg": f"/ipfs/{root}/sub/a.bin"}, timeout=30)
    assert by_path.content == (folder / "sub" / "a.bin").read_bytes()  # the node holds the folder's DAG
    out = tmp_path / "out"
    with tracer.store("ipfs") as store:
        fetched = fetch_bundle(store, bundle, out)
    assert sorted(p.relative_to(out).as_posix() for p in fetched.written) == ["ds/b.txt", "ds/sub/a.bin"]
    assert fetched.skipped == []
    assert (out / "ds" / "sub" / "a.bin").read_bytes() == (folder / "sub" / "a.bin").read_bytes()
    assert (out / "ds" / "empty").is_dir() and os.readlink(out / "ds" / "link") == "b.txt"
    subject = Subject.model_validate(bundle.record["subjects"][0])
    check_subject(out / "ds", subject, bundle.record["body"])  # the fetched copy is the stamped folder


def test_node_returning_other_bytes_is_detected(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path,
                                                fake_node: Callable[..., FakeNode]) -> None:
    data = random_file(tmp_path / "data.bin", 2_000_000)
    stamp_and_flush(make_tracer(ipfs_api), data)

    def lying(handler: BaseHTTPRequestHandler) -> None:
        real = httpx.post(f"{ipfs_api}{handler.path}", timeout=30).content
        body = bytes([real[0] ^ 1]) + real[1:]
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    liar = fake_node(lying)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["ipfs", "fetch", str(data) + ".bctrace.json", "--to", str(out), "--api", liar.url])
    assert result.exit_code == 3, result.output
    assert "returned other bytes for data.bin" in result.output
    assert not out.exists()  # a failed fetch leaves nothing behind, not even the --to folder
    from bctrace_backends.ipfs.store import IpfsConfig, IpfsStore

    with IpfsStore("liar", IpfsConfig(api=liar.url)) as store, pytest.raises(StoreContentMismatch):
        fetch_bundle(store, ProofBundle.read(str(data) + ".bctrace.json"), out)


def test_node_reporting_another_cid_is_not_recorded(make_tracer: Callable[..., Tracer], tmp_path: Path,
                                                    fake_node: Callable[..., FakeNode]) -> None:
    def wrong_cid(handler: BaseHTTPRequestHandler) -> None:
        handler.rfile.read(int(handler.headers["Content-Length"]))
        body = json.dumps({"Name": "f", "Hash": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "Size": "0"}).encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    tracer = make_tracer(fake_node(wrong_cid).url)
    data = random_file(tmp_path / "data.bin", 1000)
    with pytest.raises(StoreError, match="not recorded as stored"):
        tracer.stamp(data, store="ipfs")
    assert tracer.outbox.pending_count() == 0


def test_node_down(make_tracer: Callable[..., Tracer], tmp_path: Path, closed_port: int) -> None:
    tracer = make_tracer(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(StoreError, match=r"store 'ipfs' \(http://127.0.0.1:\d+\): cannot connect to the IPFS node"):
        tracer.stamp(random_file(tmp_path / "data.bin", 1000), store="ipfs")
    assert tracer.outbox.pending_count() == 0


def test_wrong_api_url(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path) -> None:
    tracer = make_tracer(ipfs_api + "/not-the-api")
    with pytest.raises(StoreError, match="add data.bin refused: HTTP 404"):
        tracer.stamp(random_file(tmp_path / "data.bin", 1000), store="ipfs")
    assert tracer.outbox.pending_count() == 0


def test_timeout_and_auth_header_kept_secret(make_tracer: Callable[..., Tracer], tmp_path: Path,
                                             fake_node: Callable[..., FakeNode], monkeypatch: pytest.MonkeyPatch) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3)

    node = fake_node(silent)
    monkeypatch.setenv("PIN_TOKEN", "Bearer s3cret-token")
    tracer = make_tracer(node.url, timeout=0.5, auth="env:PIN_TOKEN")
    with pytest.raises(StoreError, match="add data.bin timed out after 0.5 s") as caught:
        tracer.stamp(random_file(tmp_path / "data.bin", 1000), store="ipfs")
    assert tracer.outbox.pending_count() == 0
    assert node.requests[0][1]["Authorization"] == "Bearer s3cret-token"
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(tracer.config.stores["ipfs"])
    with tracer.store("ipfs") as store:
        assert "s3cret" not in repr(store)


def test_auth_env_missing_and_literal_secret_refused(make_tracer: Callable[..., Tracer], tmp_path: Path) -> None:
    os.environ.pop("NO_SUCH_TOKEN_VAR", None)
    tracer = make_tracer("http://127.0.0.1:9", auth="env:NO_SUCH_TOKEN_VAR")
    with pytest.raises(ConfigError, match="environment variable NO_SUCH_TOKEN_VAR is not set"):
        tracer.stamp(random_file(tmp_path / "data.bin", 10), store="ipfs")
    with pytest.raises(ConfigError, match="field 'auth'"):
        make_tracer("http://127.0.0.1:9", auth="Bearer pasted-secret")


def test_git_archive_snapshot_stored(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path) -> None:
    import subprocess


    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "c"]):
        if args[0] == "add":
            (repo / "main.py").write_text("print(1)\n")
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)
    tracer = make_tracer(ipfs_api)
    recorded = tracer.stamp_git(repo, store="ipfs")
    subject = recorded.record.subjects[0]
    assert subject.cid and recorded.record.body["git"]["archive"]["cid"] == subject.cid
    tar = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", "HEAD"], capture_output=True, check=True).stdout
    stored = httpx.post(f"{ipfs_api}/api/v0/cat", params={"arg": subject.cid}, timeout=30).content
    assert stored == tar


def test_fetch_without_store_is_a_usage_error(tmp_path: Path) -> None:
    data = random_file(tmp_path / "data.bin", 100)
    config = tmp_path / "bctrace.toml"
    config.write_text('[chains.local]\nbackend = "local"\n')
    with Tracer.from_config(config) as tracer:
        tracer.stamp(data, cid=True)
        tracer.flush()
    result = CliRunner().invoke(main, ["--config", str(config), "ipfs", "fetch", str(data) + ".bctrace.json", "--to", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no content store is configured" in result.output


def test_pin_after_unpinned_add(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path) -> None:
    tracer = make_tracer(ipfs_api, pin=False)
    cid = tracer.stamp(random_file(tmp_path / "data.bin", 5000, seed=9), store="ipfs").record.subjects[0].cid
    listed = httpx.post(f"{ipfs_api}/api/v0/pin/ls", params={"arg": cid}, timeout=30)
    assert listed.status_code != 200 or not listed.json().get("Keys")
    with tracer.store("ipfs") as store:
        store.pin(cid)
    listed = httpx.post(f"{ipfs_api}/api/v0/pin/ls", params={"arg": cid}, timeout=30)
    assert listed.status_code == 200 and listed.json()["Keys"]


def test_cat_timeout_keeps_nothing(ipfs_api: str, make_tracer: Callable[..., Tracer], tmp_path: Path,
                                   fake_node: Callable[..., FakeNode]) -> None:
    data = random_file(tmp_path / "data.bin", 1000)
    stamp_and_flush(make_tracer(ipfs_api), data)

    def stalls_mid_stream(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"x" * 10)
        handler.wfile.flush()
        time.sleep(3)

    from bctrace_backends.ipfs.store import IpfsConfig, IpfsStore

    out = tmp_path / "out"
    with IpfsStore("slow", IpfsConfig(api=fake_node(stalls_mid_stream).url, timeout=0.5)) as store:
        with pytest.raises(StoreError, match=r"store 'slow' \(http://127.0.0.1:\d+\): cat b\w+ timed out after 0.5 s"):
            fetch_bundle(store, ProofBundle.read(str(data) + ".bctrace.json"), out)
    assert not out.exists()
