# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""snapshots.expiry against the answers LXD 5.0.2 gave on the lab daemon (tests/lxd_expiry_table.py)."""

from __future__ import annotations

import datetime

import pytest

from lxd_expiry_table import ACCEPTED, BEYOND, MONTH_ENDS, NEVER, REFUSED

from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, parse_expiry, validate_value
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import format_rfc3339, parse_rfc3339
from ansible_collections.lxdops.server.plugins.module_utils.snapshot import expiry_to_timestamp


@pytest.mark.parametrize("value, created_at, expires_at", ACCEPTED)
def test_same_expiry_as_lxd(value, created_at, expires_at):
    """LXD computes the expiry a few milliseconds before it stamps created_at."""
    ours = expiry_to_timestamp(value, parse_rfc3339(created_at))
    assert abs((ours - parse_rfc3339(expires_at)).total_seconds()) < 0.1
    validate_value("snapshots.expiry", value)


@pytest.mark.parametrize("value", NEVER)
def test_no_expiry_as_lxd(value):
    assert expiry_to_timestamp(value, parse_rfc3339(ACCEPTED[0][1])) is None
    assert parse_expiry(value) == {}
    validate_value("snapshots.expiry", value)


@pytest.mark.parametrize("value", REFUSED)
def test_refused_as_lxd(value):
    with pytest.raises(ConfigError) as err:
        validate_value("snapshots.expiry", value)
    assert "snapshots.expiry" in str(err.value) and "each unit at most once" in str(err.value)
    with pytest.raises(ConfigError) as err:
        expiry_to_timestamp(value, parse_rfc3339(ACCEPTED[0][1]))
    assert ("expiry %r is not accepted" % value) in str(err.value) and "S (seconds)" in str(err.value)


@pytest.mark.parametrize("value, created_at, expires_at", BEYOND)
def test_beyond_lxd_arithmetic(value, created_at, expires_at):
    """LXD takes the key (so does config validation), but lxd_snapshot refuses to send its wrong answer."""
    validate_value("snapshots.expiry", value)
    if expires_at is not None:
        assert parse_rfc3339(expires_at) < parse_rfc3339(created_at)
    with pytest.raises(ConfigError) as err:
        expiry_to_timestamp(value, parse_rfc3339(created_at or ACCEPTED[0][1]))
    assert repr(value) in str(err.value) and ("overflows" in str(err.value) or "9999" in str(err.value))


@pytest.mark.parametrize("value, start, expected", MONTH_ENDS)
def test_month_ends_roll_over_as_go(value, start, expected):
    assert format_rfc3339(expiry_to_timestamp(value, parse_rfc3339(start))) == expected


def test_parse_expiry_fields():
    assert parse_expiry(" 1S 2M 3H 4d 5w 6m 7y ") == {"S": 1, "M": 2, "H": 3, "d": 4, "w": 5, "m": 6, "y": 7}
    assert parse_expiry("0d 3d") == {"d": 3}
    with pytest.raises(ConfigError) as err:
        parse_expiry("1" * 5000 + "d")
    assert "out of range" in str(err.value)


def test_counts_on_the_wall_clock_of_now():
    """Go's AddDate counts in the time's own zone: 1m from Jan 31 23:00 at +02:00 is Mar 3 23:00 there."""
    zone = datetime.timezone(datetime.timedelta(hours=2))
    start = datetime.datetime(2026, 1, 31, 23, 0, tzinfo=zone)
    assert expiry_to_timestamp("1m", start) == datetime.datetime(2026, 3, 3, 23, 0, tzinfo=zone)
    assert format_rfc3339(expiry_to_timestamp("", start) or start) == "2026-01-31T21:00:00Z"


def test_days_on_the_wall_clock_hours_in_absolute_time():
    """Across a daylight-saving change: AddDate keeps the wall clock, Add counts real hours (as in Go)."""
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database")
    start = datetime.datetime(2026, 3, 28, 12, 0, tzinfo=berlin)
    assert format_rfc3339(expiry_to_timestamp("1d", start)) == "2026-03-29T10:00:00Z"
    assert format_rfc3339(expiry_to_timestamp("24H", start)) == "2026-03-29T11:00:00Z"
