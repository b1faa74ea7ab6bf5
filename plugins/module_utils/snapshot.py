# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Snapshots of an instance or of a custom volume: take, expire, rename, restore, delete. Never the owner itself."""

from __future__ import annotations

import datetime

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import (
    ConfigError,
    INSTANCE_KEYS,
    INT64_MAX,
    parse_expiry,
)
from ansible_collections.lxdops.server.plugins.module_utils.lxdtime import (
    ZERO_TIME,
    format_rfc3339,
    is_zero_time,
    parse_rfc3339,
)
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name, check_path_name
from ansible_collections.lxdops.server.plugins.module_utils.volume import (
    check_volume_name,
    list_volume_snapshots,
    volume_path,
    volume_snapshot_path,
)


def check_snapshot_name(option, value):
    check_path_name(option, value, "snapshot")


def go_add_date(moment, years, months, days):
    """Go's time.AddDate, as LXD uses it: a day past the month's end rolls over (Jan 31 + 1 month = Mar 3)."""
    month_index = moment.month - 1 + months
    year = moment.year + years + month_index // 12
    if not 1 <= year <= 9999:
        raise OverflowError(year)
    first = moment.replace(year=year, month=month_index % 12 + 1, day=1)
    return first + datetime.timedelta(days=moment.day - 1 + days)


def expiry_to_timestamp(expiry, now):
    """When a snapshot taken at `now` expires by LXD's reading of snapshots.expiry; None for no expiry.

    LXD 5.0 adds years, months and days (weeks as 7 days) in one AddDate, then hours, minutes and seconds.
    The first counts on the wall clock of `now`'s zone, the second in absolute time, as Go does. Where LXD's
    int64 arithmetic would wrap or leave the years 1-9999 (it computed a time in the past, or failed to store
    the snapshot), this refuses instead.
    """
    try:
        amounts = parse_expiry(expiry)
    except ConfigError as exc:
        raise ConfigError("expiry %r is not accepted (%s); accepted: %s"
                          % (expiry, exc, INSTANCE_KEYS["snapshots.expiry"][1]))
    if not amounts:
        return None
    get = amounts.get
    days = get("d", 0) + 7 * get("w", 0)
    seconds = 3600 * get("H", 0) + 60 * get("M", 0) + get("S", 0)
    if days > INT64_MAX or seconds * 10 ** 9 > INT64_MAX:
        raise ConfigError("expiry %r overflows LXD's 64-bit time arithmetic, which would give a time in the past; "
                          "hours, minutes and seconds together must stay within 2562047H 47M 16S" % expiry)
    try:
        dated = go_add_date(now, get("y", 0), get("m", 0), days)
        return (dated.astimezone(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)).astimezone(now.tzinfo)
    except OverflowError:
        raise ConfigError("expiry %r ends after the year 9999, which LXD cannot store" % expiry)


def parse_expires_at(value):
    """The expires_at option -> aware datetime; ConfigError naming the option."""
    try:
        return parse_rfc3339(value)
    except ValueError:
        raise ConfigError("expires_at %r is not accepted; give an RFC 3339 time such as 2026-12-31T23:00:00Z"
                          % (value,))


def same_moment(lxd_value, wanted):
    """Compare LXD's expires_at with a wanted aware datetime (None = never), to the second."""
    if is_zero_time(lxd_value):
        return wanted is None
    if wanted is None:
        return False
    return abs((parse_rfc3339(lxd_value) - wanted).total_seconds()) < 1


def summarize(snapshot):
    expires = snapshot.get("expires_at")
    return {
        "name": snapshot["name"],
        "created_at": snapshot.get("created_at"),
        "expires_at": None if is_zero_time(expires) else expires,
        "stateful": snapshot.get("stateful", False),
    }


class SnapshotManager(Manager):
    def validate(self):
        p = self.params
        self.volume = p.get("volume")
        if self.volume is not None:
            self.validate_volume()
        else:
            self.validate_instance()
        if p["name"] is not None:
            check_snapshot_name("name", p["name"])
        elif p["state"] != "present":
            raise ConfigError("name is required with state=%s (which snapshot?)" % p["state"])
        if p["new_name"] is not None:
            check_snapshot_name("new_name", p["new_name"])
            if p["state"] != "present":
                raise ConfigError("new_name applies to state=present only")
            if p["name"] is None:
                raise ConfigError("new_name needs name: the snapshot to rename")
        self.expires_at = None
        if p["expires_at"] is not None:
            self.expires_at = parse_expires_at(p["expires_at"])
        if p["expiry"] is not None:
            expiry_to_timestamp(p["expiry"], datetime.datetime.now(datetime.timezone.utc))

    def validate_volume(self):
        p = self.params
        check_volume_name("pool", p["pool"], "pool")
        check_volume_name("volume", self.volume)
        # A volume has no running state, and no instance to stop around a restore.
        given = [option for option in ("restart", "force_stop") if option in self.module.given]
        if p["stateful"]:
            given.insert(0, "stateful")
        if given:
            raise ConfigError("%s applies to instance snapshots only, not to volume %r" % (given[0], self.volume))
        self.instance_path = volume_path(p["pool"], self.volume)
        self.owner = "volume %r on pool %r" % (self.volume, p["pool"])

    def validate_instance(self):
        p = self.params
        if p["instance"] and "/" in p["instance"]:
            instance, _sep, snap = p["instance"].partition("/")
            raise ConfigError("instance %r names a snapshot; give instance: %s and name: %s"
                              % (p["instance"], instance, snap))
        check_name("instance", p["instance"])
        self.instance_path = api_path("instances", p["instance"])
        self.owner = "instance %r" % p["instance"]

    def snapshot_path(self, name):
        if self.volume is not None:
            return volume_snapshot_path(self.params["pool"], self.volume, name)
        return api_path("instances", self.params["instance"], "snapshots", name)

    def list_snapshots(self):
        try:
            if self.volume is not None:
                return list_volume_snapshots(self.client, self.params["pool"], self.volume)
            return self.client.get(self.instance_path + "/snapshots", params={"recursion": 1}).metadata or []
        except LXDNotFound:
            raise LXDError("%s does not exist%s" % (
                self.owner, "" if self.client.project == "default" else " in project %r" % self.client.project))

    def apply(self):
        p = self.params
        snapshots = self.list_snapshots()
        by_name = dict((s["name"], s) for s in snapshots)
        state = p["state"]
        if state == "absent":
            if p["name"] in by_name:
                self.tracker.add(("snapshots", p["name"]), summarize(by_name[p["name"]]), None)
                self.write("delete", self.client.delete, self.snapshot_path(p["name"]))
        elif state == "restored":
            self.restore(by_name)
        else:
            self.present(by_name)
        if self.actions and not self.check_mode:
            snapshots = self.list_snapshots()
        self.result = {"snapshots": [summarize(s) for s in snapshots]}

    def wanted_expiry(self):
        if self.expires_at is not None:
            return self.expires_at
        if self.params["expiry"] is not None:
            return expiry_to_timestamp(self.params["expiry"], datetime.datetime.now(datetime.timezone.utc))
        return None

    def present(self, by_name):
        p = self.params
        name = p["name"]
        if p["new_name"] and p["new_name"] != name:
            if name in by_name:
                if p["new_name"] in by_name:
                    raise LXDError("cannot rename snapshot %r to %r: a snapshot named %r exists already"
                                   % (name, p["new_name"], p["new_name"]))
                self.tracker.add(("snapshots", name, "name"), name, p["new_name"])
                self.write("rename", self.client.post, self.snapshot_path(name), {"name": p["new_name"]})
                by_name[p["new_name"]] = dict(by_name.pop(name), name=p["new_name"])
            elif p["new_name"] not in by_name:
                raise LXDError("snapshot %r of %s does not exist, nor does %r" % (name, self.owner, p["new_name"]))
            name = p["new_name"]
        if name is not None and name in by_name:
            # An existing snapshot: only an absolute expires_at is managed (a relative expiry counts from creation).
            current = by_name[name]
            if self.expires_at is not None and not same_moment(current.get("expires_at"), self.expires_at):
                self.tracker.add(("snapshots", name, "expires_at"), summarize(current)["expires_at"],
                                 format_rfc3339(self.expires_at))
                self.write("expire", self.client.patch, self.snapshot_path(name),
                           {"expires_at": format_rfc3339(self.expires_at)})
            return
        self.create(name)

    def create(self, name):
        p = self.params
        body = {"name": name or ""}
        if self.volume is None:
            body["stateful"] = p["stateful"]
        wanted = self.wanted_expiry()
        if wanted is not None:
            body["expires_at"] = format_rfc3339(wanted)
        elif p["expiry"] is not None:
            # An empty expiry is LXD's "never"; without expires_at the instance's snapshots.expiry would apply.
            body["expires_at"] = ZERO_TIME
        self.tracker.add(("snapshots", name or "(named by snapshots.pattern)"), None,
                         {"stateful": bool(p["stateful"]), "expires_at": None if wanted is None else body["expires_at"]})
        try:
            self.write("create", self.client.post, self.instance_path + "/snapshots", body)
        except LXDError as exc:
            if p["stateful"]:
                raise LXDError("stateful snapshot of %r failed: %s (stateful snapshots need CRIU on the server and a "
                               "running instance with migration.stateful=true)" % (p["instance"], exc.error or exc))
            raise

    def restore(self, by_name):
        p = self.params
        name = p["name"]
        if name not in by_name:
            raise LXDError("%s has no snapshot %r (it has: %s)"
                           % (self.owner, name, ", ".join(sorted(by_name)) or "none"))
        if self.volume is not None:
            # LXD refuses to restore a volume a running instance uses; that refusal changes nothing.
            self.tracker.add(("restored",), None, name)
            self.write("restore", self.client.put, self.instance_path, {"restore": name})
            return
        instance = self.client.get(self.instance_path)
        running = instance.metadata["status"] in ("Running", "Frozen")
        self.tracker.add(("restored",), None, name)
        if running and p["restart"]:
            # The order the manual recommends: stop, restore, start.
            start = {"action": "start", "timeout": p["timeout"]}
            self.write("stop", self.client.put, self.instance_path + "/state",
                       {"action": "stop", "timeout": p["timeout"], "force": p["force_stop"]})
            try:
                self.write("restore", self.client.put, self.instance_path, {"restore": name})
            except LXDError:
                # Leave it running, as it was.
                self.client.put(self.instance_path + "/state", start)
                raise
            self.write("start", self.client.put, self.instance_path + "/state", start)
        else:
            self.write("restore", self.client.put, self.instance_path, {"restore": name, "stateful": by_name[name].get(
                "stateful", False)})
