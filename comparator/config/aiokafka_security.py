"""``source.kafka.config`` (librdkafka keys) translated for aiokafka, the faust engine's client.

The native engine hands ``source.kafka.config`` to librdkafka as is. The faust engine consumes
through aiokafka, whose connection settings are different objects (an ``ssl.SSLContext``,
``sasl_mechanism``, ...). This module reads the librdkafka keys that describe *how to connect*
(security protocol, SASL, TLS, client id) into one plain value, :class:`AiokafkaSecurity`, and
refuses every other key with its name: a librdkafka tuning key has no aiokafka meaning, and
dropping it silently would run the worker differently from what the config says. The output
producer stays confluent-kafka and still gets ``source.kafka.config`` unchanged.

No I/O here: the files named are only opened when the faust engine builds its SSL context
(:meth:`AiokafkaSecurity.ssl_context`).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comparator.config.config_error import ConfigError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
# OAUTHBEARER is not offered: librdkafka's OIDC settings have no aiokafka counterpart (aiokafka
# wants a token provider object).
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI")
_SSL_KEYS = (
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
)
TRANSLATED_KEYS = (
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "sasl.kerberos.service.name",
    "client.id",
    *_SSL_KEYS,
)


@dataclass(frozen=True, slots=True)
class AiokafkaSecurity:
    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    kerberos_service_name: str = "kafka"
    ca_location: str | None = None
    certificate_location: str | None = None
    key_location: str | None = None
    key_password: str | None = None
    check_hostname: bool = True
    verify_certificates: bool = True
    client_id: str | None = None

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context librdkafka would build from the same keys (None without TLS). A
        file that cannot be read or parsed is a config error naming its key."""
        if not self.uses_tls:
            return None
        location = self.ca_location
        directory = location is not None and Path(location).is_dir()
        try:
            context = ssl.create_default_context(
                ssl.Purpose.SERVER_AUTH,
                cafile=None if directory else location,
                capath=location if directory else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError("source.kafka.config.ssl.ca.location", str(exc)) from exc
        if self.certificate_location is not None:
            try:
                context.load_cert_chain(
                    self.certificate_location, self.key_location, self.key_password
                )
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    "source.kafka.config.ssl.certificate.location",
                    f"client certificate or key unusable: {exc}",
                ) from exc
        if not self.check_hostname or not self.verify_certificates:
            context.check_hostname = False
        if not self.verify_certificates:
            context.verify_mode = ssl.CERT_NONE
        return context

    def __repr__(self) -> str:  # never print the secrets
        return (
            f"AiokafkaSecurity(protocol={self.protocol!r}, mechanism={self.mechanism!r}, "
            f"username={self.username!r})"
        )


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ConfigError(f"source.kafka.config.{key}", f"expected true or false, got {value!r}")


def aiokafka_security(config: dict[str, Any]) -> AiokafkaSecurity:
    """Reads the connection keys of ``source.kafka.config``; any other key is refused."""
    for key in config:
        if key not in TRANSLATED_KEYS:
            raise ConfigError(
                f"source.kafka.config.{key}",
                "not available with engine: faust (its aiokafka consumer understands only "
                f"{', '.join(TRANSLATED_KEYS)}); remove it or use engine: native",
            )
    protocol = str(config.get("security.protocol", "PLAINTEXT")).upper()
    if protocol not in PROTOCOLS:
        raise ConfigError(
            "source.kafka.config.security.protocol",
            f"expected one of {', '.join(PROTOCOLS)}, got {config['security.protocol']!r}",
        )
    security = AiokafkaSecurity(protocol=protocol)
    uses_sasl, uses_tls = security.uses_sasl, security.uses_tls
    sasl_keys = [k for k in config if k.startswith("sasl.")]
    if sasl_keys and not uses_sasl:
        raise ConfigError(
            f"source.kafka.config.{sasl_keys[0]}",
            f"SASL settings need security.protocol SASL_PLAINTEXT or SASL_SSL, not {protocol}",
        )
    ssl_keys = [k for k in config if k in _SSL_KEYS]
    if ssl_keys and not uses_tls:
        raise ConfigError(
            f"source.kafka.config.{ssl_keys[0]}",
            f"TLS settings need security.protocol SSL or SASL_SSL, not {protocol}",
        )
    mechanism = None
    username = password = None
    if uses_sasl:
        mechanism_key = "sasl.mechanism" if "sasl.mechanism" in config else "sasl.mechanisms"
        mechanism = str(config.get(mechanism_key, "GSSAPI")).upper()  # librdkafka's default
        if mechanism not in MECHANISMS:
            raise ConfigError(
                f"source.kafka.config.{mechanism_key}",
                f"expected one of {', '.join(MECHANISMS)} with engine: faust, got {mechanism!r}",
            )
        if mechanism != "GSSAPI":
            username, password = config.get("sasl.username"), config.get("sasl.password")
            for key, value in (("sasl.username", username), ("sasl.password", password)):
                if not value:
                    raise ConfigError(
                        f"source.kafka.config.{key}", f"required for sasl.mechanism {mechanism}"
                    )
    endpoint = str(config.get("ssl.endpoint.identification.algorithm", "https")).lower()
    if endpoint not in ("https", "none"):
        raise ConfigError(
            "source.kafka.config.ssl.endpoint.identification.algorithm",
            f"expected https or none, got {endpoint!r}",
        )
    if "ssl.key.location" in config and "ssl.certificate.location" not in config:
        raise ConfigError(
            "source.kafka.config.ssl.key.location",
            "needs ssl.certificate.location (the client certificate of that key)",
        )
    verify = config.get("enable.ssl.certificate.verification", True)
    return AiokafkaSecurity(
        protocol=protocol,
        mechanism=mechanism,
        username=None if username is None else str(username),
        password=None if password is None else str(password),
        kerberos_service_name=str(config.get("sasl.kerberos.service.name", "kafka")),
        ca_location=config.get("ssl.ca.location"),
        certificate_location=config.get("ssl.certificate.location"),
        key_location=config.get("ssl.key.location"),
        key_password=config.get("ssl.key.password"),
        check_hostname=endpoint == "https",
        verify_certificates=_flag("enable.ssl.certificate.verification", verify),
        client_id=config.get("client.id"),
    )
