# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Config values LXD accepts and values it refuses, shared by the unit and the integration tests.

BAD rows: (key, value, a piece of the accepted forms the message must show), from BAD_BY_KEY.
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

# {key: {a piece of the accepted forms the message must show: [values refused]}}
BAD_BY_KEY = {
    "limits.memory.enforce": {"hard or soft": ["2GB", "Hard"]},
    "limits.cpu": {"CPU count": ["0-", "0", "two"], "ranges": ["3-1"], "list": ["1,,3"]},
    "limits.cpu.allowance": {"1-100%": ["150%", "0%"], "time slice": ["25ms", "25/100"]},
    "limits.cpu.priority": {"0-10": [11, -1]},
    "limits.memory": {"LXD's suffixes": ["2 GB", "2gb", "1.5GiB"], "percentage": ["150%"], "size": ["0"]},
    "limits.memory.swap": {"true or false": ["maybe"]},
    "limits.memory.swap.priority": {"0-10": [20]},
    "limits.processes": {"positive integer": [0, "many"]},
    "limits.disk.priority": {"0-10": ["high"]},
    "limits.network.priority": {"0-10": [99]},
    "snapshots.schedule": {
        "five-field cron": ["61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "* * * *",
                            "*/0 * * * *"],
        "@daily": ["@fortnightly"],
    },
    "snapshots.schedule.stopped": {"true or false": ["sometimes"]},
    "snapshots.pattern": {"without '/'": ["nightly/%d"]},
    "snapshots.expiry": {"M (minutes)": ["1x", "1 d", "d1", "1D"]},
    "boot.autostart": {"true or false": ["2"]},
    "boot.autostart.delay": {"seconds": [-5]},
    "boot.autostart.priority": {"integer": ["first"]},
    "security.nesting": {"true or false": ["enabled"]},
    "security.privileged": {"true or false": [2]},
}

BAD = [(key, value, form) for key, forms in BAD_BY_KEY.items() for form, values in forms.items() for value in values]
