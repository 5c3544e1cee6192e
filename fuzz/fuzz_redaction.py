"""Fuzz target: any text through the redactor (text, decoded encodings, keyword proximity,
the secret formats, paths) and any JSON through its body walk in both modes. Never raises
anything but RedactionError, and redaction is idempotent: redacting the output again changes
nothing.

    .venv/bin/python fuzz/fuzz_redaction.py CORPUS_DIR [SEED_DIR] -max_total_time=60

Seeds in fuzz/corpus/redaction/.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import orjson

    from comparator.core.redact import RedactionError, Redactor
    from comparator.core.redact.allow_list import AllowList

DENY = Redactor(b"fuzz-redaction-key")
ALLOW = Redactor(b"fuzz-redaction-key", allow=AllowList(["$.a", "$.b[*].c"], ["accept"]))


def test_one_input(data: bytes) -> None:
    text = (
        data.decode("utf-8", "surrogatepass") if data.isascii() else data.decode("utf-8", "replace")
    )
    try:
        once = DENY.redact_text(text)
        assert DENY.redact_text(once) == once, "redact_text is not idempotent"
        DENY.redact_path(text if text.startswith("$") else "$." + text)
        DENY.redact_headers({"x-fuzz": text, text[:40] or "k": "v"})
    except RedactionError:
        pass
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    for redactor in (DENY, ALLOW):
        try:
            redacted = redactor.redact_body(document)
        except RedactionError:
            continue
        assert redactor.redact_body(redacted) == redacted, "redact_body is not idempotent"


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
