# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Desired-versus-current comparison: pure, no I/O.

Planners return the object to send and a DifferenceTracker that holds exactly what
changes, which is also what diff mode shows.
"""

from __future__ import annotations

import copy

from ansible_collections.lxdops.server.plugins.module_utils.config import is_lxd_owned

SECRET_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


class DifferenceTracker:
    """Records (path, before, after) for every change; renders Ansible's before/after diff."""

    def __init__(self):
        self._changes = []

    def add(self, path, before, after):
        if before != after:
            self._changes.append((tuple(path), before, after))

    def merge(self, other, prefix=()):
        for path, before, after in other.changes:
            self._changes.append((tuple(prefix) + path, before, after))

    @property
    def changes(self):
        return list(self._changes)

    @property
    def has_changes(self):
        return bool(self._changes)

    def __len__(self):
        return len(self._changes)

    def paths(self):
        return [".".join(str(p) for p in path) for path, _before, _after in self._changes]

    def diff(self):
        """{'before': ..., 'after': ...} nested by path, with only what changes."""
        before, after = {}, {}
        for path, old, new in self._changes:
            _put(before, path, old)
            _put(after, path, new)
        return {"before": before, "after": after}


def _put(tree, path, value):
    if value is None:
        return
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def plan_config(current, desired, replace=False, section="config"):
    """Plan a config update.

    current: the object's own config as LXD returns it.
    desired: normalised user config ({key: str or None}); None means "not managed".
    replace: the own config becomes exactly `desired` (LXD's own keys are kept as they are).
    Returns (new_config, DifferenceTracker).
    """
    current = dict(current or {})
    tracker = DifferenceTracker()
    if desired is None:
        return current, tracker
    new = dict(current)
    if replace:
        for key in current:
            if not is_lxd_owned(key) and key not in desired:
                del new[key]
                tracker.add((section, key), current[key], None)
    for key, value in desired.items():
        old = current.get(key)
        if value is None:
            if key in new:
                del new[key]
                tracker.add((section, key), old, None)
        elif old != value:
            new[key] = value
            tracker.add((section, key), old, value)
    return new, tracker


def plan_devices(current, desired, replace=False, section="devices"):
    """Plan a devices update; a device given is managed whole, a device set to None is removed.

    Returns (new_devices, DifferenceTracker) with changes per device and key.
    """
    current = copy.deepcopy(current or {})
    tracker = DifferenceTracker()
    if desired is None:
        return current, tracker
    new = copy.deepcopy(current)
    if replace:
        for name in current:
            if name not in desired:
                del new[name]
                _track_device(tracker, section, name, current[name], None)
    for name, device in desired.items():
        old = current.get(name)
        if device is None:
            if name in new:
                del new[name]
                _track_device(tracker, section, name, old, None)
        elif old != device:
            new[name] = dict(device)
            _track_device(tracker, section, name, old, device)
    return new, tracker


def _track_device(tracker, section, name, old, new):
    old, new = old or {}, new or {}
    if not old or not new:
        tracker.add((section, name), old or None, new or None)
        return
    for key in sorted(set(old) | set(new)):
        tracker.add((section, name, key), old.get(key), new.get(key))


def plan_value(tracker, path, current, desired):
    """Track one scalar/list setting; desired None means not managed. Returns the value to send."""
    if desired is None:
        return current
    tracker.add(path, current, desired)
    return desired
