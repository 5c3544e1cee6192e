"""Getting the redaction HMAC key from the environment variable named in config."""

from __future__ import annotations

import os
import secrets

from comparator.config.config_error import ConfigError


def redaction_key_from_env(key_env: str, *, required: bool) -> tuple[bytes, bool]:
    """Returns ``(key, ephemeral)``.

    Without the variable, Kafka mode refuses to start (``required``); file mode and the demo use
    an ephemeral random key, so values stay redacted but tokens differ between runs.
    """
    value = os.environ.get(key_env, "")
    if value:
        if len(value) < 16:
            raise ConfigError(
                "redaction.key_env", f"${key_env} is too short (at least 16 characters)"
            )
        return value.encode(), False
    if required:
        raise ConfigError(
            "redaction.key_env",
            f"${key_env} is not set; Kafka mode needs a redaction key (at least 16 characters)",
        )
    return secrets.token_bytes(32), True
