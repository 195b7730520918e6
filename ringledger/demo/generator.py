"""Write the demo company's CDR and CMR files: in bulk for a period, or one more minute for a live demo.

Calls are placed minute by minute in time order. Their lines wait in per-(node, file minute)
buckets until no later call can end in that minute, then each bucket becomes one file named as
CUCM names them (`cdr_RavelloCluster_01_202405061432_1234`, UTC minute the legs ended, a
sequence number per node that the CDR and CMR file of the same node and minute share). Only the
calls still in progress are held in memory, so any number of legs streams in bounded memory.

The number of calls per minute follows office hours in each site's time zone. For a bulk run a
feedback loop steers the running total onto the requested number of legs (within a few legs).
Counters, the random state and the legs still in progress at the end are saved in a hidden state
file, so `write_minute()` continues the same cluster: sequence numbers, call ids and all.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import json
import math
import random
import sys
import time
import zoneinfo
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path

from ringledger.demo.company import CLUSTER, DEFAULT_USERS, NODES, SITES, build_company, config_toml, directory_csv
from ringledger.demo.records import CDR_HEADER, CMR_HEADER
from ringledger.demo.traffic import PRIOR_LEGS_PER_CALL, Counters, Traffic
from tariffs import demo as demo_tariffs

STATE_NAME = ".ringledger-demo-state.json"
CDR_FOLDER = "cdr"
DEFAULT_DAYS = 30
# The size of the demo `load_demo()` puts into an empty home, which also sets the live feed's rate.
DEMO_LEGS = 150_000
DEMO_DAYS = 60
# A live demo that was stopped longer than this starts again a week back instead of catching up fully;
# a pause of more than CATCH_UP_HOURLY minutes is caught up in hourly files, not thousands of small ones.
MAX_CATCH_UP_MINUTES = 7 * 24 * 60
CATCH_UP_HOURLY = 120

# Relative calling rate per local hour on a working day (lunch dip at 12-14, little before 8 or after 19).
WORKDAY_PROFILE = (
    0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.20, 0.65, 1.00, 1.00, 0.95,
    0.60, 0.55, 0.95, 1.00, 0.90, 0.70, 0.40, 0.12, 0.06, 0.04, 0.03, 0.02,
)  # fmt: skip
WEEKEND_FACTOR = 0.06

Progress = Callable[[dict], None]


@dataclass
class DemoState:
    """Everything needed to continue a demo cluster: counters, random state, calls still in progress."""

    seed: int
    users: int
    change_at: int  # epoch second the reassigned line changes owner
    legs_per_weight: float  # legs per unit of the hourly calling profile (sets the live rate)
    next_minute: int  # first minute (epoch // 60) whose calls are not generated yet
    seq: dict[str, int]
    counters: dict
    rng: list
    calls: int = 0
    legs: int = 0
    pending: list[list] = field(default_factory=list)  # [kind, node, epoch second, line]

    def save(self, path: Path) -> None:
        """Write the state atomically."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> DemoState:
        """Read a state file written by `save`."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: not a demo state file ({exc})") from None


def _rng_state(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _set_rng_state(rng: random.Random, state: list) -> None:
    rng.setstate((state[0], tuple(state[1]), state[2]))


class _Profile:
    """Calling weight per UTC hour for each site (office hours in the site's own zone)."""

    def __init__(self, site_weights: dict[str, float]):
        self.sites = list(site_weights)
        self.shares = [site_weights[s] for s in self.sites]
        self.zones = [zoneinfo.ZoneInfo(next(x.time_zone for x in SITES if x.name == s)) for s in self.sites]
        self._cache: dict[int, tuple[float, list[float]]] = {}

    def hour(self, epoch_hour: int) -> tuple[float, list[float]]:
        """(total weight, cumulative weights per site) of one UTC hour."""
        hit = self._cache.get(epoch_hour)
        if hit is None:
            when = datetime.fromtimestamp(epoch_hour * 3600, UTC)
            weights = []
            for share, zone in zip(self.shares, self.zones, strict=True):
                local = when.astimezone(zone)
                w = WORKDAY_PROFILE[local.hour]
                if local.weekday() >= 5:
                    w *= WEEKEND_FACTOR
                weights.append(share * w)
            hit = (sum(weights), list(accumulate(weights)))
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[epoch_hour] = hit
        return hit

    def total(self, first_minute: int, end_minute: int) -> float:
        """Sum of the per-minute weights over [first_minute, end_minute)."""
        total = 0.0
        for h in range(first_minute // 60, (end_minute + 59) // 60):
            lo, hi = max(first_minute, h * 60), min(end_minute, h * 60 + 60)
            if hi > lo:
                total += self.hour(h)[0] * (hi - lo)
        return total


def _profile(company) -> _Profile:
    """A site calls in proportion to how much its people phone."""
    return _Profile({s.spec.name: sum(ep.weight for ep in s.lines) for s in company.sites})


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


@dataclass
class RunSummary:
    """What a demo run wrote."""

    legs: int = 0  # CDR rows written to files
    cmrs: int = 0  # CMR rows written to files
    files: int = 0
    calls: int = 0
    pending: int = 0  # lines of calls still in progress, kept in the state for the next minute
    seconds: float = 0.0
    first: datetime | None = None
    last: datetime | None = None

    @property
    def legs_per_second(self) -> float:
        return self.legs / self.seconds if self.seconds else 0.0


class _Engine:
    """Places calls minute by minute and writes the complete minutes as CUCM files."""

    def __init__(self, cdr_dir: Path, state: DemoState, file_minutes: int = 1, progress: Progress | None = None):
        self.dir = cdr_dir
        self.state = state
        self.file_minutes = file_minutes
        self.progress = progress
        self.rng = random.Random()
        _set_rng_state(self.rng, state.rng)
        change = datetime.fromtimestamp(state.change_at, UTC) if state.change_at else None
        self.company = build_company(state.users, change)
        self.counters = Counters(
            call_ids={int(k): v for k, v in state.counters["call_ids"].items()},
            leg_id=state.counters["leg_id"],
            conference=state.counters["conference"],
            recording=state.counters["recording"],
        )
        self.buckets: dict[tuple[int, int], tuple[list, list]] = {}  # (group, node) -> (cdr, cmr) [(t, line)]
        self.groups: list[int] = []  # heap of the groups that have a bucket
        self.traffic = Traffic(self.company, self.rng, self.counters, self._collect)
        self.profile = _profile(self.company)
        self.summary = RunSummary()
        self._calls_before = state.calls
        self._started = time.perf_counter()
        self._last_report = self._started
        self._seq = {int(k): v for k, v in state.seq.items()}
        for kind, node, t, line in state.pending:
            self._collect(kind, node, t, line)

    def _collect(self, kind: str, node: int, t: int, line: str) -> None:
        group = t // 60 // self.file_minutes
        key = (group, node)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = ([], [])
            heapq.heappush(self.groups, group)
        bucket[kind == "cmr"].append((t, line))

    # -- placing calls ---------------------------------------------------------------------------
    def place_minute(self, minute: int, calls: int) -> int:
        """Place `calls` calls starting in this minute; returns the CDR rows they make."""
        if calls <= 0:
            return 0
        rng = self.rng
        total, cum = self.profile.hour(minute // 60)
        sites = self.profile.sites
        starts = []
        for _ in range(calls):
            r = rng.random() * total
            starts.append((minute * 60 + int(rng.random() * 60), sites[min(bisect(cum, r), len(sites) - 1)]))
        starts.sort()
        legs = 0
        call = self.traffic.call
        for t, site in starts:
            legs += call(t, site)
        self.state.calls += calls
        self.state.legs += legs
        return legs

    def mean_legs(self) -> float:
        """Mean CDR rows per call so far, starting from the prior."""
        return (self.state.legs + PRIOR_LEGS_PER_CALL * 200) / (self.state.calls + 200)

    def run_bulk(self, first_minute: int, end_minute: int, legs: int) -> None:
        """Place calls over [first_minute, end_minute) so that about `legs` CDR rows result."""
        total = self.profile.total(first_minute, end_minute)
        self.state.legs_per_weight = legs / total if total else 0.0
        target = 0.0
        produced = 0
        for minute in range(first_minute, end_minute):
            target += self.state.legs_per_weight * self.profile.hour(minute // 60)[0]
            need = target - produced
            n = _poisson(self.rng, need / self.mean_legs()) if need > 0 else 0
            produced += self.place_minute(minute, n)
            self.flush_before(minute + 1)
        self.state.next_minute = end_minute
        self.flush_partial(end_minute)

    def flush_partial(self, end_minute: int) -> None:
        """Write what already ended before `end_minute` in the file group that `end_minute` cuts in two."""
        group = end_minute // self.file_minutes
        if end_minute % self.file_minutes == 0:
            return
        limit = end_minute * 60
        for node in NODES:
            bucket = self.buckets.get((group, node))
            if bucket is None:
                continue
            done = [[item for item in rows if item[0] < limit] for rows in bucket]
            if any(done):
                self._write(group, node, *done, last_minute=end_minute - 1)
                self.buckets[(group, node)] = (
                    [i for i in bucket[0] if i[0] >= limit],
                    [i for i in bucket[1] if i[0] >= limit],
                )

    def run_live(self, end_minute: int) -> None:
        """Place calls from the state's next minute up to `end_minute` at the demo's usual rate."""
        first = max(self.state.next_minute, end_minute - MAX_CATCH_UP_MINUTES)
        for minute in range(first, end_minute):
            lam = self.state.legs_per_weight * self.profile.hour(minute // 60)[0] / self.mean_legs()
            self.place_minute(minute, _poisson(self.rng, lam))
            self.flush_before(minute + 1)
        self.state.next_minute = max(self.state.next_minute, end_minute)

    # -- writing files ---------------------------------------------------------------------------
    def flush_before(self, minute: int) -> None:
        """Write every file whose minutes all lie before `minute` (no later call can add to them)."""
        limit = minute // self.file_minutes
        groups = self.groups
        if not groups or groups[0] >= limit:
            return
        while groups and groups[0] < limit:
            group = heapq.heappop(groups)
            for node in NODES:
                bucket = self.buckets.pop((group, node), None)
                if bucket is not None:
                    self._write(group, node, *bucket)
        self._report()

    def _write(self, group: int, node: int, cdr: list, cmr: list, last_minute: int | None = None) -> None:
        seq = self._seq[node] = self._seq[node] + 1
        if last_minute is None:
            last_minute = (group + 1) * self.file_minutes - 1
        label = datetime.fromtimestamp(last_minute * 60, UTC)
        stamp = f"{label:%Y%m%d%H%M}"
        for kind, header, rows in (("cdr", CDR_HEADER, cdr), ("cmr", CMR_HEADER, cmr)):
            if not rows:
                continue
            rows.sort()  # CUCM writes a record when its leg ends
            name = f"{kind}_{CLUSTER}_{node:02d}_{stamp}_{seq}"
            # written under '_name' and renamed, as CUCM does, so a watcher never reads half a file
            tmp = self.dir / f"_{name}"
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                fh.write(header)
                fh.write("\n".join(line for _, line in rows))
            tmp.replace(self.dir / name)
            self.summary.files += 1
            if kind == "cdr":
                self.summary.legs += len(rows)
            else:
                self.summary.cmrs += len(rows)
        self.summary.first = self.summary.first or label
        self.summary.last = label

    def _report(self) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if now - self._last_report >= 2.0:
            self._last_report = now
            self.progress(self._progress_data(now))

    def _progress_data(self, now: float) -> dict:
        elapsed = now - self._started
        return {
            "legs": self.summary.legs,
            "files": self.summary.files,
            "seconds": elapsed,
            "legs_per_second": self.summary.legs / elapsed if elapsed else 0.0,
        }

    def finish(self, state_path: Path) -> RunSummary:
        """Keep the calls still in progress in the state, save it, and sum up."""
        pending = []
        for (_, node), (cdr, cmr) in sorted(self.buckets.items()):
            pending += [["cdr", node, t, line] for t, line in cdr]
            pending += [["cmr", node, t, line] for t, line in cmr]
        self.state.pending = pending
        self.state.seq = {str(k): v for k, v in self._seq.items()}
        self.state.counters = {
            "call_ids": {str(k): v for k, v in self.counters.call_ids.items()},
            "leg_id": self.counters.leg_id,
            "conference": self.counters.conference,
            "recording": self.counters.recording,
        }
        self.state.rng = _rng_state(self.rng)
        self.state.save(state_path)
        self.summary.calls = self.state.calls - self._calls_before
        self.summary.pending = len(pending)
        self.summary.seconds = time.perf_counter() - self._started
        if self.progress is not None:
            self.progress(self._progress_data(time.perf_counter()) | {"done": True})
        return self.summary


def _new_state(seed: int, users: int, change_at: int) -> DemoState:
    rng = random.Random(seed)
    counters = Counters.start(rng)
    return DemoState(
        seed=seed,
        users=users,
        change_at=change_at,
        legs_per_weight=0.0,
        next_minute=0,
        seq={str(n): rng.randrange(10_000, 900_000) for n in NODES},
        counters={
            "call_ids": {str(k): v for k, v in counters.call_ids.items()},
            "leg_id": counters.leg_id,
            "conference": counters.conference,
            "recording": counters.recording,
        },
        rng=_rng_state(rng),
    )


def _minute(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"--end {when.isoformat()}: give a time zone (for example 2024-05-06T18:00:00+00:00)")
    return int(when.timestamp()) // 60


def generate(
    out_dir: Path,
    legs: int,
    days: float = DEFAULT_DAYS,
    seed: int = 1,
    end: datetime | None = None,
    file_minutes: int = 1,
    users: int = DEFAULT_USERS,
    progress: Progress | None = None,
) -> RunSummary:
    """Write `legs` CDR rows (within 1%) over `days` days up to `end` into out_dir/cdr, plus directory and config.

    Files: out_dir/cdr/cdr_* and cmr_* (CUCM names and layout), out_dir/directory.csv (for
    `ringledger users import`), out_dir/ringledger.toml (sites and devices), and the hidden state
    out_dir/cdr/.ringledger-demo-state.json that `write_minute()` continues from. `end` (default now)
    is rounded down to the minute; the same arguments always give the same bytes.
    """
    if legs < 1:
        raise ValueError(f"--legs must be at least 1, got {legs}")
    if not 0 < days <= 3660:
        raise ValueError(f"--days must be between 0 and 3660, got {days}")
    if file_minutes < 1 or 1440 % file_minutes:
        raise ValueError(f"--file-minutes must divide a day (1, 5, 15, 60, ...), got {file_minutes}")
    end = end or datetime.now(UTC)
    end_minute = _minute(end)
    first_minute = end_minute - int(round(days * 1440))
    change_at = (first_minute + (end_minute - first_minute) // 2) * 60
    out_dir = Path(out_dir)
    cdr_dir = out_dir / CDR_FOLDER
    cdr_dir.mkdir(parents=True, exist_ok=True)
    company = build_company(users, datetime.fromtimestamp(change_at, UTC))
    (out_dir / "directory.csv").write_text(directory_csv(company), encoding="utf-8")
    # the carriers' tariff plans travel with the files, so ingesting them with this configuration prices them
    demo_tariffs.install(out_dir / "tariffs", replace=True)
    (out_dir / "ringledger.toml").write_text(config_toml(tariff_folder="tariffs"), encoding="utf-8")
    state = _new_state(seed, users, change_at)
    engine = _Engine(cdr_dir, state, file_minutes, progress)
    with _without_gc():
        engine.run_bulk(first_minute, end_minute, legs)
    return engine.finish(cdr_dir / STATE_NAME)


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cycle collector: the generator makes millions of short-lived objects and no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def write_minute(
    out_dir: Path, at: datetime | None = None, state_file: Path | None = None, seed: int = 1
) -> RunSummary:
    """Write the CDR/CMR files of the demo traffic up to `at` (default now) into `out_dir`, for a live demo.

    Continues the cluster recorded in `state_file` (default out_dir/.ringledger-demo-state.json,
    where `generate()` and `load_demo()` leave it): the next sequence numbers and call ids, the calls
    that were still in progress, the same calling rate. Files cover whole UTC minutes before `at`;
    a minute already written is never written again. Without a state file a new cluster starts
    (seeded by `seed`) at the default demo rate.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = Path(state_file) if state_file else out_dir / STATE_NAME
    end_minute = _minute(at or datetime.now(UTC))
    if path.exists():
        state = DemoState.load(path)
    else:
        state = _new_state(seed, DEFAULT_USERS, (end_minute - DEMO_DAYS * 720) * 60)
        state.next_minute = end_minute - 1
        profile = _profile(build_company(DEFAULT_USERS, datetime.fromtimestamp(state.change_at, UTC)))
        state.legs_per_weight = DEMO_LEGS / profile.total(end_minute - DEMO_DAYS * 1440, end_minute)
    total = RunSummary()
    if end_minute - state.next_minute > CATCH_UP_HOURLY:
        hour = (end_minute - 60) // 60 * 60
        engine = _Engine(out_dir, state, file_minutes=60)
        engine.run_live(hour)
        engine.flush_before(hour)
        total = engine.finish(path)
    engine = _Engine(out_dir, state)
    engine.run_live(end_minute)
    engine.flush_before(end_minute)
    last = engine.finish(path)
    return RunSummary(
        legs=total.legs + last.legs,
        cmrs=total.cmrs + last.cmrs,
        files=total.files + last.files,
        calls=total.calls + last.calls,
        pending=last.pending,
        seconds=total.seconds + last.seconds,
        first=total.first or last.first,
        last=last.last or total.last,
    )


def print_progress(data: dict) -> None:
    """Progress line for long runs, on stderr."""
    end = "\n" if data.get("done") else ""
    print(
        f"\r  {data['legs']:,} legs in {data['files']:,} files, {data['legs_per_second']:,.0f} legs/s "
        f"({data['seconds']:.0f} s)",
        end=end,
        file=sys.stderr,
        flush=True,
    )
