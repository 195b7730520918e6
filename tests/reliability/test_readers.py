"""Queries while ingests and re-rates replace partitions: no error, and never half of a change.

Reader threads hammer `warehouse.connect()` and the JSON API while child processes ingest more files
and re-rate the day. Every per-day answer must equal the state before the change or after it.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest

import warehouse
from bench import faults
from phone_xml.app import create_app
from warehouse import accounts, api_tokens, appdb
from warehouse.access import load_principal
from warehouse.config import load_settings

PER_DAY = "select cast(day as varchar), count(*), count(distinct source_file) from calls group by 1"


def per_day(lake) -> dict[str, tuple[int, int]]:
    con = warehouse.connect(lake_dir=lake)
    try:
        return {d: (n, files) for d, n, files in con.execute(PER_DAY).fetchall()}
    finally:
        con.close()


@pytest.mark.slow
def test_readers_never_fail_nor_see_half_a_partition(demo_set, tmp_path, monkeypatch):
    config, cdr = demo_set
    files = sorted(p for p in cdr.iterdir() if not p.name.startswith("."))
    first, rest = tmp_path / "first", tmp_path / "rest"
    first.mkdir()
    rest.mkdir()
    for i, f in enumerate(files):
        (first if i % 3 == 0 else rest).joinpath(f.name).symlink_to(f)
    home = tmp_path / "home"
    home.mkdir()
    assert faults.ingest(home, config, [first]).returncode == 0
    monkeypatch.setenv("RINGLEDGER_HOME", str(home))
    monkeypatch.setenv("RINGLEDGER_CONFIG", str(config))
    settings = load_settings()
    engine = appdb.open_db(settings)
    accounts.create_user(engine, "test", "reader", role="administrator")
    _, token = api_tokens.create_token(settings, engine, load_principal(engine, "reader"), "reader")
    app = create_app(settings)
    app.config["TESTING"] = True
    before = per_day(home / "lake")
    days = sorted(before)

    def api_totals() -> dict[str, int]:
        out = {}
        with app.test_client() as client:
            for day in days:
                resp = client.get(
                    f"/api/v1/calls?from={day}&to={day}&limit=1", headers={"Authorization": f"Bearer {token}"}
                )
                assert resp.status_code == 200, resp.get_data(as_text=True)
                out[day] = resp.get_json()["total"]
        return out

    # the API reads local days of the token owner's zone; compare with itself before and after
    api_before = api_totals()
    seen: list[dict] = []
    api_seen: list[dict] = []
    errors: list[str] = []
    stop = threading.Event()

    def read_lake() -> None:
        while not stop.is_set():
            try:
                seen.append(per_day(home / "lake"))
            except Exception as exc:  # every failure is a finding
                errors.append(f"lake: {exc!r}")

    def read_api() -> None:
        while not stop.is_set():
            try:
                api_seen.append(api_totals())
            except Exception as exc:
                errors.append(f"api: {exc!r}")

    readers = [threading.Thread(target=read_lake) for _ in range(2)] + [threading.Thread(target=read_api)]
    for t in readers:
        t.start()
    try:
        assert faults.ingest(home, config, [rest]).returncode == 0
        day_range = [date.fromisoformat(days[0]), date.fromisoformat(days[-1])]
        rerate = faults.subprocess.run(
            [*faults.RINGLEDGER, "rerate", "--from", str(day_range[0]), "--to", str(day_range[1])],
            env=faults.env_for(home, config),
            capture_output=True,
            text=True,
        )
        assert rerate.returncode == 0, rerate.stderr
    finally:
        stop.set()
        for t in readers:
            t.join()
    after = per_day(home / "lake")
    api_after = api_totals()
    assert errors == []
    assert len(seen) > 3
    assert api_seen
    assert before != after
    for state in seen:
        for day in set(before) | set(after):
            assert state.get(day) in (before.get(day), after.get(day)), (day, state.get(day))
    for state in api_seen:
        for day in days:
            assert state[day] in (api_before[day], api_after[day])
    # every reader saw a whole state at least once on each side of the change
    assert Counter(s == after for s in seen)[True] >= 1
    warehouse.views.reset()
