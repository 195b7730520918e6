"""The tariffs folder ($RINGLEDGER_HOME/tariffs): installing imported plans, adding versions, listing."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from tariffs.model import Plan, TariffError
from tariffs.own import order_versions, read_plan, write_plan
from warehouse.config import Settings


def installed(settings: Settings) -> list[str]:
    """Names of the plans in the tariffs folder."""
    folder = settings.tariffs_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "plan.toml").is_file())


def install(
    settings: Settings, plan: Plan, *, replace_existing: bool = False, valid_from: datetime | None = None
) -> Path:
    """Store a plan in the tariffs folder; with `valid_from`, add it as a new version of an existing plan."""
    target = settings.tariffs_dir / plan.name
    if target.exists() and (target / "plan.toml").is_file():
        if valid_from is not None:
            current = read_plan(target)
            if current.currency != plan.currency:
                raise TariffError(
                    target / "plan.toml",
                    f"the plan is in {current.currency}, the new version in {plan.currency}",
                    None,
                    "currency",
                )
            new_versions = [
                replace(v, valid_from=valid_from, valid_to=None, id=valid_from.date().isoformat())
                for v in plan.versions[-1:]
            ]
            kept = [v for v in current.versions if v.valid_from is None or v.valid_from < valid_from]
            if any(v.id == new_versions[0].id for v in kept):
                raise TariffError(
                    target / "plan.toml", f"a version {new_versions[0].id!r} already exists", None, "versions"
                )
            # the version in force at valid_from now ends there; later versions are superseded
            kept = [
                replace(v, valid_to=valid_from if v.valid_to is None or v.valid_to > valid_from else v.valid_to)
                for v in kept
            ]
            plan = replace(current, versions=order_versions([*kept, *new_versions], target / "plan.toml"))
        elif not replace_existing:
            raise TariffError(
                target,
                f"plan {plan.name!r} is already installed: give --valid-from DATE to add a version, or --replace",
            )
    elif valid_from is not None:
        plan = replace(plan, versions=tuple(replace(v, valid_from=valid_from) for v in plan.versions))
    settings.tariffs_dir.mkdir(parents=True, exist_ok=True)
    staging = settings.tariffs_dir / f".{plan.name}.{uuid.uuid4().hex[:8]}"
    write_plan(plan, staging)
    read_plan(staging)  # what was written must read back
    old = None
    if target.exists():
        old = settings.tariffs_dir / f".{plan.name}.old.{uuid.uuid4().hex[:8]}"
        target.replace(old)
    staging.replace(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
