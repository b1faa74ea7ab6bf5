# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Instance snapshots: take, expire, rename, restore, delete. Never the instance itself."""

from __future__ import annotations

import calendar
import datetime
import re

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, LXDNotFound, api_path
from ansible_collections.lxdops.server.plugins.module_utils.config import ConfigError, INSTANCE_KEYS
from ansible_collections.lxdops.server.plugins.module_utils.manager import Manager, check_name

NEVER = "0001-01-01T00:00:00Z"
_EXPIRY_TOKEN = re.compile(r"^(\d+)([MHdwmy])$")


def check_snapshot_name(option, value):
    if not value or "/" in value or value in (".", "..") or value != value.strip():
        raise ConfigError("%s %r is not a valid snapshot name: it must be non-empty, without '/' or surrounding "
                          "spaces" % (option, value))


def add_months(moment, months):
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expiry_to_timestamp(expiry, now):
    """'1d 6H' -> now + 1 day 6 hours, as LXD reads snapshots.expiry (M minutes, H hours, d, w, m months, y)."""
    check, forms = INSTANCE_KEYS["snapshots.expiry"]
    if not check(expiry):
        raise ConfigError("expiry %r is not accepted; accepted: %s" % (expiry, forms))
    moment = now
    for token in expiry.split(" "):
        amount, unit = _EXPIRY_TOKEN.match(token).groups()
        amount = int(amount)
        if unit == "M":
            moment += datetime.timedelta(minutes=amount)
        elif unit == "H":
            moment += datetime.timedelta(hours=amount)
        elif unit == "d":
            moment += datetime.timedelta(days=amount)
        elif unit == "w":
            moment += datetime.timedelta(weeks=amount)
        elif unit == "m":
            moment = add_months(moment, amount)
        else:
            moment = add_months(moment, 12 * amount)
    return moment


def format_timestamp(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value, option="expires_at"):
    """RFC 3339 (as LXD writes it) -> aware datetime; raise ConfigError naming the option."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python before 3.11 takes at most 6 fractional digits; LXD writes up to 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError("%s %r is not accepted; give an RFC 3339 time such as 2026-12-31T23:00:00Z" % (option, value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def same_moment(lxd_value, wanted):
    """Compare LXD's expires_at with a wanted aware datetime (None = never), to the second."""
    if not lxd_value or lxd_value.startswith("0001-01-01"):
        return wanted is None
    if wanted is None:
        return False
    return abs((parse_timestamp(lxd_value) - wanted).total_seconds()) < 1


def summarize(snapshot):
    expires = snapshot.get("expires_at")
    return {
        "name": snapshot["name"],
        "created_at": snapshot.get("created_at"),
        "expires_at": None if not expires or expires.startswith("0001-01-01") else expires,
        "stateful": snapshot.get("stateful", False),
    }


class SnapshotManager(Manager):
    def validate(self):
        p = self.params
        if p["instance"] and "/" in p["instance"]:
            instance, _sep, snap = p["instance"].partition("/")
            raise ConfigError("instance %r names a snapshot; give instance: %s and name: %s"
                              % (p["instance"], instance, snap))
        check_name("instance", p["instance"])
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
            self.expires_at = parse_timestamp(p["expires_at"])
        if p["expiry"] is not None:
            expiry_to_timestamp(p["expiry"], datetime.datetime.now(datetime.timezone.utc))
        self.instance_path = api_path("instances", p["instance"])

    def snapshot_path(self, name):
        return api_path("instances", self.params["instance"], "snapshots", name)

    def list_snapshots(self):
        try:
            return self.client.get(self.instance_path + "/snapshots", params={"recursion": 1}).metadata or []
        except LXDNotFound:
            raise LXDError("instance %r does not exist%s" % (
                self.params["instance"],
                "" if self.client.project == "default" else " in project %r" % self.client.project))

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
                raise LXDError("snapshot %r of instance %r does not exist, nor does %r"
                               % (name, p["instance"], p["new_name"]))
            name = p["new_name"]
        if name is not None and name in by_name:
            # An existing snapshot: only an absolute expires_at is managed (a relative expiry counts from creation).
            current = by_name[name]
            if self.expires_at is not None and not same_moment(current.get("expires_at"), self.expires_at):
                self.tracker.add(("snapshots", name, "expires_at"), summarize(current)["expires_at"],
                                 format_timestamp(self.expires_at))
                self.write("expire", self.client.patch, self.snapshot_path(name),
                           {"expires_at": format_timestamp(self.expires_at)})
            return
        self.create(name)

    def create(self, name):
        p = self.params
        body = {"name": name or "", "stateful": p["stateful"]}
        wanted = self.wanted_expiry()
        if wanted is not None:
            body["expires_at"] = format_timestamp(wanted)
        self.tracker.add(("snapshots", name or "(named by snapshots.pattern)"), None,
                         {"stateful": p["stateful"], "expires_at": body.get("expires_at")})
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
            raise LXDError("instance %r has no snapshot %r (it has: %s)"
                           % (p["instance"], name, ", ".join(sorted(by_name)) or "none"))
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
