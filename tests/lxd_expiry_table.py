# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""snapshots.expiry as LXD 5.0.2 read it on the lab daemon (2026-12-02, daemon in UTC).

Each value was set as the instance's snapshots.expiry, then a snapshot was taken without expires_at.
Incus 6.0.4 on the lab (same day) gave the same answer for every value below: the same expiry for each accepted
one, never for NEVER, the same refusals and the same overflows. So one reading serves both daemons.
The unit tests check the recorded answers, tests/integration/test_lxd_expiry.py asks each lab daemon again.
The readings themselves are in lxd_expiry_table.yml, with what each group shows.
"""

import os

import yaml

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "lxd_expiry_table.yml"), encoding="utf-8") as handle:
    _READINGS = yaml.safe_load(handle)

# (value, created_at, expires_at): LXD took the value and computed this expiry (a few ms before created_at).
ACCEPTED = [tuple(row) for row in _READINGS["accepted"]]
# LXD took the value and the snapshot never expires.
NEVER = _READINGS["never"]
# LXD refused the value ("Invalid expiry expression", or strconv.Atoi's "value out of range").
REFUSED = _READINGS["refused"]
# (value, created_at, expires_at or None): LXD took the value, but its arithmetic wrapped or the snapshot could
# not be stored; the collection refuses these for lxd_snapshot's expiry.
BEYOND = [tuple(row) for row in _READINGS["beyond"]]
# (value, from, expected): month ends, which the lab's clock cannot reach.
MONTH_ENDS = [tuple(row) for row in _READINGS["month_ends"]]
