# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test helper: writes every task result of a run to a JSON file, for a verify step to read.

Scenarios that run a role in check mode against the facts of other systems assert what
each task would have done. Enabled with ANSIBLE_CALLBACKS_ENABLED=lxdops_record; each playbook's
record is $LXDOPS_RECORD_DIR/<playbook name>.json (one list per host of {task, action, status, msg, warnings, args}).
"""

from __future__ import annotations

DOCUMENTATION = """
name: lxdops_record
type: aggregate
short_description: record task results to a JSON file (tests only)
description:
  - Writes the status of every task per host to E(LXDOPS_RECORD_DIR)/<playbook name>.json when the playbook ends.
"""

import json
import os

from ansible.plugins.callback import CallbackBase

# Module arguments worth keeping: enough to tell which package or unit a task is about.
KEPT_ARGS = ("name", "src", "dest", "path", "state", "enablerepo", "disablerepo", "argv", "_raw_params")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lxdops_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.results = {}
        self.playbook_name = "playbook"

    def v2_playbook_on_start(self, playbook):
        self.playbook_name = os.path.splitext(os.path.basename(playbook._file_name))[0]

    def _record(self, result, status):
        host = result._host.get_name()
        outcome = result._result
        args = outcome.get("invocation", {}).get("module_args", {}) or {}
        self.results.setdefault(host, []).append({
            "task": result._task.name or result._task.action,
            "action": result._task.action,
            "status": status,
            "msg": str(outcome.get("msg", "")),
            "warnings": " ".join(str(w) for w in outcome.get("warnings") or []),
            "args": {key: args[key] for key in KEPT_ARGS if key in args},
        })

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        folder = os.environ.get("LXDOPS_RECORD_DIR")
        if folder:
            with open(os.path.join(folder, self.playbook_name + ".json"), "w", encoding="utf-8") as out:
                json.dump(self.results, out, indent=1, sort_keys=True)
