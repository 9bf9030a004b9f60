"""TLS for the conformance suites: certificates made per session, and the run's TLS environment.

Two kinds of TLS meet in a run:

* **The suite's own**: an S3 suite serves one ``lakegate dev`` over HTTPS with a self-signed
  certificate made for its session (``make_self_signed_cert`` + ``tls_args``); its clients trust
  exactly that file (``LakegateServer.ca_bundle``: boto3 ``verify=``, ``--ca-bundle``, …).
* **The run's**: in the seaweedfs pass ``scripts/seaweedfs.sh``'s ``DIR/env`` names a CA made for
  the run. ``SSL_CERT_FILE`` (lakegate's rustls client, Python's ssl, urllib3, lakefs-sdk),
  ``AWS_CA_BUNDLE`` (botocore) and ``REQUESTS_CA_BUNDLE`` point at it, replacing the system's roots;
  ``LAKEGATE_TEST_CA_FILE`` names it for a test that wants the path. Two jobs of that pass
  (``suite_https_api`` in test-all.sh) also export ``LAKEGATE_DEV_API_TLS_CERT``/``_KEY``: a
  certificate of that CA, which ``lakegate dev`` reads itself to serve its lakeFS API over HTTPS
  (``api_tls_expected``: ``LakegateServer.start`` checks that it did).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path
from typing import List, Mapping, Optional, Tuple


def make_self_signed_cert(directory: Path) -> Tuple[Path, Path]:
    """Self-signed EC P-256 server certificate for localhost / 127.0.0.1 → (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lakegate conformance")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
            ]),
            critical=False,
        )
        # CA:TRUE so the same file can serve as the trust anchor (OpenSSL 3 accepts either way,
        # but a self-signed leaf with CA:TRUE is what strict verifiers expect).
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    return cert_path, key_path


def tls_args(cert: Path, key: Path) -> List[str]:
    """``lakegate dev`` flags serving HTTPS with ``cert``/``key``."""
    return ["--tls-cert", str(cert), "--tls-key", str(key)]


def api_tls_expected(env: Optional[Mapping[str, str]] = None) -> bool:
    """Whether a ``lakegate dev`` started with ``env`` (default: ours) serves its lakeFS API over
    HTTPS: ``LAKEGATE_DEV_API_TLS_CERT`` is set."""
    return bool((os.environ if env is None else env).get("LAKEGATE_DEV_API_TLS_CERT"))


def run_ca_file() -> Optional[Path]:
    """The run's CA (``LAKEGATE_TEST_CA_FILE``, seaweedfs pass), or None."""
    path = os.environ.get("LAKEGATE_TEST_CA_FILE")
    return Path(path) if path else None


def trust_bundle(ca: Path, inherited: Optional[str] = None) -> Path:
    """A file for ``SSL_CERT_FILE`` that trusts ``ca`` and what ``inherited`` (default: our own
    ``SSL_CERT_FILE``, the run's CA in the seaweedfs pass) trusts: ``ca`` itself when there is
    nothing else, else both in ``trust.pem`` next to ``ca``."""
    if inherited is None:
        inherited = os.environ.get("SSL_CERT_FILE")
    if not inherited or not Path(inherited).is_file() or Path(inherited).resolve() == ca.resolve():
        return ca
    bundle = ca.parent / "trust.pem"
    bundle.write_text(ca.read_text().rstrip("\n") + "\n" + Path(inherited).read_text())
    return bundle
