# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""lxdops-guard: the primary never runs an instance that the snapshot server runs as failed over.

Installed on the primary by the snapshot_server role; run once the primary's daemon is up at boot (it has just
autostarted its instances) and then every few seconds. It asks the snapshot server which copies carry
FAILED_OVER_KEY (set by failover); each instance of the primary among them is stopped at once (force), gets
boot.autostart false and FENCED_KEY ("<time> <reason>"), and stays so until failback clears the key.

A snapshot server that cannot be asked is never read as "nothing failed over". Until it has answered once since
this boot, policy "fence" also fences the running instances the replication covers (reason REASON_UNREACHABLE)
and releases them (autostart and running state as before) once it answers without them; policy "keep" leaves
them running and warns. After it has answered once, an outage of the snapshot server alone stops nothing: the
primary was running all along, and a standby outage must not become an outage of the primary.

Exit status: 0 asked, nothing fenced now; 1 fenced something in this run (or failed to); 2 the snapshot server
could not be asked; 3 bad settings or this server's daemon not answering.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import sys
import time

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDError, api_path, parse_lxd_time
from ansible_collections.lxdops.server.plugins.module_utils.instance import writable
from ansible_collections.lxdops.server.plugins.module_utils.replica import (
    FAILED_OVER_KEY,
    FENCED_BEFORE_KEY,
    FENCED_KEY,
)
from ansible_collections.lxdops.server.plugins.module_utils.replicate_command import (
    Log,
    client_factory,
    load_config,
    read_json_object,
)

DEFAULT_CONFIG = "/etc/lxdops/guard.json"
POLICIES = ("fence", "keep")
REASON_FAILED_OVER = "failed over to the snapshot server"
REASON_UNREACHABLE = "snapshot server unreachable"
AUTOSTART_KEY = "boot.autostart"
EXIT_OK, EXIT_FENCED, EXIT_UNASKED, EXIT_BROKEN = 0, 1, 2, 3
DEFAULTS = {
    "settings": "/etc/lxdops/replicate.json",
    "unreachable": "fence",
    "log_file": "/var/log/lxdops-guard.log",
    "status_file": "/var/lib/lxdops/guard-status.json",
    # In /run: gone at every boot, so its absence means "not answered since this boot".
    "boot_marker": "/run/lxdops-guard.answered",
    "lock_file": "/run/lxdops-guard.lock",
    "timeout": 10,
}


def time_text(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def started_at(instance):
    """When the instance last started (LXD's last_used_at, to the microsecond), or None."""
    return parse_lxd_time(instance.get("last_used_at"))


def fenced_reason(instance):
    """The reason part of FENCED_KEY ("<time> <reason>"), or None when the instance is not fenced."""
    value = (instance.get("config") or {}).get(FENCED_KEY)
    if not value:
        return None
    parts = value.split(" ", 1)
    return parts[1] if len(parts) == 2 else value


def key_of(instance):
    return (instance.get("project") or "default", instance["name"])


def covered(instance, listed):
    return listed == ["all"] or instance["name"] in listed


def plan(instances, failed_over, listed, policy, boot, now):
    """What to do with the primary's instances. Pure.

    instances: the primary's instances (name, project, status, config); failed_over: set of (project, name) the
    snapshot server runs as failed over, or None when it could not be asked; listed: the names the replication
    covers, or ["all"]; policy: "fence" or "keep" for an unanswered question; boot: the snapshot server has not
    answered since this boot. Returns actions: dicts with project, name, action (fence or release), reason,
    stop, start, config ({key: value, None removes}).
    """
    actions = []
    stamp = time_text(now)
    for instance in sorted(instances, key=key_of):
        if not covered(instance, listed):
            continue
        config = instance.get("config") or {}
        running = instance.get("status") != "Stopped"
        reason = fenced_reason(instance)
        project, name = key_of(instance)
        action = None
        if failed_over is not None and (project, name) in failed_over:
            changes = {}
            if config.get(AUTOSTART_KEY) != "false":
                changes[AUTOSTART_KEY] = "false"
            if reason != REASON_FAILED_OVER:
                changes[FENCED_KEY] = "%s %s" % (stamp, REASON_FAILED_OVER)
            if FENCED_BEFORE_KEY in config:
                changes[FENCED_BEFORE_KEY] = None
            if changes or running:
                action = dict(action="fence", reason=REASON_FAILED_OVER, stop=running, start=False, config=changes)
        elif failed_over is not None and reason == REASON_UNREACHABLE:
            before = before_state(config)
            action = dict(action="release", reason="the snapshot server answered: not failed over", stop=False,
                          start=before["running"] and not running,
                          config={AUTOSTART_KEY: before["autostart"], FENCED_KEY: None, FENCED_BEFORE_KEY: None})
        elif failed_over is None and policy == "fence" and boot and running and reason is None:
            saved = json.dumps({"running": True, "autostart": config.get(AUTOSTART_KEY)}, sort_keys=True)
            action = dict(action="fence", reason=REASON_UNREACHABLE, stop=True, start=False,
                          config={AUTOSTART_KEY: "false", FENCED_KEY: "%s %s" % (stamp, REASON_UNREACHABLE),
                                  FENCED_BEFORE_KEY: saved})
        if action:
            action.update(project=project, name=name)
            actions.append(action)
    return actions


def before_state(config):
    """The state saved in FENCED_BEFORE_KEY; an unreadable one releases to autostart unset, stopped."""
    try:
        saved = json.loads(config.get(FENCED_BEFORE_KEY) or "{}")
    except ValueError:
        saved = {}
    if not isinstance(saved, dict):
        saved = {}
    autostart = saved.get("autostart")
    return {"running": saved.get("running") is True, "autostart": autostart if isinstance(autostart, str) else None}


def fenced_now(instances, actions, listed):
    """[{project, name, fenced}] of the covered instances fenced after the actions (for the status)."""
    done = dict(((a["project"], a["name"]), a) for a in actions)
    result = []
    for instance in sorted(instances, key=key_of):
        if not covered(instance, listed):
            continue
        value = (instance.get("config") or {}).get(FENCED_KEY)
        action = done.get(key_of(instance))
        if action and FENCED_KEY in action["config"]:
            value = action["config"][FENCED_KEY]
        if value:
            result.append({"project": key_of(instance)[0], "name": instance["name"], "fenced": value})
    return result


def describe(action):
    where = "" if action["project"] == "default" else " (project %s)" % action["project"]
    return "%s%s" % (action["name"], where)


def load_guard_config(path):
    config = read_json_object(path)
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError("%s: unknown keys %s (accepted: %s)" % (path, ", ".join(unknown), ", ".join(sorted(DEFAULTS))))
    merged = dict(DEFAULTS)
    merged.update(config)
    if merged["unreachable"] not in POLICIES:
        raise ValueError("%s: unreachable must be one of %s (got %r)" % (path, ", ".join(POLICIES), merged["unreachable"]))
    return merged


class Guard:
    """One run: read both servers, plan, act, record."""

    def __init__(self, config, settings, log):
        self.config = config
        self.settings = settings
        self.log = log
        self.make_primary = client_factory(settings.get("source"))
        remote = dict(settings["remote"], timeout=config["timeout"])
        self.make_remote = client_factory(remote)
        self.remote = None

    def primary_instances(self, wait):
        deadline = time.monotonic() + wait
        waiting = False
        while True:
            try:
                client = self.make_primary()
                return client, list_instances(client)
            except LXDError as exc:
                if time.monotonic() >= deadline:
                    raise
                if not waiting:
                    self.log("waiting up to %d s for this server's daemon (LXD or Incus): %s" % (wait, exc.message))
                    waiting = True
                time.sleep(2)

    def failed_over(self):
        """(set of (project, name) carrying FAILED_OVER_KEY on the snapshot server, None) or (None, error)."""
        try:
            self.remote = self.make_remote()
            copies = list_instances(self.remote)
        except LXDError as exc:
            return None, exc.message
        return set(key_of(c) for c in copies if (c.get("config") or {}).get(FAILED_OVER_KEY)), None

    def still_failed_over(self, action):
        """Asked again right before acting (failback may have ended meanwhile): True, False, or None (no answer)."""
        try:
            copy = self.remote.exists(api_path("instances", action["name"]), project=action["project"])
        except LXDError:
            return None
        return bool(copy and (copy.get("config") or {}).get(FAILED_OVER_KEY))

    def begin(self, client, action):
        """Asks again, then sends the forced stop without waiting (all stops run at once); returns its operation."""
        label = describe(action)
        if action["reason"] == REASON_FAILED_OVER and self.still_failed_over(action) is False:
            action["skipped"] = True
            self.log("%s is no longer failed over on the snapshot server: left alone" % label)
            return None
        if action["action"] == "release" and self.still_failed_over(action) is not False:
            action["skipped"] = True
            self.log("%s: the snapshot server did not confirm it runs no copy of it: still fenced" % label)
            return None
        if not action["stop"]:
            return None
        return client.put(api_path("instances", action["name"], "state"), {"action": "stop", "force": True, "timeout": -1},
                          project=action["project"], wait=False).operation

    def finish(self, client, action, instance, operation):
        label = describe(action)
        if action["stop"]:
            if operation:
                client.wait_operation(operation, what="stop of %s" % label)
            self.stopped(action, instance)
        path = api_path("instances", action["name"])
        if action["config"]:
            current = client.get(path, project=action["project"])
            body = writable(current.metadata)
            config = dict(body.get("config") or {})
            for key, value in action["config"].items():
                if value is None:
                    config.pop(key, None)
                else:
                    config[key] = value
            body["config"] = config
            client.put(path, body, etag=current.etag, project=action["project"])
            self.log("%s %s: %s" % ("fenced" if action["action"] == "fence" else "released", label, ", ".join(
                "%s=%s" % (k, "(unset)" if v is None else v) for k, v in sorted(action["config"].items()))))
        if action["start"]:
            client.put(api_path("instances", action["name"], "state"), {"action": "start", "timeout": 30},
                       project=action["project"])
            self.log("started %s again" % label)
        if action["action"] == "fence" and not action["stop"]:
            # Listed stopped, but LXD may have been starting it meanwhile (autostart at boot).
            current = client.get(path, project=action["project"]).metadata
            if current.get("status") != "Stopped":
                action["stop"] = True
                client.put(api_path("instances", action["name"], "state"),
                           {"action": "stop", "force": True, "timeout": -1}, project=action["project"])
                self.stopped(action, current)

    def failed(self, failed, action, exc):
        failed.append(action)
        action["error"] = exc.message
        self.log("FAILED to %s %s: %s" % (action["action"], describe(action), exc.message))

    def stopped(self, action, instance):
        ran = started_at(instance)
        ran_for = ""
        action["ran_seconds"] = None
        if ran is not None:
            action["ran_seconds"] = round((datetime.datetime.now(datetime.timezone.utc) - ran).total_seconds(), 1)
            ran_for = "; it had run %.1f s" % action["ran_seconds"]
        self.log("stopped %s (%s)%s" % (describe(action), action["reason"], ran_for))

    def run(self, check=False, wait=0):
        now = datetime.datetime.now(datetime.timezone.utc)
        record = {"time": time_text(now), "snapshot_server": self.settings["remote"]["url"], "actions": [],
                  "check": check}
        try:
            client, instances = self.primary_instances(wait)
        except LXDError as exc:
            self.log("cannot read this server's instances: %s" % exc.message)
            record.update(exit=EXIT_BROKEN, error=exc.message)
            return record
        failed_over, error = self.failed_over()
        boot = not os.path.exists(self.config["boot_marker"])
        record["answered"] = error is None
        if error is not None:
            record["error"] = error
            self.log("cannot ask the snapshot server %s which instances it runs as failed over: %s"
                     % (self.settings["remote"]["url"], error))
            if self.config["unreachable"] == "keep" or not boot:
                self.log("WARNING: the instances keep running (%s)" % (
                    "policy keep" if self.config["unreachable"] == "keep" else
                    "it answered earlier since this boot; an outage of the snapshot server alone stops nothing"))
        elif not check:
            write_file(self.config["boot_marker"], time_text(now) + "\n")
        listed = self.settings.get("instances") or ["all"]
        actions = plan(instances, failed_over, listed, self.config["unreachable"], boot, now)
        by_key = dict((key_of(i), i) for i in instances)
        failed = []
        begun = []
        for action in actions:
            if check:
                self.log("would %s %s (%s)" % (action["action"], describe(action), action["reason"]))
                continue
            try:
                begun.append((action, self.begin(client, action)))
            except LXDError as exc:
                self.failed(failed, action, exc)
        for action, operation in begun:
            if action.get("skipped"):
                continue
            try:
                self.finish(client, action, by_key[(action["project"], action["name"])], operation)
            except LXDError as exc:
                self.failed(failed, action, exc)
        record["actions"] = actions
        done = [a for a in actions if a not in failed and not a.get("skipped") and not check]
        record["fenced"] = fenced_now(instances, done, listed)
        if any(a["action"] == "fence" and not a.get("skipped") for a in actions) or failed:
            record["exit"] = EXIT_FENCED
        elif error is not None:
            record["exit"] = EXIT_UNASKED
        else:
            record["exit"] = EXIT_OK
        if not actions and error is None:
            # To the journal only: the log file keeps actions and failures, not a line every interval.
            self.log.stream.write("nothing to do: the snapshot server runs none of this server's instances as failed "
                                  "over%s\n" % ("" if not record["fenced"] else
                                                " (%d fenced until failback)" % len(record["fenced"])))
        return record


def list_instances(client):
    """Every instance of every project (one request), with config and status."""
    answer = client.get("/1.0/instances", params={"recursion": 1, "all-projects": "true"}, project=False).metadata
    if not isinstance(answer, list):
        raise LXDError("%s answered the instance list with %r" % (client.url, answer))
    return answer


def write_file(path, text):
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        os.makedirs(folder, 0o755)
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
    os.rename(temporary, path)


def show_status(path, stream):
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (OSError, ValueError) as exc:
        stream.write("lxdops-guard: no status yet (%s)\n" % exc)
        return EXIT_BROKEN
    check = " (check)" if record.get("check") else ""
    stream.write("last run: %s, exit %s%s\n" % (record.get("time"), record.get("exit"), check))
    answer = "answered" if record.get("answered") else "NOT ANSWERED: %s" % record.get("error")
    stream.write("snapshot server %s: %s\n" % (record.get("snapshot_server"), answer))
    for action in record.get("actions") or []:
        stream.write("%s %s: %s%s\n" % (action["action"], describe(action), action["reason"],
                                        " (FAILED: %s)" % action["error"] if action.get("error") else ""))
    for item in record.get("fenced") or []:
        stream.write("fenced: %s: %s\n" % (describe(item), item["fenced"]))
    if not record.get("fenced"):
        stream.write("fenced: none\n")
    return int(record.get("exit", EXIT_BROKEN))


def main(argv=None, stream=None):
    parser = argparse.ArgumentParser(prog="lxdops-guard", description="Stop and fence this server's instances "
                                     "that the snapshot server runs as failed over (see /etc/lxdops/guard.json).")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the JSON written by the snapshot_server role")
    parser.add_argument("--check", action="store_true", help="say what would be done, change nothing")
    parser.add_argument("--status", action="store_true", help="print what the last run did, exit with its status")
    parser.add_argument("--wait", type=int, default=0, metavar="SECONDS",
                        help="wait this long for this server's daemon to answer (at boot without systemd)")
    args = parser.parse_args(argv)
    stream = stream or sys.stdout
    try:
        config = load_guard_config(args.config)
        if args.status:
            return show_status(config["status_file"], stream)
        settings = load_config(config["settings"])
    except ValueError as exc:
        stream.write("lxdops-guard: %s\n" % exc)
        return EXIT_BROKEN
    log = Log(config.get("log_file"), stream)
    with open(config["lock_file"], "a") as lock:
        # One run at a time (cron's @reboot and every-minute entries may meet); the other run does the work.
        deadline = time.monotonic() + 60
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    log("another lxdops-guard run holds %s; leaving it the work" % config["lock_file"])
                    return EXIT_OK
                time.sleep(1)
        record = Guard(config, settings, log).run(check=args.check, wait=args.wait)
        if not args.check:
            try:
                write_file(config["status_file"], json.dumps(record, indent=2, sort_keys=True) + "\n")
            except OSError as exc:
                log("cannot write the status to %s: %s" % (config["status_file"], exc))
    return record["exit"]
