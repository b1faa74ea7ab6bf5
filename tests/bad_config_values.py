# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Config values LXD accepts and values it refuses, shared by the unit and the integration tests.

BAD rows: (key, value, a piece of the accepted forms the message must show).
"""

from __future__ import annotations

GOOD = [
    ("limits.cpu", 2), ("limits.cpu", "1,3"), ("limits.cpu", "0-3,7-11"), ("limits.cpu", "0-0"),
    ("limits.cpu.allowance", "20%"), ("limits.cpu.allowance", "25ms/200ms"), ("limits.cpu.allowance", "100%"),
    ("limits.cpu.priority", 0), ("limits.cpu.priority", 10),
    ("limits.memory", "256MB"), ("limits.memory", "2GiB"), ("limits.memory", "10%"), ("limits.memory", 1073741824),
    ("limits.memory.enforce", "hard"), ("limits.memory.enforce", "soft"),
    ("limits.memory.swap", False), ("limits.memory.swap", "true"), ("limits.memory.swap.priority", 5),
    ("limits.processes", 500), ("limits.disk.priority", 3), ("limits.network.priority", 7),
    ("snapshots.schedule", "50 20 * * *"), ("snapshots.schedule", "@daily"),
    ("snapshots.schedule", "0 6 * * *, 0 18 * * *"), ("snapshots.schedule", "@hourly, @weekly"),
    ("snapshots.schedule", "*/15 0-6,22-23 1-31/2 jan-jun mon-fri"), ("snapshots.schedule", "0 0 * * 7"),
    ("snapshots.schedule", "@annually"), ("snapshots.schedule", "@yearly"), ("snapshots.schedule", "@midnight"),
    ("snapshots.schedule", "@monthly"), ("snapshots.schedule", ""),
    ("snapshots.schedule.stopped", True),
    ("snapshots.pattern", "snap%d"), ("snapshots.pattern", "{{ creation_date|date:'2006-01-02_15-04-05' }}"),
    ("snapshots.expiry", "1d"), ("snapshots.expiry", "2w"), ("snapshots.expiry", "6H"),
    ("snapshots.expiry", "1M 2H 3d 4w 5m 6y"),
    ("boot.autostart", True), ("boot.autostart.delay", 10), ("boot.autostart.priority", -1),
    ("security.nesting", "yes"), ("security.privileged", False),
    ("user.anything", "goes"), ("environment.HTTP_PROXY", "http://proxy:3128"), ("raw.lxc", "lxc.apparmor.profile=x"),
]

BAD = [
    ("limits.memory.enforce", "2GB", "hard or soft"),
    ("limits.memory.enforce", "Hard", "hard or soft"),
    ("limits.cpu", "0-", "CPU count"),
    ("limits.cpu", "0", "CPU count"),
    ("limits.cpu", "3-1", "ranges"),
    ("limits.cpu", "two", "CPU count"),
    ("limits.cpu", "1,,3", "list"),
    ("limits.cpu.allowance", "150%", "1-100%"),
    ("limits.cpu.allowance", "0%", "1-100%"),
    ("limits.cpu.allowance", "25ms", "time slice"),
    ("limits.cpu.allowance", "25/100", "time slice"),
    ("limits.cpu.priority", 11, "0-10"),
    ("limits.cpu.priority", -1, "0-10"),
    ("limits.memory", "2 GB", "LXD's suffixes"),
    ("limits.memory", "2gb", "LXD's suffixes"),
    ("limits.memory", "1.5GiB", "LXD's suffixes"),
    ("limits.memory", "150%", "percentage"),
    ("limits.memory", "0", "size"),
    ("limits.memory.swap", "maybe", "true or false"),
    ("limits.memory.swap.priority", 20, "0-10"),
    ("limits.processes", 0, "positive integer"),
    ("limits.processes", "many", "positive integer"),
    ("limits.disk.priority", "high", "0-10"),
    ("limits.network.priority", 99, "0-10"),
    ("snapshots.schedule", "61 * * * *", "five-field cron"),
    ("snapshots.schedule", "* 24 * * *", "five-field cron"),
    ("snapshots.schedule", "* * 0 * *", "five-field cron"),
    ("snapshots.schedule", "* * * 13 *", "five-field cron"),
    ("snapshots.schedule", "* * * * 8", "five-field cron"),
    ("snapshots.schedule", "* * * *", "five-field cron"),
    ("snapshots.schedule", "@fortnightly", "@daily"),
    ("snapshots.schedule", "*/0 * * * *", "five-field cron"),
    ("snapshots.schedule.stopped", "sometimes", "true or false"),
    ("snapshots.pattern", "nightly/%d", "without '/'"),
    ("snapshots.expiry", "1x", "M (minutes)"),
    ("snapshots.expiry", "1 d", "M (minutes)"),
    ("snapshots.expiry", "d1", "M (minutes)"),
    ("snapshots.expiry", "1D", "M (minutes)"),
    ("boot.autostart", "2", "true or false"),
    ("boot.autostart.delay", -5, "seconds"),
    ("boot.autostart.priority", "first", "integer"),
    ("security.nesting", "enabled", "true or false"),
    ("security.privileged", 2, "true or false"),
]
