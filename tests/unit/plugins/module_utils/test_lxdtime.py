# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's RFC 3339 parser and formatter."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import (
    ZERO_TIME,
    format_rfc3339,
    is_zero_time,
    parse_lxd_time,
    parse_rfc3339,
)

UTC = datetime.timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2026-11-29T20:00:00Z", datetime.datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)),
    ("2026-11-29T20:00:00.123456789Z", datetime.datetime(2026, 11, 29, 20, 0, 0, 123456, tzinfo=UTC)),
    ("2026-11-29T20:00:00.5Z", datetime.datetime(2026, 11, 29, 20, 0, 0, 500000, tzinfo=UTC)),
    ("2026-11-29T21:30:00+01:30", datetime.datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)),
    ("2026-11-29T18:00:00.25-02:00", datetime.datetime(2026, 11, 29, 20, 0, 0, 250000, tzinfo=UTC)),
    ("2026-11-29t20:00:00z", datetime.datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)),
    ("2026-11-29 20:00:00", datetime.datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)),
    (" 2026-11-29T20:00:00Z\n", datetime.datetime(2026, 11, 29, 20, 0, 0, tzinfo=UTC)),
    (ZERO_TIME, datetime.datetime(1, 1, 1, tzinfo=UTC)),
])
def test_parses_to_utc(text, expected):
    moment = parse_rfc3339(text)
    assert moment == expected and moment.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize("text", ["tomorrow", "", "2026-11-29", "2026-11-29T20:00Z", "2026-02-30T00:00:00Z",
                                  "2026-11-29T24:00:00Z", "2026-11-29T20:00:00+24:00", "2026-11-29T20:00:00+0100",
                                  "2026-11-29T20:00:00.Z", "0001-01-01T00:00:00+01:00", "٢٠٢٦-11-29T20:00:00Z"])
def test_refuses_what_is_no_time(text):
    with pytest.raises(ValueError):
        parse_rfc3339(text)
    assert parse_lxd_time(text) is None


def test_lxd_none_and_zero():
    assert parse_lxd_time(None) is None and parse_lxd_time(ZERO_TIME) is None
    assert is_zero_time("") and is_zero_time(ZERO_TIME) and not is_zero_time("2026-11-29T20:00:00Z")
    assert parse_lxd_time("2026-11-29T20:00:00.9Z").microsecond == 900000


def test_format_whole_seconds_in_utc():
    zone = datetime.timezone(datetime.timedelta(hours=-5))
    assert format_rfc3339(datetime.datetime(2026, 12, 31, 19, 0, 0, 999999, tzinfo=zone)) == "2027-01-01T00:00:00Z"
    assert format_rfc3339(datetime.datetime(1, 1, 1, tzinfo=UTC)) == ZERO_TIME
