"""The local certificate authority of the emulator's real data plane (issue 17).

On AWS, a load balancer's HTTPS listener serves an ACM certificate and ElastiCache's in-transit
encryption a certificate of Amazon's; clients trust both through their system's CA bundle. Locally
the same roles are played by one CA of the project's own, made once in ``.run/local-ca/``
(kept across emulator restarts, so a client told to trust it keeps trusting it):

* ``issue(names)``: a server certificate and key for those DNS names (and IP addresses), signed
  by the CA, valid 90 days, reused while valid.
* ``CA_CERT``: the CA's certificate, for ``curl --cacert`` and the tests.
* ``trust_bundle()``: the machine's CA bundle with the local CA appended, which the task
  containers get in place of their image's own bundle, the way a Fargate task's system store
  holds Amazon's CAs.

The CA's key never leaves ``.run/local-ca/`` (mode 0700, git-ignored with the rest of .run).
"""

from __future__ import annotations

import datetime
import fcntl
import ipaddress
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CA_DIR = Path(os.environ.get("BOOKING_LOCAL_CA_DIR", REPO / ".run" / "local-ca"))
CA_CERT = CA_DIR / "ca.pem"
CA_KEY = CA_DIR / "ca-key.pem"
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_NAME = "booking-deploy local CA"
_VALID = datetime.timedelta(days=90)


def _lock() -> int:
    CA_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(CA_DIR, 0o700)
    handle = os.open(CA_DIR / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _unlock(handle: int) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    os.close(handle)


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)


def ensure_ca() -> Path:
    """The CA, made on first use; the path of its certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    handle = _lock()
    try:
        if CA_CERT.exists() and CA_KEY.exists():
            return CA_CERT
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False),
                    critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        _write_private(CA_KEY, key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
        CA_CERT.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return CA_CERT
    finally:
        _unlock(handle)


def issue(names: list[str]) -> tuple[Path, Path]:
    """A server certificate for `names` (DNS names or IP addresses): (certificate, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ensure_ca()
    certs = CA_DIR / "certs"
    certs.mkdir(exist_ok=True)
    stem = names[0].replace("*", "wildcard")
    cert_path, key_path = certs / f"{stem}.pem", certs / f"{stem}-key.pem"
    handle = _lock()
    try:
        now = datetime.datetime.now(datetime.UTC)
        if cert_path.exists() and key_path.exists():
            existing = x509.load_pem_x509_certificate(cert_path.read_bytes())
            sans = existing.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            held = {str(v) for v in sans.value.get_values_for_type(x509.DNSName)} | {
                str(v) for v in sans.value.get_values_for_type(x509.IPAddress)}
            if held == set(names) and existing.not_valid_after_utc - now > _VALID / 3:
                return cert_path, key_path
        ca_key = serialization.load_pem_private_key(CA_KEY.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(CA_CERT.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        alternatives: list[x509.GeneralName] = []
        for name in names:
            try:
                alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alternatives.append(x509.DNSName(name))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + _VALID)
                .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_cert.public_key()), critical=False)  # type: ignore[arg-type]
                .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
        _write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                   serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path
    finally:
        _unlock(handle)


def trust_bundle() -> Path:
    """The machine's CA bundle plus the local CA: what task containers trust."""
    ensure_ca()
    bundle = CA_DIR / "trust-bundle.pem"
    system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
    wanted = system.rstrip(b"\n") + b"\n" + CA_CERT.read_bytes()
    if not bundle.exists() or bundle.read_bytes() != wanted:
        bundle.write_bytes(wanted)
        os.chmod(bundle, 0o644)
    return bundle
