"""Tariffs of the demo company's carriers: it-carrier (EUR), uk-carrier (GBP), us-carrier (USD).

They are ordinary own-format plans, shipped with the package and copied into the tariffs folder
when the demo company is loaded. The company reports in EUR; the demo configuration needs the
exchange rates `[currencies] GBP = 1.17` and `USD = 0.92`.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

PLANS = ("it-carrier", "uk-carrier", "us-carrier")
# Exchange rates into EUR the demo configuration uses (1 unit = x EUR).
EXCHANGE_RATES = {"GBP": "1.17", "USD": "0.92"}


def folder(name: str) -> Path:
    """Where a demo plan's files are shipped."""
    return Path(str(resources.files("tariffs").joinpath("demo", name)))


def install(tariffs_dir: Path, *, replace: bool = False) -> list[str]:
    """Copy the demo plans into a tariffs folder; an existing plan is kept unless `replace`. Returns those copied."""
    tariffs_dir = Path(tariffs_dir)
    tariffs_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in PLANS:
        target = tariffs_dir / name
        if target.exists():
            if not replace:
                continue
            shutil.rmtree(target)
        shutil.copytree(folder(name), target, ignore=shutil.ignore_patterns("__pycache__"))
        copied.append(name)
    return copied
