# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""snapshots.expiry as LXD 5.0.2 read it on the lab daemon (2026-12-02, daemon in UTC).

Each value was set as the instance's snapshots.expiry, then a snapshot was taken without expires_at.
Incus 6.0.4 on the lab (same day) gave the same answer for every value below: the same expiry for each accepted
one, never for NEVER, the same refusals and the same overflows. So one reading serves both daemons.
The unit tests check the recorded answers, tests/integration/test_lxd_expiry.py asks each lab daemon again.
"""

# (value, created_at, expires_at): LXD took the value and computed this expiry (a few ms before created_at).
ACCEPTED = [
    ("30S", "2026-12-02T10:04:01.900457728Z", "2026-12-02T10:04:31.896994961Z"),
    ("30M", "2026-12-02T10:04:02.050869129Z", "2026-12-02T10:34:02.047900123Z"),
    ("6H", "2026-12-02T10:04:02.252515742Z", "2026-12-02T16:04:02.248860857Z"),
    ("25H", "2026-12-02T10:04:08.120999411Z", "2026-12-03T11:04:08.117129533Z"),
    ("1d", "2026-12-02T10:04:02.452090385Z", "2026-12-03T10:04:02.443433283Z"),
    ("2w", "2026-12-02T10:04:02.629344571Z", "2026-12-16T10:04:02.624771378Z"),
    ("1m", "2026-12-02T10:04:02.892884561Z", "2027-01-02T10:04:02.883547208Z"),
    ("13m", "2026-12-02T10:04:07.632825564Z", "2028-01-02T10:04:07.62763194Z"),
    ("1y", "2026-12-02T10:04:03.119913056Z", "2027-12-02T10:04:03.112908414Z"),
    ("1M 2H 3d", "2026-12-02T10:04:03.558764657Z", "2026-12-05T12:05:03.554298113Z"),
    ("1S 1M 1H 1d 1w 1m 1y", "2026-12-02T10:04:03.893847641Z", "2028-01-10T11:05:04.891718585Z"),
    ("1y 1m 1w 1d", "2026-12-02T10:04:07.347545398Z", "2028-01-10T10:04:07.345260329Z"),
    ("1S", "2026-12-02T10:05:35.374495517Z", "2026-12-02T10:05:36.36975287Z"),
    # Zero: the snapshot expires as it is taken (LXD's pruning removes it within a minute).
    ("0d", "2026-12-02T10:04:04.096385591Z", "2026-12-02T10:04:04.093864107Z"),
    ("0S", "2026-12-02T10:05:35.170260189Z", "2026-12-02T10:05:35.16730896Z"),
    ("0d 0d", "2026-12-02T10:04:04.784577822Z", "2026-12-02T10:04:04.776826279Z"),
    # A unit may come again after its own zero only.
    ("0d 1d", "2026-12-02T10:04:04.457612135Z", "2026-12-03T10:04:04.446881421Z"),
    ("0m 1m", "2026-12-02T10:05:35.746518023Z", "2027-01-02T10:05:35.73591427Z"),
    ("007d", "2026-12-02T10:04:05.174714213Z", "2026-12-09T10:04:05.172470005Z"),
    # Outer white space is trimmed (Go's TrimSpace: Unicode white space).
    (" 1d ", "2026-12-02T10:04:05.678455642Z", "2026-12-03T10:04:05.642175394Z"),
    ("1d\t", "2026-12-02T10:04:05.951480502Z", "2026-12-03T10:04:05.948862693Z"),
    ("\t1d", "2026-12-02T10:04:06.111796748Z", "2026-12-03T10:04:06.105883223Z"),
    ("1d\n", "2026-12-02T10:04:06.66795033Z", "2026-12-03T10:04:06.662920672Z"),
    ("1d\xa0", "2026-12-02T10:04:08.921624326Z", "2026-12-03T10:04:08.919493828Z"),
    ("1d\u3000", "2026-12-02T10:05:35.983134648Z", "2026-12-03T10:05:35.973057354Z"),
    ("\x851d", "2026-12-02T10:05:36.204897581Z", "2026-12-03T10:05:36.202487053Z"),
    # The largest hours and minutes whose nanoseconds fit Go's int64; the last year LXD can store.
    ("2562047H", "2026-12-02T10:04:08.586630631Z", "2319-03-14T09:04:08.579742694Z"),
    ("153722867M", "2026-12-02T10:05:34.105025479Z", "2319-03-14T09:52:34.102905006Z"),
    ("7973y", "2026-12-02T10:05:34.818855385Z", "9999-12-02T10:05:34.814350174Z"),
]

# LXD took the value and the snapshot never expires.
NEVER = ["", " "]

# LXD refused the value ("Invalid expiry expression", or strconv.Atoi's "value out of range").
REFUSED = [
    "1d 2d", "1d 1d", "1d 0d", "1m 0m", "1d  2H", "1d,2H", "1d\n2H", "1 d", "d", "1x", "1D", "1h", "1s",
    "-1d", "+1d", "1.5d", "1\u0663d", "1d\x1f", "99999999999999999999d",
]

# (value, created_at, expires_at or None): LXD took the value, but its int64 arithmetic wrapped (an expiry
# before the snapshot was taken) or the snapshot could not be stored (None: "parsing time 10000-12-02 ...").
# The collection refuses these for lxd_snapshot's expiry.
BEYOND = [
    ("9223372036854775807d", "2026-12-02T10:04:07.120272756Z", "2026-12-01T10:04:07.110963525Z"),
    ("2562048H", "2026-12-02T10:05:33.866654572Z", "1734-08-23T10:31:00.1530679Z"),
    ("153722868M", "2026-12-02T10:05:34.378249201Z", "1734-08-23T10:19:00.666000378Z"),
    ("9223372036854775807S", "2026-12-02T10:05:34.582912192Z", "2026-12-02T10:05:33.577061521Z"),
    ("7974y", None, None),
]

# (value, from, expected): month ends, which the lab's clock cannot reach. Go's AddDate normalizes as Date
# does (its documentation: one month after October 31 is December 1).
MONTH_ENDS = [
    ("1m", "2026-10-31T12:00:00Z", "2026-12-01T12:00:00Z"),
    ("1m", "2026-01-31T12:00:00Z", "2026-03-03T12:00:00Z"),
    ("1m", "2028-01-31T12:00:00Z", "2028-03-02T12:00:00Z"),
    ("1m", "2026-01-30T12:00:00Z", "2026-03-02T12:00:00Z"),
    ("1m 1d", "2026-01-31T12:00:00Z", "2026-03-04T12:00:00Z"),
    ("2m", "2026-12-31T00:00:00Z", "2027-03-03T00:00:00Z"),
    ("1y", "2028-02-29T08:00:00Z", "2029-03-01T08:00:00Z"),
    ("12m", "2028-02-29T08:00:00Z", "2029-03-01T08:00:00Z"),
    ("1m 12H", "2026-01-31T18:00:00Z", "2026-03-04T06:00:00Z"),
]
