"""Checks deploy/ without a container engine or a cluster.

- Kubernetes manifests (and the executor pod template embedded in a ConfigMap) against the
  Kubernetes OpenAPI schemas bundled in kubernetes-validate, strictly (unknown fields fail);
- the compose file against the Compose specification schema vendored in check-jsonschema;
- the Dockerfile, parsed with dockerfile-parse, and its context filter;
- consistency between the pieces: probes and ports against lakegate's configuration, grace
  periods against its drain deadline, the TOML files against `lakegate serve`'s keys and the key
  file format, Secret/ConfigMap references, S3A's endpoint and credentials against the sidecar.

Every check is a function returning a list of problems; each has negative cases that break a
copy of the real file and expect the check to notice, so a check that stopped working fails.
Nothing here uses the network: the schemas are files inside the installed packages.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import posixpath
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_FILES = {"spark-sidecar": DEPLOY / "k8s" / "spark-sidecar.yaml", "service": DEPLOY / "k8s" / "service.yaml"}
COMPOSE_FILE = DEPLOY / "compose" / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"

# The oldest Kubernetes the manifests are meant for: native sidecars (initContainers with
# restartPolicy: Always) are on by default from 1.29, the preStop sleep action from 1.30.
K8S_VERSION = "1.30.0"
ADMIN_PORT = 9090
READY_PATH = "/readyz"
HEALTH_PATH = "/healthz"
# The code uses let-chains, stable since Rust 1.88 (Cargo.toml's rust-version says less).
MIN_RUST = (1, 88)

# What `lakegate serve` accepts in its configuration file (`--config` / LAKEGATE_CONFIG).
SERVE_KEYS = frozenset(
    {
        "listen",
        "admin_listen",
        "tls_cert",
        "tls_key",
        "domain",
        "region",
        "flat_buckets",
        "state_dir",
        "upload_id_key_file",
        "keys_file",
        "identity_mode",
        "sts_host",
        "lakefs_endpoint",
        "lakefs_access_key_id",
        "lakefs_secret_access_key",
        "log_format",
        "log_level",
        "shutdown_grace_secs",
        "max_connections",
        "max_requests_per_key",
        "request_timeout_secs",
        "idle_timeout_secs",
        "ca_file",
        "small_object_cache",
    }
)
# Keys every example configuration sets.
REQUIRED_SERVE_KEYS = ("listen", "admin_listen", "state_dir", "keys_file", "lakefs_endpoint", "shutdown_grace_secs")
MODES = ("principal", "lakefs-key", "service")
# One `[[keys]]` entry of the gateway key file (src/auth/keystore.rs, KeyRecord).
KEY_FIELDS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "principal_id",
        "user_id",
        "mode",
        "lakefs_access_key_id",
        "lakefs_secret_access_key",
        "created",
    }
)


# ---------------------------------------------------------------------------------------------
# Loading


def load_yaml_docs(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def k8s_docs(name: str) -> list[dict]:
    return load_yaml_docs(K8S_FILES[name])


def doc_id(doc: dict) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name', '?')}"


def embedded_pods(docs: list[dict]) -> list[tuple[str, dict]]:
    """Pod manifests held as `*.yaml` entries of ConfigMaps (Spark's executor pod template)."""
    out = []
    for d in docs:
        if d.get("kind") != "ConfigMap":
            continue
        for key, text in (d.get("data") or {}).items():
            if key.endswith((".yaml", ".yml")):
                obj = yaml.safe_load(text)
                if isinstance(obj, dict) and obj.get("kind") == "Pod":
                    out.append((f"{doc_id(d)}[{key}]", obj))
    return out


def all_k8s_objects() -> list[tuple[str, dict]]:
    out = []
    for name in K8S_FILES:
        docs = k8s_docs(name)
        out += [(f"{name}:{doc_id(d)}", d) for d in docs]
        out += [(f"{name}:{where}", pod) for where, pod in embedded_pods(docs)]
    return out


# ---------------------------------------------------------------------------------------------
# Kubernetes schemas


def k8s_schema_problems(doc: dict) -> list[str]:
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        where = ".".join(str(p) for p in e.path) or "(document)"
        return [f"{doc_id(doc)}: {where}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [e.message]
    return []


K8S_OBJECTS = all_k8s_objects()


@pytest.mark.parametrize("where,doc", K8S_OBJECTS, ids=[w for w, _ in K8S_OBJECTS])
def test_kubernetes_schema(where, doc):
    assert k8s_schema_problems(doc) == []


def _first(docs, kind):
    return next(d for d in docs if d["kind"] == kind)


def _break_probe_field(docs):
    c = _first(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    c["readinesProbe"] = c.pop("readinessProbe")  # a typo: unknown field


def _break_port_type(docs):
    _first(docs, "Service")["spec"]["ports"][0]["port"] = "8000"


def _break_missing_containers(docs):
    del _first(docs, "Deployment")["spec"]["template"]["spec"]["containers"]


def _break_api_version(docs):
    _first(docs, "PodDisruptionBudget")["apiVersion"] = "policy/v1beta9"


def _break_pod_unknown_field(docs):
    _first(docs, "Pod")["spec"]["initContainers"][0]["sidecar"] = True


K8S_SCHEMA_BREAKS = {
    "unknown-field": ("service", _break_probe_field),
    "wrong-type": ("service", _break_port_type),
    "missing-required": ("service", _break_missing_containers),
    "unknown-api-version": ("service", _break_api_version),
    "pod-unknown-field": ("spark-sidecar", _break_pod_unknown_field),
}


@pytest.mark.parametrize("case", sorted(K8S_SCHEMA_BREAKS))
def test_kubernetes_schema_rejects_broken_copy(case):
    name, breaker = K8S_SCHEMA_BREAKS[case]
    docs = copy.deepcopy(k8s_docs(name))
    breaker(docs)
    problems = [p for d in docs for p in k8s_schema_problems(d)]
    assert problems, f"the validator accepted a broken copy of {name} ({case})"


# ---------------------------------------------------------------------------------------------
# Compose schema (check-jsonschema's vendored Compose specification, run as its CLI)


def compose_schema_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_schema():
    r = compose_schema_check(COMPOSE_FILE)
    assert r.returncode == 0, r.stdout + r.stderr


def _compose_break_unknown_service_key(c):
    c["services"]["lakegate"]["stop_grace_periods"] = c["services"]["lakegate"].pop("stop_grace_period")


def _compose_break_condition(c):
    c["services"]["lakegate"]["depends_on"]["lakefs"]["condition"] = "service_ready"


def _compose_break_top_level(c):
    c["service"] = c.pop("services")


COMPOSE_SCHEMA_BREAKS = {
    "unknown-service-key": _compose_break_unknown_service_key,
    "bad-depends-on-condition": _compose_break_condition,
    "unknown-top-level-key": _compose_break_top_level,
}


@pytest.mark.parametrize("case", sorted(COMPOSE_SCHEMA_BREAKS))
def test_compose_schema_rejects_broken_copy(case, tmp_path):
    compose = load_yaml_docs(COMPOSE_FILE)[0]
    COMPOSE_SCHEMA_BREAKS[case](compose)
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(compose))
    r = compose_schema_check(broken)
    assert r.returncode != 0, f"check-jsonschema accepted a broken copy ({case}): {r.stdout}"


# ---------------------------------------------------------------------------------------------
# Dockerfile


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:2])


def _stages(parser: DockerfileParser) -> list[list[dict]]:
    stages: list[list[dict]] = []
    for ins in parser.structure:
        if ins["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def dockerignore_allows(patterns: list[str], path: str) -> bool:
    """Whether a context path is sent, for the simple `*` / `!name` patterns this file uses."""
    allowed = True
    for p in patterns:
        negate = p.startswith("!")
        pat = p[1:] if negate else p
        if pat == "*" or path == pat or path.startswith(pat.rstrip("/") + "/"):
            allowed = negate
    return allowed


def dockerfile_problems(text: str, ignore_text: str, cargo_toml: dict) -> list[str]:
    problems = []
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    stages = _stages(parser)
    images = parser.parent_images
    if len(stages) < 2:
        problems.append(f"{len(stages)} stage(s): a multi-stage build needs at least 2")
    final_image = images[-1] if images else ""
    final_repo = final_image.split("@")[0].rsplit(":", 1)[0]
    if final_repo.rsplit("/", 1)[-1] == "rust" or "rust" in final_repo:
        problems.append(f"the runtime stage is a Rust toolchain image ({final_image})")
    builders = [img for img in images[:-1] if img.split(":")[0].rsplit("/", 1)[-1] == "rust"]
    if not builders:
        problems.append("no stage builds with a rust image")
    declared = cargo_toml["package"].get("rust-version", "0.0")
    if isinstance(declared, dict):  # `rust-version.workspace = true`: the workspace's
        declared = cargo_toml.get("workspace", {}).get("package", {}).get("rust-version", "0.0")
    needed = max(MIN_RUST, _version_tuple(declared))
    for img in builders:
        tag = img.split(":", 1)[1] if ":" in img else ""
        v = _version_tuple(tag)
        if len(v) < 2 or v < needed:
            problems.append(f"builder {img}: needs Rust {needed[0]}.{needed[1]} or newer, pinned as major.minor")

    final = stages[-1] if stages else []
    users = [i["value"].strip() for i in final if i["instruction"] == "USER"]
    if not users:
        problems.append("the runtime stage sets no USER (it would run as root)")
    elif not re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", users[-1]):
        problems.append(f"USER {users[-1]!r}: not a numeric non-root uid (runAsNonRoot cannot check a name)")
    entry = [i["value"] for i in final if i["instruction"] == "ENTRYPOINT"]
    if not entry or not entry[-1].strip().startswith("["):
        problems.append("no exec-form ENTRYPOINT in the runtime stage")
    else:
        argv = json.loads(entry[-1])
        if not argv or posixpath.basename(argv[0]) != "lakegate":
            problems.append(f"ENTRYPOINT {argv}: not lakegate")
    cmd = [i["value"] for i in final if i["instruction"] == "CMD"]
    if not cmd or cmd[-1].replace(" ", "") != '["serve"]':
        problems.append('CMD is not ["serve"]')
    exposed = {p.split("/")[0] for i in final if i["instruction"] == "EXPOSE" for p in i["value"].split()}
    for port in ("8000", str(ADMIN_PORT)):
        if port not in exposed:
            problems.append(f"port {port} not exposed")
    copied = [i["value"] for i in final if i["instruction"] == "COPY"]
    if not any(v.startswith("--from=") and v.split()[-1] == "/usr/local/bin/lakegate" for v in copied):
        problems.append("the runtime stage does not copy the binary from a build stage to /usr/local/bin/lakegate")

    runs = [i["value"] for s in stages for i in s if i["instruction"] == "RUN"]
    builds = [cmd for r in runs for cmd in re.split(r"&&|;", r) if "cargo build" in cmd]
    if not any(re.search(r"--bin[ =]lakegate\b", b) and "--release" in b for b in builds):
        problems.append("no `cargo build --release --bin lakegate`")
    for b in builds:
        if "--locked" not in b:
            problems.append(f"cargo build without --locked: {b.strip()}")

    patterns = [ln.strip() for ln in ignore_text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    for s in stages:
        for i in s:
            if i["instruction"] in ("COPY", "ADD") and "--from=" not in i["value"]:
                for src in i["value"].split()[:-1]:
                    if not src.startswith("--") and not dockerignore_allows(patterns, src.rstrip("/")):
                        problems.append(f"{i['instruction']} {src}: excluded by Dockerfile.dockerignore")
    for heavy in ("target", ".git", ".venv", "lakegate-data"):
        if dockerignore_allows(patterns, heavy):
            problems.append(f"Dockerfile.dockerignore sends {heavy}/ to the builder")
    return problems


def _cargo_toml() -> dict:
    return tomllib.loads((ROOT / "Cargo.toml").read_text())


def test_dockerfile():
    assert dockerfile_problems(DOCKERFILE.read_text(), DOCKERIGNORE.read_text(), _cargo_toml()) == []


DOCKERFILE_BREAKS = {
    # case: (replace this, with that, expected problem text)
    "root-user": ("USER 65532:65532", "USER root", "USER"),
    "no-locked": (
        "cargo build --release --locked --bin lakegate \\\n && install",
        "cargo build --release --bin lakegate \\\n && install",
        "--locked",
    ),
    "rust-runtime": ("FROM gcr.io/distroless/cc-debian12:nonroot", "FROM rust:1.95-bookworm", "Rust toolchain image"),
    "old-toolchain": ("ARG RUST_VERSION=1.95", "ARG RUST_VERSION=1.85", "needs Rust"),
    "shell-entrypoint": ('ENTRYPOINT ["/usr/local/bin/lakegate"]', 'ENTRYPOINT ["/bin/sh"]', "not lakegate"),
    "single-stage": ("FROM rust:${RUST_VERSION}-bookworm AS builder", "", "stage"),
}


@pytest.mark.parametrize("case", sorted(DOCKERFILE_BREAKS))
def test_dockerfile_check_rejects_broken_copy(case):
    old, new, expected = DOCKERFILE_BREAKS[case]
    text = DOCKERFILE.read_text()
    assert old in text, f"negative case {case} no longer applies: update it"
    if case == "single-stage":
        text = text[text.index("FROM gcr.io") :]
    else:
        text = text.replace(old, new)
    problems = dockerfile_problems(text, DOCKERIGNORE.read_text(), _cargo_toml())
    assert any(expected in p for p in problems), problems


def test_dockerignore_check_rejects_broken_copy():
    ignore = DOCKERIGNORE.read_text().replace("!src\n", "")
    problems = dockerfile_problems(DOCKERFILE.read_text(), ignore, _cargo_toml())
    assert any("COPY src" in p for p in problems), problems
    problems = dockerfile_problems(DOCKERFILE.read_text(), "!target\n" + ignore.replace("*\n", ""), _cargo_toml())
    assert any("target/" in p for p in problems), problems


# ---------------------------------------------------------------------------------------------
# lakegate's configuration and key files


def _port(addr: str) -> int:
    return int(addr.rsplit(":", 1)[1])


def _host(addr: str) -> str:
    return addr.rsplit(":", 1)[0].strip("[]")


def serve_config_problems(text: str) -> tuple[dict, list[str]]:
    try:
        cfg = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return {}, [f"lakegate.toml does not parse: {e}"]
    problems = [f"lakegate.toml: unknown key {k!r}" for k in sorted(set(cfg) - SERVE_KEYS)]
    problems += [f"lakegate.toml: {k} not set" for k in REQUIRED_SERVE_KEYS if k not in cfg]
    for k in ("listen", "admin_listen"):
        if k in cfg and not re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[0-9.]+):[0-9]{1,5}", str(cfg[k])):
            problems.append(f"lakegate.toml: {k} = {cfg[k]!r} is not an IP:port address")
    if "admin_listen" in cfg and _port(cfg["admin_listen"]) != ADMIN_PORT:
        problems.append(f"lakegate.toml: admin_listen port is not {ADMIN_PORT}")
    if not isinstance(cfg.get("shutdown_grace_secs", 0), int):
        problems.append("lakegate.toml: shutdown_grace_secs is not an integer")
    if cfg.get("identity_mode", "principal") not in MODES:
        problems.append(f"lakegate.toml: identity_mode {cfg['identity_mode']!r}")
    if "lakefs_secret_access_key" in cfg:
        problems.append("lakegate.toml holds the lakeFS secret: use LAKEGATE_LAKEFS_SECRET_ACCESS_KEY from a secret")
    if "lakefs_endpoint" in cfg and not str(cfg["lakefs_endpoint"]).rstrip("/").endswith("/api/v1"):
        problems.append("lakegate.toml: lakefs_endpoint does not end in /api/v1")
    return cfg, problems


def key_file_problems(text: str, default_mode: str = "principal") -> tuple[list[dict], list[str]]:
    """The key file's rules (src/auth/keystore.rs): `[[keys]]` entries, known fields, validity."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return [], [f"keys.toml does not parse: {e}"]
    problems = [f"keys.toml: unknown top-level key {k!r}" for k in sorted(set(data) - {"keys"})]
    keys = data.get("keys", [])
    if not keys:
        problems.append("keys.toml holds no [[keys]] entry")
    seen = set()
    for i, k in enumerate(keys):
        at = f"keys.toml keys[{i}]"
        problems += [f"{at}: unknown field {f!r}" for f in sorted(set(k) - KEY_FIELDS)]
        ak, sk = k.get("access_key_id", ""), k.get("secret_access_key", "")
        if not re.fullmatch(r"[A-Za-z0-9._-]{3,128}", ak):
            problems.append(f"{at}: access_key_id must be 3-128 of A-Z a-z 0-9 . _ -")
        if not (8 <= len(sk) <= 256 and all(0x21 <= ord(c) <= 0x7E for c in sk)):
            problems.append(f"{at}: secret_access_key must be 8-256 printable ASCII characters")
        if ak in seen:
            problems.append(f"{at}: access_key_id appears twice")
        seen.add(ak)
        mode = k.get("mode", default_mode)
        if mode not in MODES:
            problems.append(f"{at}: mode {mode!r}")
        pair = ("lakefs_access_key_id" in k, "lakefs_secret_access_key" in k)
        if pair[0] != pair[1]:
            problems.append(f"{at}: lakefs_access_key_id and lakefs_secret_access_key go together")
        if mode == "lakefs-key" and not pair[0]:
            problems.append(f"{at}: mode lakefs-key needs a lakeFS key pair")
    return keys, problems


# ---------------------------------------------------------------------------------------------
# Kubernetes consistency


def _quantity(q) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(q))
    if not m:
        raise ValueError(f"quantity {q!r}")
    return float(m.group(1)) * units.get(m.group(2), 1)


class Manifests:
    """One manifest file's documents, with lookups of what pods mount and reference."""

    def __init__(self, docs: list[dict]):
        self.docs = docs
        self.pods = []  # (where, pod spec, labels)
        for d in docs:
            if d["kind"] == "Pod":
                self.pods.append((doc_id(d), d["spec"], d["metadata"].get("labels", {})))
            elif d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
                t = d["spec"]["template"]
                self.pods.append((doc_id(d), t["spec"], t["metadata"].get("labels", {})))
        for where, pod in embedded_pods(docs):
            self.pods.append((where, pod["spec"], pod.get("metadata", {}).get("labels", {})))

    def find(self, kind: str, name: str) -> dict | None:
        return next((d for d in self.docs if d["kind"] == kind and d["metadata"]["name"] == name), None)

    def entry(self, kind: str, name: str, key: str) -> str | None:
        d = self.find(kind, name)
        if d is None:
            return None
        if kind == "Secret":
            if key in (d.get("stringData") or {}):
                return d["stringData"][key]
            if key in (d.get("data") or {}):
                return base64.b64decode(d["data"][key]).decode()
            return None
        return (d.get("data") or {}).get(key)

    def file(self, spec: dict, container: dict, path: str):
        """What a file path in a container is: (kind, name, key, mode) from a configMap or secret
        volume, ("emptyDir", volume, None, None) for a path inside one, or None."""
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for m in container.get("volumeMounts", []):
            mp = m["mountPath"].rstrip("/")
            if path != mp and not path.startswith(mp + "/"):
                continue
            v = volumes.get(m["name"])
            if v is None:
                return None
            rel = path[len(mp) + 1 :]
            if m.get("subPath"):
                rel = m["subPath"] if path == mp else None
            for kind, src, name_field in (("ConfigMap", "configMap", "name"), ("Secret", "secret", "secretName")):
                if src in v:
                    vs = v[src]
                    key, mode = rel, vs.get("defaultMode", 0o644)
                    if vs.get("items"):
                        item = next((it for it in vs["items"] if it["path"] == rel), None)
                        if item is None:
                            return None
                        key, mode = item["key"], item.get("mode", mode)
                    return (kind, vs[name_field], key, mode)
            if "emptyDir" in v:
                return ("emptyDir", m["name"], None, None)
            return None
        return None

    def read(self, spec, container, path) -> str | None:
        f = self.file(spec, container, path)
        if f is None or f[0] not in ("ConfigMap", "Secret"):
            return None
        return self.entry(f[0], f[1], f[2])


def _env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def _containers(spec: dict):
    for c in spec.get("initContainers", []):
        yield "initContainers", c
    for c in spec.get("containers", []):
        yield "containers", c


def _is_lakegate(c: dict) -> bool:
    return "lakegate" in c.get("image", "")


def _is_server(c: dict) -> bool:
    return _is_lakegate(c) and c.get("args", [None])[0] == "serve" and "--check-config" not in c.get("args", [])


def _probe_port(c: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in c.get("ports", []) if p.get("name") == port), None)


def _spark_conf(text: str) -> dict[str, str]:
    conf = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition(" ")
            conf[k] = v.strip()
    return conf


def _secret_value(m: Manifests, env_entry: dict) -> str | None:
    ref = env_entry.get("valueFrom", {}).get("secretKeyRef")
    return m.entry("Secret", ref["name"], ref["key"]) if ref else None


def lakegate_container_problems(m: Manifests, where: str, spec: dict, c: dict) -> tuple[dict, list[str]]:
    at = f"{where} {c['name']}"
    problems = []
    env = _env(c)
    cfg_path = env.get("LAKEGATE_CONFIG", {}).get("value")
    text = m.read(spec, c, cfg_path) if cfg_path else None
    if text is None:
        return {}, [f"{at}: LAKEGATE_CONFIG ({cfg_path}) is not a mounted ConfigMap entry"]
    cfg, p = serve_config_problems(text)
    problems += [f"{at}: {x}" for x in p]
    if not cfg:
        return cfg, problems

    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    if ports.get("admin") != _port(cfg["admin_listen"]):
        problems.append(f"{at}: container port 'admin' {ports.get('admin')} != admin_listen {cfg['admin_listen']}")
    if ports.get("s3") != _port(cfg["listen"]):
        problems.append(f"{at}: container port 's3' {ports.get('s3')} != listen {cfg['listen']}")
    if _host(cfg["admin_listen"]) in ("127.0.0.1", "::1", "localhost"):
        problems.append(f"{at}: admin_listen on loopback: the kubelet's probes cannot reach it")
    for probe, path in (("readinessProbe", READY_PATH), ("livenessProbe", HEALTH_PATH)):
        get = c.get(probe, {}).get("httpGet")
        if not get:
            problems.append(f"{at}: no {probe} httpGet")
            continue
        if get.get("path") != path:
            problems.append(f"{at}: {probe} path {get.get('path')!r} != {path}")
        if _probe_port(c, get.get("port")) != ADMIN_PORT:
            problems.append(f"{at}: {probe} port {get.get('port')!r} is not the admin port {ADMIN_PORT}")
    if "startupProbe" in c:
        get = c["startupProbe"].get("httpGet", {})
        if get.get("path") not in (READY_PATH, HEALTH_PATH) or _probe_port(c, get.get("port")) != ADMIN_PORT:
            problems.append(f"{at}: startupProbe is not /readyz or /healthz on the admin port")

    grace = spec.get("terminationGracePeriodSeconds", 30)
    pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    if grace <= cfg["shutdown_grace_secs"] + pre_stop:
        problems.append(
            f"{at}: terminationGracePeriodSeconds {grace} <= shutdown_grace_secs {cfg['shutdown_grace_secs']}"
            f" + preStop sleep {pre_stop}"
        )

    sc, psc = c.get("securityContext", {}), spec.get("securityContext", {})
    if not sc.get("runAsNonRoot", psc.get("runAsNonRoot")):
        problems.append(f"{at}: runAsNonRoot not set")
    if sc.get("runAsUser", psc.get("runAsUser")) == 0:
        problems.append(f"{at}: runAsUser 0")
    if not sc.get("readOnlyRootFilesystem"):
        problems.append(f"{at}: readOnlyRootFilesystem not set")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{at}: allowPrivilegeEscalation not false")

    state = m.file(spec, c, cfg["state_dir"])
    if state is None or state[0] != "emptyDir":
        problems.append(f"{at}: state_dir {cfg['state_dir']} is not on an emptyDir volume")

    kf = m.file(spec, c, cfg["keys_file"])
    if kf is None or kf[0] != "Secret":
        problems.append(f"{at}: keys_file {cfg['keys_file']} is not a mounted Secret entry")
    else:
        if kf[3] & 0o027:
            problems.append(f"{at}: keys_file mode {kf[3]:o}: group-writable or open to others (lakegate refuses it)")
        if psc.get("fsGroup") is None and sc.get("runAsUser", psc.get("runAsUser")) is None:
            problems.append(f"{at}: neither fsGroup nor runAsUser: the key file's owner is unknown")
        keys_text = m.entry("Secret", kf[1], kf[2])
        if keys_text is None:
            problems.append(f"{at}: Secret {kf[1]} has no {kf[2]}")
        else:
            problems += [f"{at}: {x}" for x in key_file_problems(keys_text, cfg.get("identity_mode", "principal"))[1]]
    if "upload_id_key_file" in cfg:
        key = m.read(spec, c, cfg["upload_id_key_file"])
        if key is None or len(key.strip()) < 32:
            problems.append(f"{at}: upload_id_key_file missing or shorter than 32 characters")

    secret = env.get("LAKEGATE_LAKEFS_SECRET_ACCESS_KEY")
    if not secret or _secret_value(m, secret) is None:
        problems.append(f"{at}: LAKEGATE_LAKEFS_SECRET_ACCESS_KEY does not come from an existing Secret entry")

    res = c.get("resources", {})
    try:
        req, lim = _quantity(res["requests"]["memory"]), _quantity(res["limits"]["memory"])
        if not (64 * 2**20 <= req <= lim <= 128 * 2**20):
            problems.append(f"{at}: memory request/limit outside 64-128 MiB")
    except (KeyError, ValueError):
        problems.append(f"{at}: memory requests and limits not set")
    return cfg, problems


def references_problems(m: Manifests) -> list[str]:
    problems = []
    for where, spec, _ in m.pods:
        for v in spec.get("volumes", []):
            for kind, src, field in (("ConfigMap", "configMap", "name"), ("Secret", "secret", "secretName")):
                if src in v:
                    d = m.find(kind, v[src][field])
                    if d is None:
                        problems.append(f"{where}: volume {v['name']}: no {kind} {v[src][field]}")
                    for it in v[src].get("items", []):
                        if m.entry(kind, v[src][field], it["key"]) is None:
                            problems.append(f"{where}: volume {v['name']}: {kind} has no {it['key']}")
        names = {v["name"] for v in spec.get("volumes", [])}
        for _, c in _containers(spec):
            for mnt in c.get("volumeMounts", []):
                if mnt["name"] not in names:
                    problems.append(f"{where} {c['name']}: mounts unknown volume {mnt['name']}")
            for e in c.get("env", []):
                for kind, ref in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                    r = e.get("valueFrom", {}).get(ref)
                    if r and m.entry(kind, r["name"], r["key"]) is None:
                        problems.append(f"{where} {c['name']}: env {e['name']}: no {kind} entry {r['name']}/{r['key']}")
    return problems


def spark_problems(m: Manifests, sidecar_cfg: dict[str, dict]) -> list[str]:
    problems = []
    for where, spec, _ in m.pods:
        spark = [c for _, c in _containers(spec) if not _is_lakegate(c)]
        if not spark:
            continue
        servers = [(s, c) for s, c in _containers(spec) if _is_server(c)]
        if not servers:
            problems.append(f"{where}: Spark container without a lakegate sidecar")
            continue
        section, lg = servers[0]
        if section != "initContainers" or lg.get("restartPolicy") != "Always":
            problems.append(f"{where}: lakegate is not a native sidecar (initContainer with restartPolicy Always)")
        cfg = sidecar_cfg.get(where, {})
        keys_text = m.read(spec, lg, cfg.get("keys_file", "")) or ""
        pairs = {(k.get("access_key_id"), k.get("secret_access_key")) for k in key_file_problems(keys_text)[0]}
        for c in spark:
            env = _env(c)
            creds = tuple(
                _secret_value(m, env[n]) if n in env else None for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            )
            if creds not in pairs:
                problems.append(
                    f"{where} {c['name']}: the S3 credentials Spark signs with are not a key of lakegate's key file"
                )
    # The driver: the pod that runs spark-submit, with SPARK_CONF_DIR from a ConfigMap.
    drivers = [(w, s, c) for w, s, _ in m.pods for _, c in _containers(s) if "SPARK_CONF_DIR" in _env(c)]
    if not drivers:
        return problems + ["no Spark driver container with SPARK_CONF_DIR"]
    for where, spec, c in drivers:
        conf_text = m.read(spec, c, _env(c)["SPARK_CONF_DIR"]["value"].rstrip("/") + "/spark-defaults.conf")
        if conf_text is None:
            problems.append(f"{where}: spark-defaults.conf is not a mounted ConfigMap entry")
            continue
        conf = _spark_conf(conf_text)
        cfg = sidecar_cfg.get(where, {})
        endpoint = urlsplit(conf.get("spark.hadoop.fs.s3a.endpoint", ""))
        if endpoint.scheme != "http" or endpoint.hostname != "127.0.0.1":
            problems.append(
                f"{where}: fs.s3a.endpoint {endpoint.geturl()!r} is not http://127.0.0.1:<port> (the sidecar)"
            )
        if cfg and endpoint.port != _port(cfg["listen"]):
            problems.append(f"{where}: fs.s3a.endpoint port {endpoint.port} != the sidecar's listen {cfg['listen']}")
        if cfg and _host(cfg["listen"]) not in ("127.0.0.1", "0.0.0.0"):
            problems.append(f"{where}: the sidecar does not listen on loopback")
        if conf.get("spark.hadoop.fs.s3a.path.style.access") != "true":
            problems.append(f"{where}: fs.s3a.path.style.access is not true")
        if conf.get("spark.hadoop.fs.s3a.connection.ssl.enabled") != "false" and "tls_cert" not in cfg:
            problems.append(f"{where}: fs.s3a.connection.ssl.enabled is not false for a plain-HTTP sidecar")
        if cfg.get("region") and conf.get("spark.hadoop.fs.s3a.endpoint.region") != cfg["region"]:
            problems.append(f"{where}: fs.s3a.endpoint.region != lakegate's region")
        template_path = conf.get("spark.kubernetes.executor.podTemplateFile")
        template_text = m.read(spec, c, template_path) if template_path else None
        if template_text is None:
            problems.append(f"{where}: spark.kubernetes.executor.podTemplateFile is not a mounted ConfigMap entry")
        else:
            template = yaml.safe_load(template_text)
            names = [x["name"] for x in template["spec"].get("containers", [])]
            if conf.get("spark.kubernetes.executor.podTemplateContainerName") not in names:
                problems.append(f"{where}: podTemplateContainerName is not a container of the executor template")
        script = next((a for a in c.get("args", []) if a.endswith(".py")), None)
        if script and m.read(spec, c, script) is None:
            problems.append(f"{where}: the job {script} is not a mounted ConfigMap entry")
    return problems


def service_problems(m: Manifests) -> list[str]:
    problems = []
    deployments = [d for d in m.docs if d["kind"] == "Deployment"]
    for d in deployments:
        labels = d["spec"]["template"]["metadata"]["labels"]
        replicas = d["spec"].get("replicas", 1)
        if replicas < 2:
            problems.append(f"{doc_id(d)}: {replicas} replica(s), expected at least 2")
        if not set(d["spec"]["selector"]["matchLabels"].items()) <= set(labels.items()):
            problems.append(f"{doc_id(d)}: selector does not match its pod template")
        lg = next(c for c in d["spec"]["template"]["spec"]["containers"] if _is_server(c))
        for s in (x for x in m.docs if x["kind"] == "Service"):
            if not set(s["spec"]["selector"].items()) <= set(labels.items()):
                problems.append(f"{doc_id(s)}: selector does not select {doc_id(d)}'s pods")
            if s["spec"].get("type", "ClusterIP") != "ClusterIP":
                problems.append(f"{doc_id(s)}: not a ClusterIP Service")
            for p in s["spec"]["ports"]:
                if _probe_port(lg, p.get("targetPort", p["port"])) is None:
                    problems.append(f"{doc_id(s)}: targetPort {p.get('targetPort')} is not a port of lakegate")
        pdbs = [x for x in m.docs if x["kind"] == "PodDisruptionBudget"]
        if not pdbs:
            problems.append("no PodDisruptionBudget")
        for pdb in pdbs:
            if not set(pdb["spec"]["selector"]["matchLabels"].items()) <= set(labels.items()):
                problems.append(f"{doc_id(pdb)}: selector does not select {doc_id(d)}'s pods")
            if pdb["spec"].get("minAvailable", 0) >= replicas:
                problems.append(f"{doc_id(pdb)}: minAvailable >= replicas: no node could ever be drained")
        cfg_host = None
        for where, spec, _ in m.pods:
            if where == doc_id(d):
                cfg_text = m.read(spec, lg, _env(lg)["LAKEGATE_CONFIG"]["value"])
                cfg_host = tomllib.loads(cfg_text).get("sts_host") if cfg_text else None
        svc_names = [s["metadata"]["name"] for s in m.docs if s["kind"] == "Service"]
        if cfg_host and cfg_host.split(".")[0] not in svc_names:
            problems.append(f"sts_host {cfg_host} does not name this Service")
    if not deployments:
        problems.append("no Deployment")
    return problems


def k8s_consistency_problems(name: str, docs: list[dict]) -> list[str]:
    m = Manifests(docs)
    problems = references_problems(m)
    cfgs = {}
    found = 0
    for where, spec, _ in m.pods:
        for _, c in _containers(spec):
            if _is_server(c):
                found += 1
                cfg, p = lakegate_container_problems(m, where, spec, c)
                cfgs[where] = cfg
                problems += p
            elif _is_lakegate(c) and c.get("env") != next(
                (x.get("env") for _, x in _containers(spec) if _is_server(x)), None
            ):
                problems.append(f"{where} {c['name']}: checks another configuration than the server's")
    if not found:
        problems.append(f"{name}: no lakegate serve container")
    if name == "spark-sidecar":
        problems += spark_problems(m, cfgs)
    if name == "service":
        problems += service_problems(m)
    return problems


@pytest.mark.parametrize("name", sorted(K8S_FILES))
def test_kubernetes_consistency(name):
    assert k8s_consistency_problems(name, k8s_docs(name)) == []


def _pod(docs, where):
    m = Manifests(docs)
    return next(spec for w, spec, _ in m.pods if w == where)


def _cm_toml_edit(docs, cm, fn):
    d = next(x for x in docs if x["kind"] == "ConfigMap" and x["metadata"]["name"] == cm)
    d["data"]["lakegate.toml"] = fn(d["data"]["lakegate.toml"])


def _sidecar(spec):
    return next(c for c in spec["initContainers"] if c["name"] == "lakegate")


def _deploy_lakegate(docs):
    return next(
        c for c in _first(docs, "Deployment")["spec"]["template"]["spec"]["containers"] if c["name"] == "lakegate"
    )


def _edit_template(docs, fn):
    cm = next(x for x in docs if x["kind"] == "ConfigMap" and "executor-pod-template.yaml" in x.get("data", {}))
    t = yaml.safe_load(cm["data"]["executor-pod-template.yaml"])
    fn(t)
    cm["data"]["executor-pod-template.yaml"] = yaml.safe_dump(t)


def _set_spark_conf(docs, key, value):
    cm = next(x for x in docs if x["kind"] == "ConfigMap" and "spark-defaults.conf" in x.get("data", {}))
    lines = cm["data"]["spark-defaults.conf"].splitlines()
    at = [i for i, ln in enumerate(lines) if ln.split(" ", 1)[0] == key]
    assert at, f"{key} is not in spark-defaults.conf: update the negative case"
    lines[at[0]] = f"{key} {value}"
    cm["data"]["spark-defaults.conf"] = "\n".join(lines) + "\n"


def _edit_secret(docs, name, key, fn):
    s = next(x for x in docs if x["kind"] == "Secret" and x["metadata"]["name"] == name)
    s["stringData"][key] = fn(s["stringData"][key])


K8S_CONSISTENCY_BREAKS = {
    # case: (file, breaker, expected problem text)
    "readiness-path": (
        "spark-sidecar",
        lambda d: _sidecar(_pod(d, "Pod/spark-driver"))["readinessProbe"]["httpGet"].update(path="/ready"),
        "readinessProbe path",
    ),
    "liveness-port": (
        "service",
        lambda d: _deploy_lakegate(d)["livenessProbe"]["httpGet"].update(port=8000),
        "livenessProbe port",
    ),
    "admin-port-mismatch": (
        "service",
        lambda d: _cm_toml_edit(d, "lakegate-config", lambda t: t.replace('"0.0.0.0:9090"', '"0.0.0.0:9091"')),
        "admin_listen",
    ),
    "grace-too-short": (
        "spark-sidecar",
        lambda d: _pod(d, "Pod/spark-driver").update(terminationGracePeriodSeconds=30),
        "terminationGracePeriodSeconds",
    ),
    "grace-vs-prestop": (
        "service",
        lambda d: _first(d, "Deployment")["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=34),
        "preStop",
    ),
    "unknown-toml-key": (
        "service",
        lambda d: _cm_toml_edit(d, "lakegate-config", lambda t: t + 'listen_address = "0.0.0.0:8000"\n'),
        "unknown key 'listen_address'",
    ),
    "toml-syntax": (
        "spark-sidecar",
        lambda d: _cm_toml_edit(d, "lakegate-spark-config", lambda t: t + "shutdown_grace_secs = \n"),
        "does not parse",
    ),
    "key-file-table-name": (
        "spark-sidecar",
        lambda d: _edit_secret(d, "lakegate-spark", "keys.toml", lambda t: t.replace("[[keys]]", "[[key]]")),
        "unknown top-level key 'key'",
    ),
    "key-file-lakefs-key-without-pair": (
        "service",
        lambda d: _edit_secret(
            d,
            "lakegate",
            "keys.toml",
            lambda t: t.replace('lakefs_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n', ""),
        ),
        "go together",
    ),
    "key-file-world-readable": (
        "service",
        lambda d: next(
            v for v in _first(d, "Deployment")["spec"]["template"]["spec"]["volumes"] if v["name"] == "keys"
        )["secret"].update(defaultMode=0o644),
        "keys_file mode",
    ),
    "upload-id-key-short": (
        "service",
        lambda d: _edit_secret(d, "lakegate", "upload-id.key", lambda t: "short"),
        "upload_id_key_file",
    ),
    "state-not-emptydir": (
        "spark-sidecar",
        lambda d: _sidecar(_pod(d, "Pod/spark-driver"))["volumeMounts"].pop(),
        "state_dir",
    ),
    "writable-root": (
        "service",
        lambda d: _deploy_lakegate(d)["securityContext"].update(readOnlyRootFilesystem=False),
        "readOnlyRootFilesystem",
    ),
    "memory-limit": (
        "spark-sidecar",
        lambda d: _sidecar(_pod(d, "Pod/spark-driver"))["resources"]["limits"].update(memory="1Gi"),
        "memory",
    ),
    "s3a-endpoint-port": (
        "spark-sidecar",
        lambda d: _set_spark_conf(d, "spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:8001"),
        "fs.s3a.endpoint port",
    ),
    "s3a-path-style": (
        "spark-sidecar",
        lambda d: _set_spark_conf(d, "spark.hadoop.fs.s3a.path.style.access", "false"),
        "path.style.access",
    ),
    "spark-credentials-not-a-key": (
        "spark-sidecar",
        lambda d: _edit_secret(d, "lakegate-spark", "s3-access-key-id", lambda t: "LGSOMEOTHERKEY"),
        "not a key of lakegate's key file",
    ),
    "executor-without-sidecar": (
        "spark-sidecar",
        lambda d: _edit_template(d, lambda t: t["spec"].pop("initContainers")),
        "without a lakegate sidecar",
    ),
    "template-container-name": (
        "spark-sidecar",
        lambda d: _set_spark_conf(d, "spark.kubernetes.executor.podTemplateContainerName", "executor"),
        "podTemplateContainerName",
    ),
    "sidecar-not-native": (
        "spark-sidecar",
        lambda d: _sidecar(_pod(d, "Pod/spark-driver")).pop("restartPolicy"),
        "native sidecar",
    ),
    "missing-secret-entry": (
        "service",
        lambda d: _deploy_lakegate(d)["env"][1]["valueFrom"]["secretKeyRef"].update(key="lakefs-secret"),
        "LAKEGATE_LAKEFS_SECRET_ACCESS_KEY",
    ),
    "service-selector": (
        "service",
        lambda d: _first(d, "Service")["spec"]["selector"].update({"app.kubernetes.io/name": "lakegates"}),
        "does not select",
    ),
    "pdb-blocks-drains": (
        "service",
        lambda d: _first(d, "PodDisruptionBudget")["spec"].update(minAvailable=2),
        "minAvailable",
    ),
    "one-replica": ("service", lambda d: _first(d, "Deployment")["spec"].update(replicas=1), "replica"),
    "service-target-port": (
        "service",
        lambda d: _first(d, "Service")["spec"]["ports"][0].update(targetPort="http"),
        "targetPort",
    ),
}


@pytest.mark.parametrize("case", sorted(K8S_CONSISTENCY_BREAKS))
def test_kubernetes_consistency_rejects_broken_copy(case):
    name, breaker, expected = K8S_CONSISTENCY_BREAKS[case]
    docs = copy.deepcopy(k8s_docs(name))
    breaker(docs)
    problems = k8s_consistency_problems(name, docs)
    assert any(expected in p for p in problems), problems


# ---------------------------------------------------------------------------------------------
# Compose consistency


def _duration_secs(text) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    total, pos = 0.0, 0
    for m in re.finditer(r"([0-9.]+)(ms|h|m|s)", str(text)):
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(str(text)):
        raise ValueError(f"duration {text!r}")
    return total


def _compose_env(svc: dict) -> dict[str, str]:
    env = svc.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


def _bind_mounts(svc: dict) -> list[tuple[str, str]]:
    out = []
    for v in svc.get("volumes", []):
        if isinstance(v, str):
            parts = v.split(":")
            out.append((parts[0], parts[1]))
        else:
            out.append((v.get("source", ""), v["target"]))
    return out


def _published(svc: dict) -> set[int]:
    out = set()
    for p in svc.get("ports", []):
        out.add(int(str(p).split(":")[-1].split("/")[0]) if not isinstance(p, dict) else int(p["target"]))
    return out


def compose_problems(compose: dict, base: Path) -> list[str]:
    problems = []
    services = compose.get("services", {})
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        for dep, spec in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
            if dep not in services:
                problems.append(f"{name}: depends on unknown service {dep}")
                continue
            cond = spec.get("condition", "service_started")
            if cond == "service_healthy" and "healthcheck" not in services[dep]:
                problems.append(f"{name}: waits for {dep} to be healthy, which has no healthcheck")
            if cond == "service_completed_successfully" and services[dep].get("restart", "no") != "no":
                problems.append(f"{name}: waits for {dep} to complete, which restarts")

    lg = services.get("lakegate")
    if lg is None:
        return problems + ["no lakegate service"]
    build = lg.get("build", {})
    context = (base / build.get("context", ".")).resolve()
    if context != ROOT:
        problems.append(f"lakegate: build context {context} is not the repository root")
    if (context / build.get("dockerfile", "Dockerfile")).resolve() != DOCKERFILE:
        problems.append("lakegate: does not build deploy/Dockerfile")

    env = _compose_env(lg)
    mounts = _bind_mounts(lg)
    cfg_path = env.get("LAKEGATE_CONFIG")
    src = next((s for s, t in mounts if t == cfg_path), None)
    if src is None or not (base / src).is_file():
        return problems + [f"lakegate: LAKEGATE_CONFIG {cfg_path} is not a mounted file of deploy/compose"]
    cfg, p = serve_config_problems((base / src).read_text())
    problems += [f"lakegate: {x}" for x in p]
    if not cfg:
        return problems
    if "LAKEGATE_LAKEFS_SECRET_ACCESS_KEY" not in env:
        problems.append("lakegate: LAKEGATE_LAKEFS_SECRET_ACCESS_KEY not set")
    for k in ("listen", "admin_listen"):
        if _port(cfg[k]) not in _published(lg):
            problems.append(f"lakegate: {k} port {_port(cfg[k])} not published")
        if _host(cfg[k]) != "0.0.0.0":
            problems.append(f"lakegate: {k} {cfg[k]} is not reachable from outside the container")
    try:
        stop = _duration_secs(lg.get("stop_grace_period", "10s"))
    except ValueError as e:
        stop = 0
        problems.append(f"lakegate: {e}")
    if stop <= cfg["shutdown_grace_secs"]:
        problems.append(f"lakegate: stop_grace_period {stop}s <= shutdown_grace_secs {cfg['shutdown_grace_secs']}")
    if lg.get("read_only") and not any(t == cfg["state_dir"] for _, t in mounts):
        problems.append("lakegate: read-only root filesystem and no volume on state_dir")

    # The key file: installed into a volume by a one-shot service, mounted where keys_file says.
    keys_dir = posixpath.dirname(cfg["keys_file"])
    vol = next((s for s, t in mounts if t == keys_dir), None)
    installer = next(
        (n for n, s in services.items() if n != "lakegate" and any(src == vol for src, _ in _bind_mounts(s))), None
    )
    if vol is None or installer is None:
        problems.append(f"lakegate: keys_file {cfg['keys_file']} is not on a volume some service fills")
        keys = []
    else:
        inst = services[installer]
        if installer not in lg.get("depends_on", {}):
            problems.append(f"lakegate does not wait for {installer}")
        key_src = next((s for s, t in _bind_mounts(inst) if t.endswith(".toml")), None)
        script = " ".join(inst.get("command", []))
        if "chmod 0600" not in script and "chmod 600" not in script:
            problems.append(f"{installer}: does not make the key file mode 0600")
        keys, p = key_file_problems((base / key_src).read_text(), cfg.get("identity_mode", "principal"))
        problems += p

    lakefs_host = urlsplit(cfg["lakefs_endpoint"]).hostname
    lf = services.get(lakefs_host)
    if lf is None:
        problems.append(f"lakegate: lakefs_endpoint names {lakefs_host}, which is no service")
    else:
        if (
            lakefs_host not in lg.get("depends_on", {})
            or lg["depends_on"][lakefs_host].get("condition") != "service_healthy"
        ):
            problems.append(f"lakegate does not wait for {lakefs_host} to be healthy")
        lenv = _compose_env(lf)
        if lenv.get("LAKEFS_DATABASE_TYPE") != "local":
            problems.append("lakefs: not on its local KV store")
        if lenv.get("LAKEFS_BLOCKSTORE_S3_FORCE_PATH_STYLE") != "true":
            problems.append("lakefs: LAKEFS_BLOCKSTORE_S3_FORCE_PATH_STYLE is not true")
        store = urlsplit(lenv.get("LAKEFS_BLOCKSTORE_S3_ENDPOINT", "")).hostname
        if store not in services:
            problems.append(f"lakefs: blockstore endpoint host {store} is no service")
        admin = (lenv.get("LAKEFS_INSTALLATION_ACCESS_KEY_ID"), lenv.get("LAKEFS_INSTALLATION_SECRET_ACCESS_KEY"))
        if (cfg.get("lakefs_access_key_id"), env.get("LAKEGATE_LAKEFS_SECRET_ACCESS_KEY")) != admin:
            problems.append("lakegate: its lakeFS key pair is not the one lakeFS's installation creates")
        for k in keys:
            pair = (k.get("lakefs_access_key_id"), k.get("lakefs_secret_access_key"))
            if k.get("mode", cfg.get("identity_mode")) == "lakefs-key" and pair != admin:
                problems.append(f"keys.toml {k['access_key_id']}: lakeFS key pair unknown to this lakeFS")

    ready = services.get("lakegate-ready")
    if ready is not None:
        script = " ".join(ready.get("command", []))
        if f"http://lakegate:{_port(cfg['admin_listen'])}{READY_PATH}" not in script:
            problems.append("lakegate-ready: does not probe lakegate's /readyz on the admin port")
    return problems


def test_compose_consistency():
    assert compose_problems(load_yaml_docs(COMPOSE_FILE)[0], COMPOSE_FILE.parent) == []


COMPOSE_CONSISTENCY_BREAKS = {
    "stop-grace": (lambda c: c["services"]["lakegate"].update(stop_grace_period="10s"), "stop_grace_period"),
    "config-path": (
        lambda c: c["services"]["lakegate"]["environment"].update(LAKEGATE_CONFIG="/etc/lakegate/lakegate.toml"),
        "LAKEGATE_CONFIG",
    ),
    "healthy-without-healthcheck": (lambda c: c["services"]["lakefs"].pop("healthcheck"), "no healthcheck"),
    "unpublished-admin": (
        lambda c: c["services"]["lakegate"].update(ports=["127.0.0.1:8000:8000"]),
        "admin_listen port 9090 not published",
    ),
    "wrong-dockerfile": (
        lambda c: c["services"]["lakegate"]["build"].update(dockerfile="Dockerfile"),
        "does not build deploy/Dockerfile",
    ),
    "path-style": (
        lambda c: c["services"]["lakefs"]["environment"].update(LAKEFS_BLOCKSTORE_S3_FORCE_PATH_STYLE="false"),
        "FORCE_PATH_STYLE",
    ),
    "lakefs-key-mismatch": (
        lambda c: c["services"]["lakefs"]["environment"].update(LAKEFS_INSTALLATION_ACCESS_KEY_ID="AKIAOTHER"),
        "key pair",
    ),
    "key-file-mode": (
        lambda c: c["services"]["lakegate-keys"].update(command=["sh", "-c", "cp /src/keys.toml /keys/keys.toml"]),
        "0600",
    ),
    "ready-probe-port": (
        lambda c: c["services"]["lakegate-ready"].update(
            command=["sh", "-c", "wget -q -O /dev/null http://lakegate:8000/readyz"]
        ),
        "lakegate-ready",
    ),
}


@pytest.mark.parametrize("case", sorted(COMPOSE_CONSISTENCY_BREAKS))
def test_compose_consistency_rejects_broken_copy(case):
    breaker, expected = COMPOSE_CONSISTENCY_BREAKS[case]
    compose = copy.deepcopy(load_yaml_docs(COMPOSE_FILE)[0])
    breaker(compose)
    problems = compose_problems(compose, COMPOSE_FILE.parent)
    assert any(expected in p for p in problems), problems


# --------------------------------------------------------------------------------------
# The configurations, checked by the real binary (`lakegate serve --check-config`)
# --------------------------------------------------------------------------------------

LAKEGATE_BIN = Path(__import__("os").environ.get("LAKEGATE_BIN", str(ROOT / "target" / "debug" / "lakegate")))


def _deploy_configs():
    """(name, lakegate.toml text, {file name: content} of the Secret/volume the keys come from)."""
    out = [("compose", (DEPLOY / "compose" / "lakegate.toml").read_text(),
            {"keys.toml": (DEPLOY / "compose" / "keys.toml").read_text()})]
    for name in sorted(K8S_FILES):
        docs = k8s_docs(name)
        secrets = {}
        for d in docs:
            if d.get("kind") == "Secret":
                secrets.update(d.get("stringData", {}))
                secrets.update({k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()})
        for d in docs:
            if d.get("kind") == "ConfigMap" and "lakegate.toml" in d.get("data", {}):
                out.append((f"{name}/{d['metadata']['name']}", d["data"]["lakegate.toml"], secrets))
    return out


def _check_config(toml_text, files, tmp_path):
    """Runs the binary's --check-config on `toml_text`, with the files the container would mount
    written under `tmp_path` (mode 0600) and the container paths pointed there."""
    cfg = tomllib.loads(toml_text)
    (tmp_path / "lakegate.toml").write_text(toml_text)
    args = [str(LAKEGATE_BIN), "serve", "--check-config", "--config", str(tmp_path / "lakegate.toml"),
            "--state-dir", str(tmp_path / "state")]
    for key, flag in (("keys_file", "--keys-file"), ("upload_id_key_file", "--upload-id-key-file")):
        if key in cfg:
            local = tmp_path / posixpath.basename(cfg[key])
            local.write_text(files[posixpath.basename(cfg[key])])
            local.chmod(0o600)
            args += [flag, str(local)]
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("LAKEGATE_")}
    env["LAKEGATE_LAKEFS_SECRET_ACCESS_KEY"] = "from-the-secret"
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


DEPLOY_CONFIGS = _deploy_configs()


@pytest.mark.parametrize("name,toml_text,files", DEPLOY_CONFIGS, ids=[c[0] for c in DEPLOY_CONFIGS])
def test_binary_accepts_deploy_configuration(name, toml_text, files, tmp_path):
    if not LAKEGATE_BIN.exists():
        pytest.fail(f"lakegate binary not found at {LAKEGATE_BIN} (set LAKEGATE_BIN or run cargo build)")
    run = _check_config(toml_text, files, tmp_path)
    assert run.returncode == 0, f"{name}: {run.stdout}{run.stderr}"
    assert "configuration OK" in run.stdout, run.stdout


def test_binary_rejects_broken_deploy_configuration(tmp_path):
    name, toml_text, files = DEPLOY_CONFIGS[0]
    broken = toml_text.replace("shutdown_grace_secs = 30", 'shutdown_grace_secs = "soon"') + '\nlisten_adress = "x"\n'
    run = _check_config(broken, files, tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'shutdown_grace_secs = "soon"' in run.stderr and "unknown key `listen_adress`" in run.stderr, run.stderr
