"""A canary corpus: secrets planted where gateway traffic carries them, one of each kind the
redaction docs promise to catch (docs/outputs.md, "What is caught").

Every secret carries a marker (``CNRY`` and a number, or its exact digits) that no output may
show. Each pair mismatches, so every event reaches a mismatch record; some secrets sit in
member names that differ between the sides, so they reach difference paths, field labels and
the summary; one broken line becomes a dead letter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

T0 = 1_714_557_600_000
REDACTION_KEY = "canary-test-redaction-key-0123456789"


@dataclass
class Canaries:
    directory: Path
    stable: Path
    dark: Path
    config: Path
    markers: dict[str, str] = field(default_factory=dict)  # marker -> where it was planted

    def leaks(self, text: str) -> list[str]:
        """The planted markers that appear in ``text`` (also with separators removed, for
        numbers written in groups)."""
        compact = "".join(c for c in text if c not in " -.\u00a0")
        found = []
        for marker, where in self.markers.items():
            plain = "".join(c for c in marker if c not in " -.\u00a0")
            if marker in text or (plain.isdigit() and len(plain) >= 9 and plain in compact):
                found.append(f"{where}: {marker}")
        return found


def _marker(n: int) -> str:
    return f"CNRY{n:02d}x"


def write_canaries(directory: Path) -> Canaries:
    directory.mkdir(parents=True, exist_ok=True)
    markers: dict[str, str] = {}

    def plant(where: str, value: str, marker: str | None = None) -> str:
        markers[marker or value] = where
        return value

    m = _marker
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA" + m(40) + "\n"
        "-----END RSA PRIVATE KEY-----"
    )
    body_text = "\n".join(
        [
            "a" * 70 + "password=" + plant("long key name in text", m(5)),
            "mail " + plant("HTML entity", m(11) + "&#64;example.com", m(11)),
            "next=/cb?auth=Bearer%20" + plant("percent-encoded bearer", m(12)),
            "pass\\u0077ord=" + plant("escaped key name", m(13)),
            '"password": ["' + plant("JSON array value in text", m(14)) + '"]',
            '"password": {"v": "' + plant("JSON object value in text", m(15)) + '"}',
            "password:\n  " + plant("YAML value on the next line", m(16)),
            '"password"=>"' + plant("Ruby hash", m(17)) + '"',
            "[password] => " + plant("PHP print_r", m(18)),
            "<password>" + plant("XML element", m(19)) + "</password>",
            '<input type="hidden" name="csrf_token" value="' + plant("HTML input", m(20)) + '">',
            '<meta name="csrf-token" content="' + plant("HTML meta", m(21)) + '">',
            "password=[REDACTED:key:000000000000]" + plant("token lookalike", m(22)),
            "key " + plant("PEM private key", pem, m(40)),
            "db postgres://app:" + plant("database URL password", m(42)) + "@db:5432/x",
            "mail " + plant("percent-encoded e-mail", m(43) + "%40example.com", m(43)),
            "mail " + plant("JSON escape in text", m(44) + "\\u0040example.com", m(44)),
        ]
    )
    stable_body: dict[str, Any] = {
        "api_keys": {plant("map key under api_keys", "ak_live_" + m(1)): "active"},
        "tokens": {plant("map key under tokens", "tok_" + m(3)): 1},
        "session": {"token": plant("value under session.token", m(4))},
        "by_email": {plant("e-mail as a member name", m(45) + "@example.com", m(45)): 1},
        "note": plant("\\u escape inside a string", m(10) + "\\u0040example.com", m(10)),
        "har": [
            {"name": "Authorization", "value": plant("HAR header list", m(25))},
            {"name": "Accept", "value": "application/json"},
        ],
        "cookies": "sid=" + plant("cookies member", m(26)),
        "aws_access_key_id": plant("aws_access_key_id", m(27)),
        "private_key": plant("private_key", m(28)),
        "passphrase": plant("passphrase", m(29)),
        "credentials": {"user": "u", "secret_word": plant("credentials", m(30))},
        "session_id": plant("session_id", m(31)),
        "pin": plant("pin", m(32)),
        "cvv": plant("cvv", m(33)),
        "API Key": plant("API Key", m(34)),
        "aws": plant("AWS access key id", "AKIA" + "CNRYAWSKEY2345AB", "CNRYAWSKEY2345AB"),
        "presigned": "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2024"
        "&X-Amz-Signature=" + plant("presigned URL signature", m(35)),
        "github": plant("GitHub token", "ghp_" + m(36) + "a" * 29, m(36)),
        "slack": plant("Slack token", "xoxb-1234567890-1234567890123-" + m(37) + "Zz"),
        "stripe": plant("Stripe key", "sk_live_" + m(38) + "4eC39HqLyjW"),
        "google": plant("Google API key", "AIza" + m(39) + "SyD" + "x" * 25, m(39)),
        "phone": plant("phone number", "+44 20 7946 0958"),
        "iban_lower": plant("lower-case IBAN", "gb82 west 1234 5698 7654 32"),
        "iban_dashes": plant("dash-grouped IBAN", "DE89-3704-0044-0532-0130-00"),
        "card_dots": plant("dotted card", "4111.1111.1111.1111"),
        "card_int": 4012888888881881,
        "jwt": plant(
            "JWT with a spaced header",
            "eyAiYWxnIjoiSFMyNTYifQ.eyJzdWIiOiJDTlJZNDZ4In0." + m(46),
            m(46),
        ),
        "total": 10,
    }
    markers["4012888888881881"] = "card number as a JSON integer"
    dark_body = json.loads(json.dumps(stable_body))
    dark_body["api_keys"] = {plant("differing map key under api_keys", "ak_live_" + m(2)): "active"}
    dark_body["total"] = 11
    headers = {
        "content-type": "application/json",
        "proxy-authorization": "Basic " + plant("Proxy-Authorization", m(23)),
        "x-authorization": "Basic " + plant("X-Authorization", m(24)),
        "link": "<https://x.example/?u="
        + plant("Link header", m(8) + "%40example.com", m(8))
        + ">; rel=next",
        "location": "https://app.example/cb?code=" + plant("OAuth code", m(41)) + "&state=s",
        "x-forwarded-for": plant("client IP", "81.2.69.160") + ", 10.0.0.1",
    }
    events: list[tuple[dict[str, Any], dict[str, Any]]] = []
    base = {"status": 200, "latency_ms": 12.0, "headers": headers}
    events.append(
        (
            {**base, "request_id": "req-1", "route": "GET /v1/account", "ts": T0,
             "body": stable_body},
            {**base, "request_id": "req-1", "route": "GET /v1/account", "ts": T0 + 5,
             "body": dark_body},
        )
    )  # fmt: skip
    text_event = {
        "request_id": "req-2",
        "route": "GET /v1/page",
        "status": 200,
        "body_text": body_text,
    }
    events.append(
        ({**text_event, "ts": T0 + 10}, {**text_event, "ts": T0 + 15, "body_text": body_text + "!"})
    )
    rid = plant("percent-encoded e-mail in request_id", "req-" + m(7) + "%40example.com", m(7))
    path = "/v1/users/" + plant("percent-encoded e-mail in a path", m(6) + "%40example.com", m(6))
    raw = {"request_id": rid, "method": "GET", "path": path, "status": 200, "body": {"a": 1}}
    events.append(({**raw, "ts": T0 + 20}, {**raw, "ts": T0 + 25, "status": 500}))

    stable = directory / "stable.jsonl"
    dark = directory / "dark.jsonl"
    stable.write_text("".join(json.dumps(s) + "\n" for s, _ in events), encoding="utf-8")
    # a broken line whose raw bytes hold an escaped e-mail: a dead letter with payload_text
    broken = '{"request_id": "req-3", "note": "' + m(9) + '\\u0040example.com", "ts": '
    markers[m(9)] = "\\u escape in a dead letter's raw bytes"
    dark.write_text(
        "".join(json.dumps(d) + "\n" for _, d in events) + broken + "\n", encoding="utf-8"
    )
    config = directory / "comparator.yaml"
    out = directory / "out"
    config.write_text(
        yaml.safe_dump(
            {
                "source": {"kind": "files", "files": {"stable": str(stable), "dark": str(dark)}},
                "outputs": {
                    "mismatches": {"kind": "file", "path": str(out / "mismatches.jsonl")},
                    "dead_letters": {"kind": "file", "path": str(out / "dead.jsonl")},
                    "summary": str(out / "summary.json"),
                },
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return Canaries(directory, stable, dark, config, markers)
