"""bench/RESULTS.md and its plots, written from the results the runner kept (bench/out/results/*.json)."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import ROOT, saved

RESULTS_MD = ROOT / "bench" / "RESULTS.md"
PLOTS = ROOT / "bench" / "plots"
NOTES = ROOT / "bench" / "NOTES.md"  # the analysis of the misses, written by hand, appended as it is


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f} s" if value < 10 else f"{value:,.1f} s"


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else "**meets**" if ok else "**misses**"


def _size(calls: int) -> str:
    return f"{calls // 1_000_000}M" if calls >= 1_000_000 else f"{calls // 1000}k"


def _reports_by_size(results: dict) -> dict[int, dict]:
    out = {}
    for key, value in results.items():
        if key.startswith("reports_"):
            out[int(key.removeprefix("reports_"))] = value
    return dict(sorted(out.items()))


def _slowest(rows: list[dict], which: str) -> dict | None:
    chosen = [r for r in rows if r["which"] == which]
    return max(chosen, key=lambda r: r["engine_ms"]) if chosen else None


def budget_table(results: dict) -> list[str]:
    """The performance budget of ARCHITECTURE.md, one row per line, with what was measured."""
    lines = [
        "| what | target | measured | baseline, same run | ratio | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in (
        ("ingest_hourly_files", "ingest + classify + rate, whole command: 1M legs, hourly files"),
        ("ingest_small_files", "… 200k legs, one file per node per minute (the demo's layout)"),
        ("ingest_10m", "… 10M legs, hourly files"),
    ):
        r = results.get(key)
        if not r:
            lines.append(f"| {label} | ≤ 3× read_csv | – | – | – | not measured |")
            continue
        ok = r["ratio"] <= 3.0
        lines.append(
            f"| {label} | ≤ 3× DuckDB's bare read_csv (about 200,000 legs/s) | {_s(r['ingest_s'])} = "
            f"{_n(r['ingest_legs_per_s'])} legs/s | read_csv of the same {r['files']:,} files (CDR + CMR): "
            f"{_s(r['read_csv_s'])} | {r['ratio']:.2f}× | {_verdict(ok)} |"
        )
    sizes = _reports_by_size(results)
    r10 = sizes.get(10_000_000)
    if r10 and r10.get("department_month"):
        d = r10["department_month"]
        lines.append(
            f"| Group Cost By Department, one month ({d['period']}), 10M calls, warm | ≤ 150 ms | "
            f"{_ms(d['engine_ms'])} | the same SQL run directly: {_ms(d['direct_ms'])} | "
            f"{d['engine_ms'] / d['direct_ms']:.2f}× | {_verdict(d['engine_ms'] <= 150)} |"
        )
    else:
        lines.append("| Group Cost By Department, one month, 10M calls, warm | ≤ 150 ms | – | – | – | not measured |")
    if r10 and r10.get("home"):
        h = r10["home"]
        lines.append(
            f"| Home page data (last 200 calls + month summary), 10M calls | ≤ 50 ms | {_ms(h['warm_ms'])} "
            f"(first call, building the index: {_ms(h['first_ms'])}) | its SQL run directly: {_ms(h['direct_ms'])}; "
            f"without the index: {_ms(h['partitions_ms'])} | {h['warm_ms'] / h['direct_ms']:.2f}× | "
            f"{_verdict(h['warm_ms'] <= 50)} |"
        )
    else:
        lines.append("| Home page data, 10M calls | ≤ 50 ms | – | – | – | not measured |")
    r100 = sizes.get(100_000_000)
    if r100:
        for which, label in (("default", "its own default period"), ("last_12_months", "the whole year")):
            worst = _slowest(r100["reports"], which)
            if worst is None:
                continue
            slow = [r for r in r100["reports"] if r["which"] == which and r["engine_ms"] > 1500]
            measured = (
                f"slowest: {worst['report']} {_ms(worst['engine_ms'])}; {len(slow)} of "
                + str(len([r for r in r100["reports"] if r["which"] == which]))
                + " over 1.5 s"
            )
            ratio = worst["engine_ms"] / worst["direct_ms"]
            lines.append(
                f"| any catalogue report over 100M calls, warm ({label}) | ≤ 1.5 s | {measured} | "
                f"direct SQL of the slowest: {_ms(worst['direct_ms'])} | {ratio:.2f}× | {_verdict(not slow)} |"
            )
    else:
        lines.append("| any catalogue report over 100M calls, warm | ≤ 1.5 s | – | – | – | run `make bench-large` |")
    deck = results.get("deck")
    if deck:
        lines.append(
            f"| tariff deck import, 200,000 prefixes | ≤ 2 s | {_s(deck['seconds'])} | reading the file alone: "
            f"{_s(deck['read_s'])} | {deck['seconds'] / deck['read_s']:.2f}× | {_verdict(deck['seconds'] <= 2)} |"
        )
    else:
        lines.append("| tariff deck import, 200,000 prefixes | ≤ 2 s | – | – | – | not measured |")
    lat = results.get("latency")
    if lat and lat.get("median_s") is not None:
        lines.append(
            f"| new CDR file in inbox → call visible | ≤ 10 s | median {_s(lat['median_s'])}, worst "
            f"{_s(lat['max_s'])} of {len(lat['samples'])} files | – | – | {_verdict(lat['max_s'] <= 10)} |"
        )
    else:
        lines.append("| new CDR file in inbox → call visible | ≤ 10 s | – | – | – | not measured |")
    mem = results.get("ingest_10m")
    if mem:
        gb = mem["peak_tree_mb"] / 1024
        lines.append(
            f"| peak memory, ingesting 10M legs | ≤ 3 GB | {gb:.2f} GB (command and its child processes; "
            f"largest single process {mem['peak_rss_mb'] / 1024:.2f} GB) | – | – | {_verdict(gb <= 3)} |"
        )
    else:
        lines.append("| peak memory, ingesting 10M legs | ≤ 3 GB | – | – | – | not measured |")
    return lines


def ingest_details(results: dict) -> list[str]:
    """Per ingest measurement: files, sizes, wall and CPU times, loads."""
    lines = [
        "| files | legs | bytes | runs | ingest wall | ingest CPU | read_csv wall | read_csv CPU | legs/s | "
        "ratio (wall) | ratio (CPU) | load while measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ("ingest_small_files", "ingest_hourly_files", "ingest_10m"):
        r = results.get(key)
        if not r:
            continue
        lines.append(
            f"| {r['files']:,} ({r.get('file_minutes', '?')}-minute) | {r['legs']:,} | {r['bytes'] / 2**20:,.0f} MB | "
            f"{r['runs']} | {_s(r['ingest_s'])} | {_s(r['ingest_cpu_s'])} | {_s(r['read_csv_s'])} | "
            f"{_s(r['read_csv_cpu_s'])} | {_n(r['ingest_legs_per_s'])} | {r['ratio']:.2f}× | {r['cpu_ratio']:.2f}× | "
            f"{', '.join(f'{x:.1f}' for x in r['loads'])} |"
        )
    return lines


def rating_details(results: dict) -> list[str]:
    r = results.get("rating")
    if not r:
        return ["Not measured."]
    return [
        f"{r['legs']:,} legs over {r['days']} days from {r['distinct_numbers']:,} distinct dialled numbers, priced a "
        f"day at a time by `warehouse.rating.price_calls` (the pipeline's code):",
        "",
        "| what | seconds | rate |",
        "|---|---|---|",
        f"| classification only (phonenumbers over the distinct numbers, {r['workers']} processes) | "
        f"{_s(r['classify_only_s'])} | {_n(r['classify_only_numbers_per_s'])} numbers/s |",
        f"| classification + rating, empty number cache ({r['numbers_classified_cold']:,} numbers classified) | "
        f"{_s(r['cold_s'])} | {_n(r['cold_legs_per_s'])} legs/s |",
        f"| classification + rating, warm number cache | {_s(r['warm_s'])} | {_n(r['warm_legs_per_s'])} legs/s |",
        f"| baseline: a bare DuckDB join of every leg to its number's class | {_s(r['baseline_join_s'])} | "
        f"{_n(r['baseline_join_rows_per_s'])} rows/s |",
        "",
        f"Rows without a cost: {r['unrated_rows']:,} of {r['priced_rows'] + r['unrated_rows']:,} billable rows.",
    ]


def _runs(r: dict) -> str:
    each = "one warm run each, after the first" if r["runs"] == 1 else f"medians of {r['runs']} warm runs"
    if not r.get("slow_ms"):
        return each
    slow = f"a report whose first run took over {r['slow_ms'] / 1000:.0f} s: that run, and the SQL run directly once"
    return f"{each} ({slow})"


def reports_details(results: dict) -> list[str]:
    lines: list[str] = []
    for calls, r in _reports_by_size(results).items():
        lake = r.get("lake", {})
        lines += [
            f"### {_size(calls)} calls",
            "",
            f"Lake: {lake.get('calls', calls):,} calls over {lake.get('days', '?')} days "
            f"({lake.get('first_day', '?')} to {lake.get('last_day', '?')}), "
            f"{lake.get('bytes', 0) / 2**30:.2f} GB of Parquet; {_runs(r)}; load "
            f"{' → '.join(f'{x:.1f}' for x in r.get('load', []))}.",
            "",
        ]
        h = r.get("home")
        if h:
            lines += [
                f"Home ({h['person']}, {h['month_calls']:,} calls this month): {_ms(h['warm_ms'])} warm; "
                f"the same SQL directly {_ms(h['direct_ms'])}; first call, building the index {_ms(h['first_ms'])}; "
                f"without the index (reading the person's day partitions) {_ms(h['partitions_ms'])}.",
                "",
            ]
        lines += [
            "| report | period | engine | direct SQL | engine / direct | first run |",
            "|---|---|---|---|---|---|",
        ]
        for row in r["reports"]:
            lines.append(
                f"| {row['report']} | {row['period']} | {_ms(row['engine_ms'])} | {_ms(row['direct_ms'])} | "
                f"{row['engine_ms'] / row['direct_ms']:.2f}× | {_ms(row['first_ms'])} |"
            )
        lines.append("")
    return lines or ["Not measured."]


def latency_details(results: dict) -> list[str]:
    lat = results.get("latency")
    if not lat:
        return ["Not measured."]
    lines = [
        f"`ringledger run --no-demo --no-feed` on a demo home with {lat['history_legs_per_day']:,} legs a day of "
        f"history; the services were ready after {_s(lat['ready_s'])}. Each sample moves one minute of the demo "
        "cluster's CDR and CMR files (both nodes) into the inbox and polls `calls` every 0.1 s.",
        "",
        "| minute | files | call rows | seconds until visible | load |",
        "|---|---|---|---|---|",
    ]
    for s in lat["samples"]:
        lines.append(f"| {s['minute'][11:16]} | {s['files']} | {s['rows']} | {s['seconds']:.1f} | {s['load']:.1f} |")
    return lines


def plots(results: dict) -> list[str]:
    """PNG plots of cost against size: ingest, and the heaviest report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    made = []
    points = [results[k] for k in ("ingest_hourly_files", "ingest_10m") if k in results]
    small = results.get("ingest_small_files")
    if points or small:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
        if points:
            legs = [p["legs"] for p in points]
            ax.plot(legs, [p["ingest_s"] for p in points], "o-", label="ringledger ingest (hourly files)")
            ax.plot(legs, [p["read_csv_s"] for p in points], "s--", label="DuckDB read_csv, same files")
            ax.plot(legs, [3 * p["read_csv_s"] for p in points], ":", color="grey", label="budget: 3× read_csv")
        if small:
            ax.plot([small["legs"]], [small["ingest_s"]], "^", label="ingest, one file per node and minute")
            ax.plot([small["legs"]], [small["read_csv_s"]], "v", label="read_csv, one file per node and minute")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("CDR legs")
        ax.set_ylabel("seconds (wall)")
        ax.set_title("Ingest: CUCM files to priced calls")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(PLOTS / "ingest.png")
        plt.close(fig)
        made.append("![ingest cost against size](plots/ingest.png)")
    sizes = _reports_by_size(results)
    if sizes:
        largest = sizes[max(sizes)]
        heaviest = _slowest(largest["reports"], "last_12_months") or _slowest(largest["reports"], "default")
        if heaviest:
            fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
            for name, style in ((heaviest["report"], "o-"), ("cost_by_department", "s-")):
                xs, engine, direct = [], [], []
                for calls, r in sizes.items():
                    row = next(
                        (x for x in r["reports"] if x["report"] == name and x["which"] == heaviest["which"]), None
                    )
                    if row:
                        xs.append(calls)
                        engine.append(row["engine_ms"] / 1000)
                        direct.append(row["direct_ms"] / 1000)
                ax.plot(xs, engine, style, label=f"{name}, engine ({heaviest['period']})")
                ax.plot(xs, direct, style.replace("-", "--"), alpha=0.6, label=f"{name}, direct SQL")
            ax.axhline(1.5, color="grey", linestyle=":", label="budget at 100M: 1.5 s")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("calls in the lake")
            ax.set_ylabel("seconds (warm)")
            ax.set_title("The heaviest report over a year of calls")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
            fig.tight_layout()
            fig.savefig(PLOTS / "reports.png")
            plt.close(fig)
            made.append("![heaviest report cost against size](plots/reports.png)")
    return made


def write(path: Path = RESULTS_MD) -> Path:
    """Write RESULTS.md (and the plots) from every kept result."""
    results = saved()
    machines = sorted({r.get("machine", "") for r in results.values() if r.get("machine")})
    when = sorted(r.get("measured_at", "") for r in results.values())
    lines = [
        "# Ringledger performance, measured",
        "",
        "Written by `make bench` (and `make bench-large` for 100M calls) from `bench/run.py`; do not edit by hand "
        "(the analysis comes from `bench/NOTES.md`). Every figure is measured in the same run as its baseline, "
        "on the same data; times are medians of several runs unless a section says otherwise.",
        "",
        f"Machine: {'; '.join(machines) or 'unknown'}. Measured {when[0] if when else '?'} to "
        f"{when[-1] if when else '?'}. The machine is shared (other people's tests run on it); each section "
        "records the 1-minute load average it was measured under (2.0 means both cores busy).",
        "",
        "## The budget (ARCHITECTURE.md)",
        "",
        *budget_table(results),
        "",
        "## Ingest",
        "",
        "`ringledger ingest` of demo CUCM files (CDR and CMR, current 133/48-column layout) into an empty data "
        "home: archive, ledger, parse, raw partitions, calls, classification, rating, rollups. Baseline: DuckDB "
        "counting every CDR and CMR row of the same files with a bare `read_csv` (all columns as text), "
        "alternating with the ingest in the same run.",
        "",
        *ingest_details(results),
        "",
        "## Classification and rating",
        "",
        *rating_details(results),
        "",
        "## Reports and Home",
        "",
        "Lakes of the demo company's calls over a year (`bench/build.py`: real demo calls, ingested, classified "
        "and priced, repeated over the year by weekday). Engine: `run_report` as the portal calls it (scope, query, "
        "masking, labels, totals); direct: the same final SQL executed on the same DuckDB connection. Periods: the "
        "report's own default, and the last 12 months (every call in the lake).",
        "",
        *reports_details(results),
        "## Inbox to visible",
        "",
        *latency_details(results),
        "",
        "## Plots",
        "",
        *plots(results),
        "",
    ]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").rstrip(), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write(), file=sys.stderr)
