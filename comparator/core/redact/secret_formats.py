"""Secrets recognisable by their format: cloud and service keys, private keys, credentials in
URLs, OAuth codes, international phone numbers, IP addresses.

The key and token formats are taken from gitleaks' rule set (config/gitleaks.toml,
https://github.com/gitleaks/gitleaks, MIT licence, Copyright (c) 2019 Zachary Rice), rewritten
for Python's ``re``: gitleaks runs on Go's RE2, which is linear whatever the pattern; here each
rule is anchored at a literal prefix found with ``str.find`` (C speed) and matched from there
with bounded, possessive quantifiers, so a hostile text costs a bounded amount per candidate,
and each candidate is paid for from the scan budget. Phone numbers are validated with
``phonenumbers`` (Google's libphonenumber metadata), IP addresses with ``ipaddress``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import phonenumbers

from comparator.core.redact.scan_budget import FINDING_UNITS, ScanBudget
from comparator.core.redact.token_boundary import token_ends_at, token_run_end, token_starts_at

Span = tuple[int, int]

# Characters that may not touch a key on either side (gitleaks' \b and its end class).
_KEY_CHAR = re.compile(r"[A-Za-z0-9_\-]")


@dataclass(frozen=True, slots=True)
class SecretFormat:
    """A rule: the literal every match starts with, and the pattern matched from there."""

    rule: str
    prefix: str
    pattern: re.Pattern[str]
    # The match must not continue or be preceded by a key character (gitleaks' word bounds).
    bounded: bool = True


def _rule(rule: str, prefix: str, pattern: str, *, bounded: bool = True) -> SecretFormat:
    return SecretFormat(rule, prefix, re.compile(pattern), bounded)


# After gitleaks' rules of the same id (adapted: anchored at the prefix, quantifiers possessive).
FORMATS: tuple[SecretFormat, ...] = (
    _rule("aws-access-token", "AKIA", r"AKIA[A-Z2-7]{16}"),
    _rule("aws-access-token", "ASIA", r"ASIA[A-Z2-7]{16}"),
    _rule("aws-access-token", "ABIA", r"ABIA[A-Z2-7]{16}"),
    _rule("aws-access-token", "ACCA", r"ACCA[A-Z2-7]{16}"),
    _rule("aws-access-token", "A3T", r"A3T[A-Z0-9][A-Z2-7]{16}"),
    _rule("github-pat", "ghp_", r"ghp_[0-9a-zA-Z]{36}"),
    _rule("github-oauth", "gho_", r"gho_[0-9a-zA-Z]{36}"),
    _rule("github-app-token", "ghu_", r"ghu_[0-9a-zA-Z]{36}"),
    _rule("github-app-token", "ghs_", r"ghs_[0-9a-zA-Z]{36}"),
    _rule("github-refresh-token", "ghr_", r"ghr_[0-9a-zA-Z]{36}"),
    _rule("github-fine-grained-pat", "github_pat_", r"github_pat_\w{82}"),
    _rule("gitlab-pat", "glpat-", r"glpat-[\w\-]{20}"),
    _rule("slack-bot-token", "xoxb-", r"xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9\-]*+"),
    _rule("slack-user-token", "xoxp-", r"xoxp(?:-[0-9]{10,13}){3}-[a-zA-Z0-9\-]{28,34}"),
    _rule("slack-user-token", "xoxe-", r"xoxe(?:-[0-9]{10,13}){3}-[a-zA-Z0-9\-]{28,34}"),
    _rule("slack-app-token", "xapp-", r"(?i:xapp-[0-9]-[A-Z0-9]++-[0-9]++-[a-z0-9]++)"),
    _rule(
        "slack-webhook-url",
        "hooks.slack.com/",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
        bounded=False,
    ),
    _rule("stripe-access-token", "sk_", r"sk_(?:test|live|prod)_[a-zA-Z0-9]{10,99}"),
    _rule("stripe-access-token", "rk_", r"rk_(?:test|live|prod)_[a-zA-Z0-9]{10,99}"),
    _rule("gcp-api-key", "AIza", r"AIza[\w\-]{35}"),
    _rule("anthropic-api-key", "sk-ant-", r"sk-ant-(?:api|admin)[0-9]{2}-[a-zA-Z0-9_\-]{80,120}"),
    _rule(
        "openai-api-key",
        "sk-",
        r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{58,74}T3BlbkFJ[A-Za-z0-9_\-]{58,74}"
        r"|[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})",
    ),
    _rule("npm-access-token", "npm_", r"npm_[a-zA-Z0-9]{36}"),
    _rule("pypi-upload-token", "pypi-AgEIcHlwaS5vcmc", r"pypi-AgEIcHlwaS5vcmc[\w\-]{50,1000}"),
    _rule("sendgrid-api-token", "SG.", r"SG\.[a-zA-Z0-9=_\-.]{66}"),
    _rule("shopify-access-token", "shpat_", r"shpat_[a-fA-F0-9]{32}"),
    _rule("twilio-api-key", "SK", r"SK[0-9a-fA-F]{32}"),
)


class SecretFormatDetector:
    """Keys and tokens by their published formats (``FORMATS``)."""

    name = "secret"
    hint = "|".join(re.escape(f.prefix) for f in FORMATS)

    def __init__(self) -> None:
        by_prefix: dict[str, list[SecretFormat]] = {}
        for secret_format in FORMATS:
            by_prefix.setdefault(secret_format.prefix, []).append(secret_format)
        self._by_prefix = by_prefix

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        for prefix, formats in self._by_prefix.items():
            pos = text.find(prefix)
            while pos >= 0:
                if not budget.spend(2, pos):
                    return spans
                span = _first_match(text, pos, formats)
                if span is not None:
                    spans.append(span)
                    pos = text.find(prefix, span[1])
                else:
                    pos = text.find(prefix, pos + 1)
        return spans


def _first_match(text: str, pos: int, formats: list[SecretFormat]) -> Span | None:
    for secret_format in formats:
        match = secret_format.pattern.match(text, pos)
        if match is None:
            continue
        end = match.end()
        if secret_format.bounded and (
            (pos > 0 and _KEY_CHAR.match(text, pos - 1))
            or (end < len(text) and _KEY_CHAR.match(text, end))
        ):
            continue
        return match.span()
    return None


# --- private keys --------------------------------------------------------------------------------

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9_\-]{0,100}?PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9_\-]{0,100}?PRIVATE KEY(?: BLOCK)?-----")


class PrivateKeyDetector:
    """A PEM private key block, ``-----BEGIN … PRIVATE KEY-----`` to its ``END`` line (after
    gitleaks' ``private-key``); a block without its end is redacted to the end of the text."""

    name = "pem"
    hint = "-----BEGIN"

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        pos = text.find("-----BEGIN")
        while pos >= 0:
            if not budget.spend(FINDING_UNITS, pos):
                break
            begin = _PEM_BEGIN.match(text, pos)
            if begin is None:
                pos = text.find("-----BEGIN", pos + 1)
                continue
            end = _PEM_END.search(text, begin.end())
            stop = len(text) if end is None else end.end()
            spans.append((pos, stop))
            pos = text.find("-----BEGIN", stop)
        return spans


# --- credentials in URLs, OAuth codes ----------------------------------------------------------

# scheme://user:password@host (database URLs, basic auth in links): the password.
# (No brackets in either part: a second pass must not read a token as part of userinfo.)
_URL_USERINFO = re.compile(r"""://[^\s/:@"'<>\[\]]{0,256}+:([^\s/@"'<>\[\]]{1,256}+)@""")
# An OAuth authorization code in a redirect (?code=…), or an implicit-flow token in a fragment.
_OAUTH_PARAMETERS = ("code=", "access_token=", "id_token=", "refresh_token=")
PARAMETER_VALUE = re.compile(r"""[^&#\s"'<>]++""")


class UrlCredentialDetector:
    """The password of ``scheme://user:password@host``, and the value of an OAuth ``code`` (or
    an implicit-flow token) parameter in a URL's query or fragment."""

    name = "credential"
    hint = "://|code=|_token="

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        pos = text.find("://")
        while pos >= 0:
            if not budget.spend(1, pos):
                return spans
            match = _URL_USERINFO.match(text, pos)
            if match is not None:
                if not budget.spend(FINDING_UNITS, pos):
                    return spans
                spans.append(match.span(1))
            pos = text.find("://", pos + 3)
        for parameter in _OAUTH_PARAMETERS:
            pos = text.find(parameter)
            while pos >= 0:
                if pos > 0 and text[pos - 1] in "?&#":
                    if not budget.spend(FINDING_UNITS, pos):
                        return spans
                    start = pos + len(parameter)
                    # only our tokens (the value, in pieces other detectors named): redacted
                    value = PARAMETER_VALUE.match(text, token_run_end(text, start))
                    if value is not None:
                        spans.append((start, value.end()))
                pos = text.find(parameter, pos + len(parameter))
        return spans


# --- phone numbers -------------------------------------------------------------------------------

# An international number as written: a plus, then 7 to 15 digits with spaces, dots, dashes or
# brackets between them.
_PHONE_CANDIDATE = re.compile(r"\+[1-9](?:[ .\-]?+\(?+[0-9]\)?+){6,16}+")


class PhoneDetector:
    """A phone number in international format (``+44 20 7946 0958``, ``+14155550123``) that
    libphonenumber considers valid. Numbers without a country code are not looked for: without
    one, an order number and a phone number look alike."""

    name = "phone"
    hint = r"\+[1-9]"

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        if "+" not in text:
            return []
        budget = budget or ScanBudget()
        spans: list[Span] = []
        for match in _PHONE_CANDIDATE.finditer(text):
            start, end = match.span()
            # glued to a word (``abc+1234567``) it is not a number: unless the word is the
            # number just found (two numbers run together), and one of our tokens counts as a
            # word (the word it replaced did: a second pass must decide as the first did)
            if start > 0 and not (spans and spans[-1][1] == start):
                before = text[start - 1]
                if before.isalnum() or token_ends_at(text, start):
                    continue
            if not budget.spend(FINDING_UNITS * 5, start):
                break
            found = _longest_valid_number(text, start, end)
            if found is not None:
                spans.append(found)
        return spans


def _longest_valid_number(text: str, start: int, end: int) -> Span | None:
    """The candidate may run on into a following number (``+44 20 7946 0958 81``): the longest
    valid number among its prefixes that end before a separator, at most 8 tried."""
    ends = [i for i in range(start + 8, end) if text[i] in " .-("] + [end]
    for stop in reversed(ends[-8:]):
        candidate = text[start:stop].rstrip(" .-(")
        try:
            number = phonenumbers.parse(candidate, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return (start, start + len(candidate))
    return None


# --- IP addresses ------------------------------------------------------------------------------

# No lookbehind (it would be tried at every position): the boundaries are checked per match.
_IPV4 = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
_IPV4_EDGE = frozenset("0123456789.")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}+:){2,7}+[0-9A-Fa-f]{0,4}+(?![\w:])")


class IpAddressDetector:
    """A public IPv4 or IPv6 address (validated by ``ipaddress``): client addresses in
    ``X-Forwarded-For``, ``Forwarded`` and logs. Loopback, private, link-local and documentation
    ranges are not personal data and stay (a worker's own listen address in its logs)."""

    name = "ip"
    hint = r"[0-9]\.[0-9]|:[0-9A-Fa-f]*:"

    def find(self, text: str, budget: ScanBudget | None = None) -> list[Span]:
        budget = budget or ScanBudget()
        spans: list[Span] = []
        for pattern, marker in ((_IPV4, "."), (_IPV6, ":")):
            if marker not in text:
                continue
            for match in pattern.finditer(text):
                if not budget.spend(2, match.start()):
                    return spans
                candidate = match.group()
                start, end = match.span()
                # part of a longer dotted number; a token counts as the digits it replaced
                if marker == "." and (
                    (start > 0 and text[start - 1] in _IPV4_EDGE)
                    or token_ends_at(text, start - 1 if text[start - 1 : start] == "." else start)
                    or (
                        end < len(text)
                        and (
                            text[end].isdigit()
                            or token_starts_at(text, end)
                            or (
                                text.startswith(".", end)
                                and end + 1 < len(text)
                                and (text[end + 1].isdigit() or token_starts_at(text, end + 1))
                            )
                        )
                    )
                ):
                    continue
                if marker == ":" and len(candidate) - candidate.count(":") < 4:
                    continue  # "::", "a::b": too little of an address to tell from code
                try:
                    address = ipaddress.ip_address(candidate)
                except ValueError:
                    continue
                if address.is_global:  # not loopback, private, link-local or documentation
                    spans.append(match.span())
        return spans
