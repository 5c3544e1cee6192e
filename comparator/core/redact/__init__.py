"""Redaction: nothing sensitive leaves the process (mismatch records, dead letters, logs)."""

from comparator.core.redact.redactor import (
    DEFAULT_KEY_PATTERN,
    DEFAULT_SECRET_HEADERS,
    TOKEN_PATTERN,
    RedactionError,
    Redactor,
)

__all__ = [
    "DEFAULT_KEY_PATTERN",
    "DEFAULT_SECRET_HEADERS",
    "TOKEN_PATTERN",
    "RedactionError",
    "Redactor",
]
