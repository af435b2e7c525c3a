"""Precision and recall of the personal-data check on random instances.

Besides the hand-written cases of ``benchmarks/_pii_cases.py``, draws ``--n`` random
instances of each kind (valid card numbers of every network, IBANs of 12 countries with
their check digits, phone numbers of 30 regions in international and, for the US,
national formats, e-mail addresses, public IPv4 and IPv6 addresses, tokens of each
credential format) and as many random look-alikes of each type (dates in five formats,
times, version strings, ISBN-13 and EAN-13 with valid check digits, Luhn-valid digit
strings without a card prefix, order and invoice numbers, prices, MAC addresses, UUIDs,
commit hashes), each in a sentence, and counts what ``personal_data`` flags. Run from the
repository root::

    .venv/bin/python benchmarks/pii_check.py --n 500

The table it prints is the one in docs/audit.md ("Personal data and secrets").
"""

from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pii_cases import LOOKALIKES, POSITIVES
from synthgain._rng import child_generator
from synthgain.audit.text.personal import PII_KINDS, personal_data

SEED = 20261207
_REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "JP", "CN", "AU", "CA", "ES", "IT", "NL",
            "SE", "NO", "PL", "MX", "AR", "ZA", "NG", "KE", "EG", "TR", "RU", "KR", "ID",
            "PH", "VN", "CH", "BE")
_IBAN_LENGTHS = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "BE": 16,
                 "CH": 21, "AT": 20, "PL": 28, "SE": 24, "NO": 15}
_CARD_PREFIXES = (("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
                  ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("3528", 16),
                  ("36", 14), ("62", 16))


def _luhn_complete(body: str) -> str:
    """``body`` plus its Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _digits(g: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in g.integers(0, 10, n))


def _group(s: str, sep: str, size: int = 4) -> str:
    return sep.join(s[i:i + size] for i in range(0, len(s), size))


def card(g: np.random.Generator) -> str:
    prefix, length = _CARD_PREFIXES[int(g.integers(len(_CARD_PREFIXES)))]
    number = _luhn_complete(prefix + _digits(g, length - len(prefix) - 1))
    return _group(number, str(g.choice(["", " ", "-"])))


def iban(g: np.random.Generator) -> str:
    from stdnum import iban as std

    while True:
        country = str(g.choice(list(_IBAN_LENGTHS)))
        bban = _digits(g, _IBAN_LENGTHS[country] - 4)
        value = f"{country}{std.calc_check_digits(country + '00' + bban)}{bban}"
        if std.is_valid(value):  # national checks (where stdnum has them) must pass too
            return _group(value, str(g.choice(["", " "])))


def phone(g: np.random.Generator) -> str:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat

    region = str(g.choice(_REGIONS))
    num = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE if g.random() < 0.5
        else phonenumbers.PhoneNumberType.FIXED_LINE)
    fmt = (PhoneNumberFormat.NATIONAL if region == "US" and g.random() < 0.5
           else PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(num, fmt)


def email(g: np.random.Generator) -> str:
    letters = string.ascii_lowercase
    word = lambda k: "".join(g.choice(list(letters), k))  # noqa: E731
    local = word(int(g.integers(2, 9))) + str(g.choice([".", "_", "+", ""])) + word(3)
    return f"{local}@{word(int(g.integers(3, 10)))}.{g.choice(['com', 'org', 'net', 'de', 'co.uk', 'io'])}"


def ip(g: np.random.Generator) -> str:
    if g.random() < 0.6:
        first = int(g.choice([v for v in range(11, 224) if v != 127]))  # 127/8: loopback
        return ".".join(str(int(v)) for v in [first, *g.integers(0, 256, 3)])
    groups = [f"{int(v):x}" for v in g.integers(0, 65536, 8)]
    groups[0] = "2001"
    if g.random() < 0.5:
        return ":".join(groups)
    return ":".join(groups[:3]) + "::" + ":".join(groups[6:])


def credential(g: np.random.Generator) -> str:
    alnum = string.ascii_letters + string.digits
    rnd = lambda k, chars=alnum: "".join(g.choice(list(chars), k))  # noqa: E731
    forms = (lambda: "AKIA" + rnd(16, string.ascii_uppercase + string.digits),
             lambda: "ghp_" + rnd(36),
             lambda: "glpat-" + rnd(20),
             lambda: "xoxb-" + _digits(g, 10) + "-" + rnd(24),
             lambda: "sk_live_" + rnd(24),
             lambda: "AIza" + rnd(35),
             lambda: "sk-proj-" + rnd(40),
             lambda: "-----BEGIN PRIVATE KEY-----",
             lambda: "password=" + rnd(12),
             lambda: "eyJ" + rnd(20) + ".eyJ" + rnd(30) + "." + rnd(30))
    return forms[int(g.integers(len(forms)))]()


def lookalike(g: np.random.Generator) -> str:
    y, mo, d = int(g.integers(1950, 2030)), int(g.integers(1, 13)), int(g.integers(1, 29))
    isbn12 = "978" + _digits(g, 9)
    isbn = isbn12 + str((10 - sum(int(c) * (1 if i % 2 == 0 else 3)
                                  for i, c in enumerate(isbn12)) % 10) % 10)
    no_prefix = _luhn_complete("9" + _digits(g, 14))  # Luhn-valid, no card network's prefix
    forms = (f"{y}-{mo:02d}-{d:02d}", f"{d:02d}/{mo:02d}/{y}", f"{mo}/{d}/{y}",
             f"{d}.{mo}.{y}", f"{y}{mo:02d}{d:02d}",
             f"{int(g.integers(0, 24)):02d}:{int(g.integers(0, 60)):02d}:"
             f"{int(g.integers(0, 60)):02d}",
             f"version {'.'.join(str(int(v)) for v in g.integers(0, 20, 4))}",
             f"v{'.'.join(str(int(v)) for v in g.integers(0, 30, 3))}",
             f"ISBN {isbn[:3]}-{isbn[3]}-{isbn[4:7]}-{isbn[7:12]}-{isbn[12]}", isbn,
             no_prefix, f"order #{_digits(g, 10)}", f"INV-{y}-{_digits(g, 6)}",
             f"${int(g.integers(1, 99999)):,}.{_digits(g, 2)}",
             ":".join(f"{int(v):02X}" for v in g.integers(0, 256, 6)),
             "-".join(("".join(g.choice(list("0123456789abcdef"), k))) for k in (8, 4, 4, 4, 12)),
             "".join(g.choice(list("0123456789abcdef"), 40)),
             f"{int(g.integers(1, 100))}:{int(g.integers(1, 100))}")
    return forms[int(g.integers(len(forms)))]


MAKERS = {"email": email, "phone": phone, "ip": ip, "card": card, "iban": iban,
          "credential": credential}
_TEMPLATES = ("Please use {} for this.", "{}", "It says {} on the form.", "See {}, then reply.")


def cases(n: int, seed: int = SEED) -> tuple[list[tuple[str, str]], list[str]]:
    """(kind, sentence) positives, ``n`` per kind, and ``n * len(kinds)`` look-alike
    sentences, all drawn from ``seed``; plus the hand-written cases."""
    pos = [(k, t) for k, ts in POSITIVES.items() for t in ts]
    for kind, make in MAKERS.items():
        g = child_generator(seed, "positive", kind)
        pos += [(kind, _TEMPLATES[int(g.integers(len(_TEMPLATES)))].format(make(g)))
                for _ in range(n)]
    g = child_generator(seed, "lookalike")
    neg = list(LOOKALIKES) + [_TEMPLATES[int(g.integers(len(_TEMPLATES)))].format(lookalike(g))
                              for _ in range(n * len(MAKERS))]
    return pos, neg


def score(pos: list[tuple[str, str]], neg: list[str]) -> dict[str, dict[str, Any]]:
    """Per kind: recall on its positives, precision over every flag of that kind, and the
    texts missed or wrongly flagged (first 5 each)."""
    out: dict[str, dict[str, Any]] = {}
    found_pos = [(k, t, set(personal_data(t))) for k, t in pos]
    found_neg = [(t, set(personal_data(t))) for t in neg]
    for kind in PII_KINDS:
        mine = [f for k, _, f in found_pos if k == kind]
        hits = sum(kind in f for f in mine)
        false = ([t for k, t, f in found_pos if k != kind and kind in f]
                 + [t for t, f in found_neg if kind in f])
        flagged = hits + len(false)
        out[kind] = {"positives": len(mine), "recall": hits / len(mine),
                     "flagged": flagged, "precision": hits / flagged if flagged else 1.0,
                     "missed": [t for k, t, f in found_pos if k == kind and kind not in f][:5],
                     "false": false[:5]}
    out["lookalikes"] = {"n": len(neg), "flagged": sum(bool(f) for _, f in found_neg),
                         "examples": [f"{sorted(f)} {t}" for t, f in found_neg if f][:10]}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="random instances per kind")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    pos, neg = cases(args.n, args.seed)
    res = score(pos, neg)
    print(f"`.venv/bin/python benchmarks/pii_check.py --n {args.n} --seed {args.seed}`: "
          f"{len(pos):,} positives, {len(neg):,} look-alikes "
          f"({res['lookalikes']['flagged']} flagged)\n")
    print("| kind | positives | recall | flags | precision |")
    print("|---|---|---|---|---|")
    for kind in PII_KINDS:
        r = res[kind]
        print(f"| {kind} | {r['positives']:,} | {r['recall']:.3f} | {r['flagged']:,} | "
              f"{r['precision']:.3f} |")
    for t in res["lookalikes"]["examples"]:
        print(f"look-alike flagged: {t}", file=sys.stderr)
    for kind in PII_KINDS:
        for what in ("missed", "false"):
            for t in res[kind][what]:
                print(f"{kind} {what}: {t}", file=sys.stderr)


if __name__ == "__main__":
    main()
