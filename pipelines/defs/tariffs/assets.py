"""Tariff files as an observed source: their fingerprint is the data version the calls were priced with."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from warehouse.rating import load_tariffs, tariff_fingerprint

TARIFF_FILES = dg.AssetKey("tariff_files")


def observe_tariffs(ringledger: RingledgerResource) -> tuple[str, dict]:
    """The tariffs' fingerprint and what they hold (plans, versions, plans that cannot be read)."""
    settings = ringledger.settings()
    book = load_tariffs(settings)
    metadata = {
        "folder": str(settings.tariffs_dir),
        "plans": ", ".join(sorted(book.plans)) or "none",
        "versions": sum(len(p.versions) for p in book.plans.values()),
        "unreadable": "; ".join(f"{k}: {v}" for k, v in sorted(book.errors.items())) or "none",
    }
    return tariff_fingerprint(settings), metadata


@dg.observable_source_asset(
    key=TARIFF_FILES,
    group_name="tariffs",
    description="Tariff plans in $RINGLEDGER_HOME/tariffs and the configured paths; calls are priced with them",
)
def tariff_files(ringledger: RingledgerResource) -> dg.DataVersion:
    """Fingerprint of every tariff file (sizes and times): a new one means prices may have changed."""
    version, _ = observe_tariffs(ringledger)
    return dg.DataVersion(version)
