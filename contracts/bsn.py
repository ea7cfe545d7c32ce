"""The BSN (burgerservicenummer, citizen service number) and its elfproef (11-check).

A BSN has 9 digits d1..d9 and is valid when 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11
(and the number is not 0). Only synthetic BSNs are ever generated here.
"""

from __future__ import annotations

import random

BSN_LENGTH = 9
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def passes_elfproef(candidate: str) -> bool:
    """Whether the text is exactly nine digits that pass the BSN 11-check."""
    if len(candidate) != BSN_LENGTH or not candidate.isascii() or not candidate.isdigit():
        return False
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, candidate, strict=True))
    return total % 11 == 0 and int(candidate) != 0


def synthetic_bsn(rng: random.Random) -> str:
    """A random nine-digit number that passes the elfproef, for test and demo people only."""
    while True:
        first_eight = [rng.randrange(10) for _ in range(8)]
        partial = sum(w * d for w, d in zip(_WEIGHTS[:8], first_eight, strict=True))
        last = partial % 11
        if last < 10:  # 9*d1..2*d8 - d9 == 0 (mod 11) needs d9 == partial (mod 11)
            candidate = "".join(map(str, first_eight)) + str(last)
            if passes_elfproef(candidate):
                return candidate
