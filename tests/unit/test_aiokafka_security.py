"""source.kafka.config read for the faust engine's aiokafka consumer: what is translated, what
is refused (with the key named), and the TLS context built from the same files librdkafka uses."""

from __future__ import annotations

import ssl
import subprocess

import pytest

from comparator.config.aiokafka_security import AiokafkaSecurity, aiokafka_security
from comparator.config.config_error import ConfigError


def test_nothing_set_is_plaintext_without_tls():
    security = aiokafka_security({})
    assert security == AiokafkaSecurity()
    assert security.ssl_context() is None


@pytest.mark.parametrize(
    ("config", "key", "problem"),
    [
        ({"queued.max.messages.kbytes": 1}, "queued.max.messages.kbytes", "engine: native"),
        ({"security.protocol": "SASL_TLS"}, "security.protocol", "expected one of"),
        ({"sasl.username": "u"}, "sasl.username", "SASL_PLAINTEXT or SASL_SSL"),
        ({"ssl.ca.location": "/ca.pem"}, "ssl.ca.location", "SSL or SASL_SSL"),
        (
            {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER"},
            "sasl.mechanism",
            "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI",
        ),
        (
            {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN"},
            "sasl.username",
            "required",
        ),
        (
            {"security.protocol": "SSL", "ssl.key.location": "/k.pem"},
            "ssl.key.location",
            "ssl.certificate.location",
        ),
        (
            {"security.protocol": "SSL", "enable.ssl.certificate.verification": "maybe"},
            "enable.ssl.certificate.verification",
            "true or false",
        ),
        (
            {"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "dns"},
            "ssl.endpoint.identification.algorithm",
            "https or none",
        ),
    ],
)
def test_what_aiokafka_cannot_do_is_refused_naming_the_key(config, key, problem):
    with pytest.raises(ConfigError) as error:
        aiokafka_security(config)
    assert error.value.key == f"source.kafka.config.{key}"
    assert problem in error.value.problem


def test_sasl_plain_and_the_plural_mechanisms_key_of_librdkafka():
    security = aiokafka_security(
        {
            "security.protocol": "sasl_plaintext",
            "sasl.mechanisms": "plain",
            "sasl.username": "u",
            "sasl.password": "p",
        }
    )
    assert (security.protocol, security.mechanism) == ("SASL_PLAINTEXT", "PLAIN")
    assert security.uses_sasl and not security.uses_tls
    assert "p" not in repr(security).replace("protocol", "").replace("PLAIN", "")


def test_gssapi_is_librdkafkas_default_mechanism_and_needs_no_password():
    security = aiokafka_security(
        {"security.protocol": "SASL_SSL", "sasl.kerberos.service.name": "kafka-prod"}
    )
    assert (security.mechanism, security.kerberos_service_name) == ("GSSAPI", "kafka-prod")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1",
            "-keyout", str(folder / "client.key"), "-out", str(folder / "client.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder


def test_tls_context_trusts_the_ca_file_and_presents_the_client_certificate(certificate):
    security = aiokafka_security(
        {
            "security.protocol": "SSL",
            "ssl.ca.location": str(certificate / "client.pem"),
            "ssl.certificate.location": str(certificate / "client.pem"),
            "ssl.key.location": str(certificate / "client.key"),
        }
    )
    context = security.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    [ca] = context.get_ca_certs()
    assert dict(x[0] for x in ca["subject"])["commonName"] == "127.0.0.1"


def test_tls_verification_switches_follow_librdkafka(certificate):
    no_hostname = aiokafka_security(
        {"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "none"}
    ).ssl_context()
    assert no_hostname is not None
    assert not no_hostname.check_hostname and no_hostname.verify_mode == ssl.CERT_REQUIRED
    unverified = aiokafka_security(
        {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.username": "u",
         "sasl.password": "p", "enable.ssl.certificate.verification": "false"}
    ).ssl_context()  # fmt: skip
    assert unverified is not None and unverified.verify_mode == ssl.CERT_NONE


def test_an_unusable_tls_file_is_a_config_error_naming_its_key(tmp_path, certificate):
    absent = aiokafka_security(
        {"security.protocol": "SSL", "ssl.ca.location": str(tmp_path / "absent.pem")}
    )
    with pytest.raises(ConfigError) as error:
        absent.ssl_context()
    assert error.value.key == "source.kafka.config.ssl.ca.location"
    wrong_key = aiokafka_security(
        {
            "security.protocol": "SSL",
            "ssl.certificate.location": str(certificate / "client.pem"),
            "ssl.key.location": str(certificate / "client.pem"),  # a certificate, not a key
        }
    )
    with pytest.raises(ConfigError) as error:
        wrong_key.ssl_context()
    assert error.value.key == "source.kafka.config.ssl.certificate.location"
