# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""RFC 3339 times as LXD writes them and users give them: the collection's one parser and formatter."""

from __future__ import annotations

import datetime
import re

# LXD writes Go's zero time for "never" (a snapshot without expiry, a token without end).
ZERO_TIME = "0001-01-01T00:00:00Z"

_RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
                      r"([Zz]|[+-][0-9]{2}:[0-9]{2})?")


def is_zero_time(value):
    """True for no time at all: empty, None or LXD's zero time."""
    return not value or str(value).startswith("0001-01-01")


def parse_rfc3339(value):
    """'2026-11-29T20:00:00.123456789+01:00' -> aware datetime in UTC; raise ValueError for anything else.

    Fractions are kept to the microsecond (LXD writes nanoseconds); a time without offset is taken as UTC.
    """
    match = _RFC3339.fullmatch(str(value).strip())
    if not match:
        raise ValueError("%r is not an RFC 3339 time" % (value,))
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    offset = match.group(8)
    zone = datetime.timezone.utc
    if offset and offset not in "Zz":
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("%r has no valid offset" % (value,))
        delta = datetime.timedelta(hours=hours, minutes=minutes)
        zone = datetime.timezone(delta if offset[0] == "+" else -delta)
    try:
        # datetime() refuses what is no date (2026-02-30, 25:00); UTC may fall outside years 1-9999.
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone).astimezone(
            datetime.timezone.utc)
    except OverflowError:
        raise ValueError("%r is outside the years 1-9999" % (value,))


def parse_lxd_time(value):
    """A time read from LXD -> aware UTC datetime, or None when there is none (empty, zero) or it is unreadable."""
    if is_zero_time(value):
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


def format_rfc3339(moment):
    """Aware datetime -> '2026-12-31T23:00:00Z' (UTC, whole seconds: what this collection sends to LXD)."""
    moment = moment.astimezone(datetime.timezone.utc)
    # strftime's %Y does not pad years before 1000 everywhere.
    parts = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % parts
