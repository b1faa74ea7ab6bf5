# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Prometheus textfile metrics of lxdops-replicate: format, parse, merge (pure), and the atomic write.

node_exporter's textfile collector reads every *.prom file of its folder at each scrape. The file is the record of
past runs too: a run reads the previous file and keeps each instance's last success time when it did not copy the
instance this time (a failed run never resets it). lxdops-replicate --status reads it back.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile

FILE_NAME = "lxdops_replicate.prom"
PREFIX = "lxdops_replica_"
LABELS = ("instance", "project", "target")

RESULT_OK = 0
RESULT_FAILED = 1
RESULT_SKIPPED = 2
RESULTS = {"created": RESULT_OK, "refreshed": RESULT_OK, "failed": RESULT_FAILED, "skipped": RESULT_SKIPPED}

# name (without the prefix): (type, help). Per instance, labelled instance, project, target.
INSTANCE_SERIES = {
    "last_success_timestamp_seconds": ("gauge", "Start time (unix seconds) of the last run that copied or refreshed "
                                                "the instance: the replica holds data at least this new; 0 never."),
    "last_duration_seconds": ("gauge", "Seconds the last run spent on the instance (0 when it was not tried)."),
    "last_result": ("gauge", "The last run for the instance: 0 copied or refreshed, 1 failed, 2 skipped (the replica "
                             "runs, or refresh is off)."),
}
# Per run, labelled target.
RUN_SERIES = {
    "run_end_timestamp_seconds": ("gauge", "End time (unix seconds) of the last run."),
    "run_duration_seconds": ("gauge", "Seconds the last run took."),
    "run_failed_instances": ("gauge", "Instances the last run failed to copy or refresh."),
    "run_skipped_instances": ("gauge", "Instances the last run left alone (the replica runs, or refresh is off)."),
    "run_exit_code": ("gauge", "Exit status of the last run: 0 all copied, 1 some failed or skipped, 2 did not "
                               "start, 3 another run held the lock."),
    "run_lock_busy": ("gauge", "1 when the last attempt found another run holding the lock and did nothing."),
    "lock_busy_total": ("counter", "Attempts that found another run holding the lock."),
}

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _unescape(value):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def _number(value):
    value = float(value)
    return str(int(value)) if value.is_integer() else "%.3f" % value


def parse(text):
    """{"instances": {(project, instance, target): {series: value}}, "runs": {target: {series: value}}}. Pure.

    Only this command's series are read; a line of them that does not parse raises ValueError naming it (a
    damaged file must not be taken for "no past runs").
    """
    state = {"instances": {}, "runs": {}}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#") or not line.startswith(PREFIX):
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError("line %d does not parse: %r" % (number, line))
        name, labels_text, value = match.group(1)[len(PREFIX):], match.group(2) or "", match.group(3)
        labels = {}
        position = 0
        while position < len(labels_text.rstrip()):
            label = _LABEL.match(labels_text, position)
            if not label:
                raise ValueError("line %d: labels do not parse: %r" % (number, line))
            labels[label.group(1)] = _unescape(label.group(2))
            position = label.end()
        try:
            value = float(value)
        except ValueError:
            raise ValueError("line %d: %r is not a number" % (number, value))
        if name in INSTANCE_SERIES and all(k in labels for k in LABELS):
            key = (labels["project"], labels["instance"], labels["target"])
            state["instances"].setdefault(key, {})[name] = value
        elif name in RUN_SERIES and "target" in labels:
            state["runs"].setdefault(labels["target"], {})[name] = value
    return state


def format_metrics(state):
    """The textfile for a state as parse() returns it, sorted, with HELP and TYPE. Pure."""
    lines = []
    for name, (kind, text) in INSTANCE_SERIES.items():
        rows = [(key, series[name]) for key, series in sorted(state["instances"].items()) if name in series]
        if rows:
            lines += ["# HELP %s%s %s" % (PREFIX, name, text), "# TYPE %s%s %s" % (PREFIX, name, kind)]
            for (project, instance, target), value in rows:
                lines.append('%s%s{instance="%s",project="%s",target="%s"} %s' % (
                    PREFIX, name, _escape(instance), _escape(project), _escape(target), _number(value)))
    for name, (kind, text) in RUN_SERIES.items():
        rows = [(target, series[name]) for target, series in sorted(state["runs"].items()) if name in series]
        if rows:
            lines += ["# HELP %s%s %s" % (PREFIX, name, text), "# TYPE %s%s %s" % (PREFIX, name, kind)]
            for target, value in rows:
                lines.append('%s%s{target="%s"} %s' % (PREFIX, name, _escape(target), _number(value)))
    return "\n".join(lines) + "\n"


def merge_run(previous, target, results, started, ended, exit_code, complete):
    """The state after a run that replicated to target. Pure.

    results: the Replicator's (name, action, seconds, optional project), or None when the run did not start (every
    instance known for the target then counts as failed). complete: the run covered every instance of the source,
    so instances of the target it did not see are gone and dropped. Last success times of instances not copied
    this time are kept.
    """
    state = {"instances": dict((k, dict(v)) for k, v in previous["instances"].items()),
             "runs": dict((k, dict(v)) for k, v in previous["runs"].items())}
    if results is None:
        results = [{"name": instance, "project": project, "action": "failed", "seconds": 0}
                   for (project, instance, known_target) in state["instances"] if known_target == target]
    elif complete:
        seen = set((r.get("project") or "default", r["name"]) for r in results)
        for key in list(state["instances"]):
            if key[2] == target and key[:2] not in seen:
                del state["instances"][key]
    counts = {RESULT_OK: 0, RESULT_FAILED: 0, RESULT_SKIPPED: 0}
    for result in results:
        key = (result.get("project") or "default", result["name"], target)
        code = RESULTS.get(result["action"], RESULT_FAILED)
        counts[code] += 1
        series = state["instances"].setdefault(key, {})
        series.setdefault("last_success_timestamp_seconds", 0)
        if code == RESULT_OK:
            series["last_success_timestamp_seconds"] = int(started)
        series["last_duration_seconds"] = float(result.get("seconds") or 0)
        series["last_result"] = code
    run = state["runs"].setdefault(target, {})
    run.update({"run_end_timestamp_seconds": int(ended), "run_duration_seconds": round(ended - started, 3),
                "run_failed_instances": counts[RESULT_FAILED], "run_skipped_instances": counts[RESULT_SKIPPED],
                "run_exit_code": exit_code, "run_lock_busy": 0})
    run.setdefault("lock_busy_total", 0)
    return state


def merge_lock_busy(previous, target):
    """The state after an attempt that found the lock held: the other run's results stay as they are. Pure."""
    state = {"instances": dict((k, dict(v)) for k, v in previous["instances"].items()),
             "runs": dict((k, dict(v)) for k, v in previous["runs"].items())}
    run = state["runs"].setdefault(target, {})
    run["run_lock_busy"] = 1
    run["lock_busy_total"] = run.get("lock_busy_total", 0) + 1
    return state


def ages(state, target, now):
    """{(project, instance): seconds since the last success, or None when never}, for one target. Pure."""
    result = {}
    for (project, instance, known_target), series in state["instances"].items():
        if known_target == target:
            success = series.get("last_success_timestamp_seconds") or 0
            result[(project, instance)] = max(0, now - success) if success else None
    return result


def read(folder):
    """The state of the file in folder; an empty state when there is none yet. OSError or ValueError otherwise."""
    path = os.path.join(folder, FILE_NAME)
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        return {"instances": {}, "runs": {}}
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError("%s: %s" % (path, exc))


def write(folder, state):
    """Writes the file atomically: a temporary file in the same folder, renamed over the old one.

    node_exporter only reads *.prom, so the temporary file is never scraped half-written.
    """
    path = os.path.join(folder, FILE_NAME)
    handle, temporary = tempfile.mkstemp(prefix="." + FILE_NAME + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(format_metrics(state))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return path


def update(folder, change):
    """Read, change (a pure function of the state) and write the file while holding a lock of its own.

    Two runs end close together (one of them finding the main lock busy): without this one could write a state
    read before the other's write and lose the other's success times.
    """
    with open(os.path.join(folder, "." + FILE_NAME + ".lock"), "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        state = change(read(folder))
        return write(folder, state)
