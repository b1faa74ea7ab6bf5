# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kernel parameters through /proc/sys: read, compare, write, verify; read-only ones reported, not fatal."""

from __future__ import annotations

import errno
import os
import re

PROC_SYS = "/proc/sys"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")


def key_path(key, root=PROC_SYS):
    """'net.ipv4.neigh.default.gc_thresh3' -> /proc/sys/net/ipv4/neigh/default/gc_thresh3."""
    if not _KEY_RE.match(key):
        raise ValueError("sysctl key %r is not a valid key" % key)
    return os.path.join(root, key.replace(".", "/"))


def normalize_value(value):
    """Values as the kernel prints them: whitespace between fields collapsed to one tab."""
    return "\t".join(str(value).split())


def read_value(key, root=PROC_SYS):
    with open(key_path(key, root)) as handle:
        return normalize_value(handle.read())


def write_value(key, value, root=PROC_SYS):
    with open(key_path(key, root), "w") as handle:
        handle.write(str(value))


def apply(settings, check_mode=False, root=PROC_SYS):
    """Bring each key to its value. Returns dict(changed=[...], unsettable={key: reason}, values={key: value})."""
    changed, unsettable, values = [], {}, {}
    for key, wanted in sorted(settings.items()):
        wanted = normalize_value(wanted)
        try:
            current = read_value(key, root)
        except (IOError, OSError) as exc:
            unsettable[key] = "not available here (%s)" % (exc.strerror or exc)
            continue
        values[key] = current
        if current == wanted:
            continue
        if check_mode:
            if os.access(key_path(key, root), os.W_OK):
                changed.append(key)
            else:
                unsettable[key] = "read-only here (kept by the kernel of the host or the container's parent)"
            continue
        try:
            write_value(key, wanted, root)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.EINVAL):
                unsettable[key] = "read-only here (%s)" % (exc.strerror or exc)
                continue
            raise
        after = read_value(key, root)
        values[key] = after
        if after != wanted:
            unsettable[key] = "the kernel kept %r after writing %r" % (after, wanted)
            continue
        changed.append(key)
    return {"changed": changed, "unsettable": unsettable, "values": values}
