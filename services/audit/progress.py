"""Progress bars for long audit runs: rate and ETA on stderr, silent when asked."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress_bar(description: str, total: int | None, unit: str, enabled: bool) -> tqdm[Any]:
    """A tqdm bar on stderr; disabled bars cost nothing, so callers always update one."""
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=True,
        dynamic_ncols=True,
        file=sys.stderr,
        disable=not enabled,
        smoothing=0.1,
    )
