"""Personal data and secrets in each text: e-mail addresses, phone numbers, IP
addresses, payment card numbers, IBANs and credential-like strings.

Each kind is a candidate pattern followed by a validation, so that look-alikes (dates,
version strings, ISBNs, order numbers) are not flagged:

=============  =====================================================================
kind           how a candidate is confirmed
=============  =====================================================================
``email``      ``local@domain.tld``, the top-level domain alphabetic (2+ letters)
``phone``      found and validated by ``phonenumbers`` (Google's libphonenumber
               metadata, ``Leniency.VALID``): numbers in international form (``+``
               and a country code) anywhere, national forms of :data:`PHONE_REGION`;
               not glued to a word or an identifier (``INV-2024-000123``,
               ``#7098706148``)
``ip``         IPv4 (four octets 0-255, not after ``v`` or ``version``) or IPv6
               (``ipaddress`` parses it; at least two groups and ``::`` or eight
               groups), loopback, link-local and unspecified addresses excluded
``card``       13-19 digits (spaces or hyphens between), Luhn-valid
               (``stdnum.luhn``), with the issuer prefix of a card network (Visa,
               Mastercard, American Express, Discover, JCB, Diners, UnionPay)
``iban``       two letters, two check digits and 11-30 characters, valid by
               ``stdnum.iban`` (country length and mod-97 checksum)
``credential`` a private-key block, or a token in a published format: AWS access
               key ids, GitHub, GitLab, Slack, Stripe, Google API, OpenAI and
               Anthropic keys, JSON web tokens; or ``password|secret|api_key|token``
               assigned a value of 8+ characters
=============  =====================================================================

The libraries are maintained, offline and hold their metadata in their wheels; e-mail,
IP and credential formats are short published grammars, matched here (docs/design.md).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

import numpy as np

__all__ = ["PHONE_REGION", "PII_KINDS", "personal_data", "personal_flags"]

#: the kinds, in the order a row's ``pii`` column lists them
PII_KINDS = ("email", "phone", "ip", "card", "iban", "credential")
#: national phone formats are read as this region's (international ones everywhere)
PHONE_REGION = "US"

_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}"
                    r"(?![\w-])")
_IPV4 = re.compile(r"(?<![\w.])(?<!version )(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_DIGITS = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
#: issuer prefixes (IIN ranges) of the card networks, as regular expressions on the digits
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|6011|65|"
                          r"64[4-9]|35(?:2[89]|[3-8]\d)|3(?:0[0-5]|[689])|62)")
_CREDENTIAL = re.compile("|".join(f"(?:{p})" for p in (
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
    r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub
    r"\bgithub_pat_[A-Za-z0-9_]{50,}\b",
    r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",  # Slack
    r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}\b",  # Stripe
    r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
    r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}\b",  # OpenAI, Anthropic
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
    r"\b(?i:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)"
    r"\s*[:=]\s*['\"]?[^\s'\"]{8,}",
)))


#: a span of 7+ digits that may be a phone number (libphonenumber runs only on texts
#: that hold one: it is the slowest step, and most texts hold none)
_PHONE_SPAN = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
#: literals one of which every credential format contains (checked before the patterns)
_CREDENTIAL_MARKS = ("-----BEGIN", "AKIA", "ASIA", "_", "glpat-", "xox", "AIza", "sk-",
                     "eyJ")
_CREDENTIAL_WORDS = ("pass", "pwd", "secret", "key", "token")


#: what every kind needs somewhere in the text: an "@", a number not inside a word, an
#: IBAN's country and check digits, the "::" of IPv6, or a credential's marker or word;
#: checked first, with C-speed ``in`` tests and two short patterns, since most texts
#: hold none of them
_NUMBER = re.compile(r"\b\d")
_COUNTRY_CHECK = re.compile(r"[A-Z]{2}\d\d")


def _maybe(text: str) -> bool:
    if "@" in text or "::" in text or _NUMBER.search(text) or _COUNTRY_CHECK.search(text):
        return True
    if any(m in text for m in _CREDENTIAL_MARKS):
        return True
    low = text.lower()
    return any(w in low for w in _CREDENTIAL_WORDS)


def _credential(text: str) -> bool:
    if not (any(m in text for m in _CREDENTIAL_MARKS)
            or any(w in text.lower() for w in _CREDENTIAL_WORDS)):
        return False
    return _CREDENTIAL.search(text) is not None


def _ip(text: str) -> bool:
    for m in _IPV4.finditer(text):
        start = m.start()
        if start and text[start - 1] in "vV":  # v1.2.3.4: a version
            continue
        try:
            addr = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if not (addr.is_loopback or addr.is_unspecified or addr.is_link_local):
            return True
    if text.count(":") < 2:
        return False
    for m in _IPV6.finditer(text):
        s = m.group()
        if s.count(":") < 7 and "::" not in s:
            continue
        try:
            addr6 = ipaddress.IPv6Address(s)
        except ValueError:
            continue
        if not (addr6.is_loopback or addr6.is_unspecified or addr6.is_link_local):
            return True
    return False


def _card(text: str) -> bool:
    from stdnum import luhn

    for m in _DIGITS.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn.is_valid(digits):
            return True
    return False


def _iban(text: str) -> bool:
    from stdnum import iban

    return any(iban.is_valid(m.group()) for m in _IBAN.finditer(text))


def _phone(text: str, region: str) -> bool:
    import phonenumbers

    if _PHONE_SPAN.search(text) is None:  # no phone number has fewer than 7 digits
        return False
    for m in phonenumbers.PhoneNumberMatcher(text, region,
                                             leniency=phonenumbers.Leniency.VALID):
        # a number glued to a word or an identifier (INV-2024-000123) is not a phone
        before = text[m.start - 1] if m.start else " "
        after = text[m.end] if m.end < len(text) else " "
        if not (before.isalnum() or before in "-_/#" or after.isalnum() or after in "-_/"):
            return True
    return False


def personal_data(text: str, region: str = PHONE_REGION) -> tuple[str, ...]:
    """The kinds of personal data and secrets found in ``text`` (in :data:`PII_KINDS`
    order; empty when none).

    Examples
    --------
    >>> from synthgain.audit.text import personal_data
    >>> personal_data("Write to ana.lopez@example.org or call +44 20 7946 0958.")
    ('email', 'phone')
    >>> personal_data("Released 2024-03-15 as version 1.2.3.4, ISBN 978-0-306-40615-7.")
    ()
    """
    if not _maybe(text):
        return ()
    found = {
        "email": "@" in text and _EMAIL.search(text) is not None,
        "ip": _ip(text),
        "iban": _iban(text),
        "credential": _credential(text),
    }
    masked = text
    if _PHONE_SPAN.search(text) is not None:
        # an IBAN's digits can pass a card's checks, an IPv4 address can read as a phone
        # number: each is masked before the kinds it could be mistaken for are looked for
        if found["iban"]:
            masked = _IBAN.sub(lambda m: " " * len(m.group()) if _iban(m.group())
                               else m.group(), masked)
        masked = _IPV4.sub(lambda m: " " * len(m.group()), masked)
    found["phone"] = _phone(masked, region)
    found["card"] = _card(masked)
    return tuple(k for k in PII_KINDS if found[k])


def personal_flags(texts: Sequence[str], region: str = PHONE_REGION
                   ) -> dict[str, np.ndarray]:
    """Per text: ``pii``, the kinds found, comma-separated ("" when none)."""
    return {"pii": np.array([",".join(personal_data(t, region)) for t in texts],
                            dtype=object)}
