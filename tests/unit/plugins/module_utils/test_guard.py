# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.guard import (
    FENCED_BEFORE_KEY,
    REASON_FAILED_OVER,
    REASON_UNREACHABLE,
    before_state,
    fenced_now,
    fenced_reason,
    load_guard_config,
    plan,
    started_at,
)
from ansible_collections.lxdops.server.plugins.module_utils.replica import FENCED_KEY

NOW = datetime.datetime(2026, 12, 2, 10, 0, 0, tzinfo=datetime.timezone.utc)
STAMP = "2026-12-02T10:00:00Z"
UNREACHABLE_FENCE = {"boot.autostart": "false", FENCED_KEY: "%s %s" % (STAMP, REASON_UNREACHABLE),
                     FENCED_BEFORE_KEY: json.dumps({"autostart": "true", "running": True}, sort_keys=True)}


def inst(name, status="Running", project="default", **config):
    return {"name": name, "project": project, "status": status,
            "config": dict((k.replace("__", "."), v) for k, v in config.items())}


def fenced(reason, **config):
    config[FENCED_KEY.replace(".", "__")] = "2026-12-01T09:00:00Z " + reason
    return config


# (instance, failed over on the snapshot server (None: could not be asked), policy, boot) -> action or None
CASES = [
    # The snapshot server answered.
    (inst("a", boot__autostart="true"), {("default", "a")}, "fence", False,
     dict(action="fence", stop=True, start=False,
          config={"boot.autostart": "false", FENCED_KEY: "%s %s" % (STAMP, REASON_FAILED_OVER)})),
    (inst("a", "Stopped"), {("default", "a")}, "fence", True,
     dict(action="fence", stop=False, start=False,
          config={"boot.autostart": "false", FENCED_KEY: "%s %s" % (STAMP, REASON_FAILED_OVER)})),
    # Already fenced for the failover: nothing more (a second run changes nothing).
    (inst("a", "Stopped", **fenced(REASON_FAILED_OVER, boot__autostart="false")), {("default", "a")}, "fence", False,
     None),
    # Fenced, but started by hand again: stopped again.
    (inst("a", **fenced(REASON_FAILED_OVER, boot__autostart="false")), {("default", "a")}, "fence", False,
     dict(action="fence", stop=True, start=False, config={})),
    # Fenced while the snapshot server was unreachable, then it says the instance failed over: the reason
    # changes and nothing remembers it should start again.
    (inst("a", "Stopped", **fenced(REASON_UNREACHABLE, boot__autostart="false", user__lxdops__fenced__before="{}")),
     {("default", "a")}, "fence", False,
     dict(action="fence", stop=False, start=False,
          config={FENCED_KEY: "%s %s" % (STAMP, REASON_FAILED_OVER), FENCED_BEFORE_KEY: None})),
    # The same name in another project is another instance.
    (inst("a", project="p1"), {("default", "a")}, "fence", False, None),
    (inst("a", project="p1"), {("p1", "a")}, "fence", False,
     dict(action="fence", stop=True, start=False,
          config={"boot.autostart": "false", FENCED_KEY: "%s %s" % (STAMP, REASON_FAILED_OVER)})),
    # Not failed over: left alone, running or not.
    (inst("a"), set(), "fence", True, None),
    (inst("a", "Stopped"), set(), "fence", True, None),
    # Fenced for the failover but no longer marked there: failback's to clear, not the guard's.
    (inst("a", "Stopped", **fenced(REASON_FAILED_OVER)), set(), "fence", False, None),
    # Fenced while unreachable, then answered without it: released as it was.
    (inst("a", "Stopped", **fenced(REASON_UNREACHABLE, boot__autostart="false",
                                   user__lxdops__fenced__before='{"autostart": "true", "running": true}')),
     set(), "keep", False,
     dict(action="release", stop=False, start=True,
          config={"boot.autostart": "true", FENCED_KEY: None, FENCED_BEFORE_KEY: None})),
    (inst("a", "Stopped", **fenced(REASON_UNREACHABLE, boot__autostart="false",
                                   user__lxdops__fenced__before='{"autostart": null, "running": true}')),
     set(), "fence", True,
     dict(action="release", stop=False, start=True,
          config={"boot.autostart": None, FENCED_KEY: None, FENCED_BEFORE_KEY: None})),
    # Unreadable saved state: released, but not started (nothing says it ran).
    (inst("a", "Stopped", **fenced(REASON_UNREACHABLE, user__lxdops__fenced__before="garbage")), set(), "fence", True,
     dict(action="release", stop=False, start=False,
          config={"boot.autostart": None, FENCED_KEY: None, FENCED_BEFORE_KEY: None})),
    # The snapshot server could not be asked: never "nothing failed over".
    (inst("a", boot__autostart="true"), None, "fence", True,
     dict(action="fence", stop=True, start=False, config=UNREACHABLE_FENCE)),
    (inst("a", boot__autostart="true"), None, "keep", True, None),
    # It answered earlier since this boot: a standby outage alone stops nothing.
    (inst("a", boot__autostart="true"), None, "fence", False, None),
    # Stopped instances need no fence; fenced ones are not fenced twice, nor released without an answer.
    (inst("a", "Stopped"), None, "fence", True, None),
    (inst("a", "Stopped", **fenced(REASON_UNREACHABLE)), None, "fence", True, None),
    (inst("a", **fenced(REASON_FAILED_OVER)), None, "fence", True, None),
]


@pytest.mark.parametrize("instance, failed_over, policy, boot, expected", CASES)
def test_plan_table(instance, failed_over, policy, boot, expected):
    actions = plan([instance], failed_over, ["all"], policy, boot, NOW)
    if expected is None:
        assert actions == []
    else:
        assert len(actions) == 1
        action = actions[0]
        assert dict((k, action[k]) for k in expected) == expected
        assert (action["project"], action["name"]) == (instance["project"], instance["name"])


def test_plan_covers_only_listed_instances():
    instances = [inst("a"), inst("b"), inst("c", "Stopped")]
    failed = {("default", "a"), ("default", "b"), ("default", "c")}
    assert [a["name"] for a in plan(instances, failed, ["b", "c"], "fence", True, NOW)] == ["b", "c"]
    assert [a["name"] for a in plan(instances, None, ["a", "c"], "fence", True, NOW)] == ["a"]
    assert [a["name"] for a in plan(instances, None, ["all"], "fence", True, NOW)] == ["a", "b"]


def test_fenced_reason_and_before_state():
    assert fenced_reason(inst("a")) is None
    assert fenced_reason(inst("a", **fenced(REASON_UNREACHABLE))) == REASON_UNREACHABLE
    assert before_state({FENCED_BEFORE_KEY: '{"running": true, "autostart": "false"}'}) == \
        {"running": True, "autostart": "false"}
    assert before_state({FENCED_BEFORE_KEY: "[1]"}) == {"running": False, "autostart": None}
    assert before_state({FENCED_BEFORE_KEY: '{"running": "yes", "autostart": 1}'}) == \
        {"running": False, "autostart": None}


def test_fenced_now_reflects_the_actions():
    instances = [inst("a"), inst("b", **fenced(REASON_FAILED_OVER)), inst("c", **fenced(REASON_UNREACHABLE))]
    actions = plan(instances, {("default", "a")}, ["all"], "fence", False, NOW)
    assert [(f["name"], f["fenced"].split(" ", 1)[1]) for f in fenced_now(instances, actions, ["all"])] == \
        [("a", REASON_FAILED_OVER), ("b", REASON_FAILED_OVER)]  # c released: the snapshot server answered
    assert [f["name"] for f in fenced_now(instances, actions, ["b"])] == ["b"]


def test_started_at_keeps_the_fraction():
    moment = started_at({"last_used_at": "2026-12-02T09:59:58.250000000Z"})
    assert (NOW - moment).total_seconds() == pytest.approx(1.75)
    assert started_at({"last_used_at": "1970-01-01T00:00:00Z"}) is not None
    assert started_at({"last_used_at": "0001-01-01T00:00:00Z"}) is None


@pytest.mark.parametrize("content, message", [
    ('{"unreachable": "maybe"}', "unreachable must be one of fence, keep (got 'maybe')"),
    ('{"unreachabel": "fence"}', "unknown keys unreachabel"),
    ("[]", "expected a JSON object"),
    ("{", "cannot read"),
])
def test_bad_guard_config(tmp_path, content, message):
    path = tmp_path / "guard.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_guard_config(str(path))


def test_guard_config_defaults(tmp_path):
    path = tmp_path / "guard.json"
    path.write_text("{}")
    config = load_guard_config(str(path))
    assert config["unreachable"] == "fence" and config["settings"] == "/etc/lxdops/replicate.json"
