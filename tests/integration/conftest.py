# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for tests against the lab's real daemons (./dev lab-up starts them).

Every test that uses the lab runs once per daemon kind, LXD and Incus: `lab["daemons"]["primary"]` and
`["remote"]` are that kind's two daemons, `lab["kind"]` says which. `@pytest.mark.daemons("lxd")` keeps a test to
the kinds it names (say why next to it); `--daemon lxd|incus` or LXDOPS_TEST_DAEMONS runs one kind only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.lxdops.server.plugins.module_utils.client import LXDClient

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
STATE = os.environ.get("LXDOPS_LAB_STATE", os.path.join(ROOT, ".build", "lab"))

sys.path.insert(0, os.path.join(TESTS, "lab"))
import lab as lab_control  # noqa: E402  pylint: disable=wrong-import-position


KINDS = ("lxd", "incus")


def pytest_addoption(parser):
    parser.addoption("--daemon", choices=KINDS + ("both",), default=os.environ.get("LXDOPS_TEST_DAEMONS", "both"),
                     help="run the lab tests against this daemon kind only (default both)")


def pytest_configure(config):
    config.addinivalue_line("markers", "daemons(*kinds): run this test only against these daemon kinds")


def pytest_generate_tests(metafunc):
    if "daemon_kind" not in metafunc.fixturenames:
        return
    kinds = list(KINDS)
    marker = metafunc.definition.get_closest_marker("daemons")
    if marker:
        kinds = [k for k in kinds if k in marker.args]
    # Session scope: each kind's session fixtures are made once, and tests run grouped by kind.
    metafunc.parametrize("daemon_kind", kinds, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    """--daemon: the other kind's tests are deselected (not skipped: they are not this run's to report)."""
    chosen = config.getoption("--daemon")
    if chosen == "both":
        return
    other = [item for item in items if getattr(item, "callspec", None) is not None
             and item.callspec.params.get("daemon_kind", chosen) != chosen]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if item not in other]


@pytest.fixture(scope="session")
def daemon_kind(request):
    return request.param


@pytest.fixture(scope="session")
def lab_state():
    """The lab description written by `lab.py up`; every test object is cleaned up at the end."""
    path = os.path.join(STATE, "lab.json")
    if not os.path.exists(path):
        raise RuntimeError("the lab is not up (no %s): run ./dev lab-up, or ./dev integration" % path)
    with open(path) as handle:
        info = json.load(handle)
    for name in info["daemons"]:
        if not lab_control.answering(name):
            raise RuntimeError("lab daemon %r is not answering: run ./dev lab-up" % name)
    # LXDOPS_TEST_SESSION keeps concurrent test sessions on one lab apart: each names and cleans only its own.
    info["prefix"] += os.environ.get("LXDOPS_TEST_SESSION", "")
    yield info
    # The ./dev run is this process's parent; while other runs use the lab, only this session's own names go.
    if info["prefix"] != lab_control.TEST_PREFIX or not lab_control.other_sessions(os.getppid()):
        lab_control.clean(info["prefix"])


@pytest.fixture(scope="session")
def lab(lab_state, daemon_kind):
    """The lab as one daemon kind sees it: daemons primary and remote are that kind's pair."""
    info = dict(lab_state, kind=daemon_kind, all_daemons=lab_state["daemons"])
    info["daemons"] = dict((role, lab_state["daemons"][name]) for role, name in lab_state["pairs"][daemon_kind].items())
    return info


@pytest.fixture(scope="session")
def daemon_env(lab):
    """Environment in which the modules' default url finds this kind's primary daemon, and its CLI talks to it."""
    primary = lab["daemons"]["primary"]
    env = dict((k, v) for k, v in os.environ.items() if k not in ("LXD_URL", "LXD_DIR", "INCUS_DIR", "INCUS_SOCKET"))
    env[primary["dir_env"]] = primary["dir"]
    return env


@pytest.fixture(scope="session")
def lab_control_module():
    return lab_control


@pytest.fixture
def primary(lab):
    return LXDClient(url=lab["daemons"]["primary"]["url"])


@pytest.fixture
def remote_unix(lab):
    return LXDClient(url=lab["daemons"]["remote"]["url"])


@pytest.fixture
def remote_https(lab):
    """Connection options for the second daemon over https, trusted and pinned."""
    daemon = lab["daemons"]["remote"]
    return dict(url=daemon["https_url"], client_cert=lab["client_cert"], client_key=lab["client_key"],
                server_cert=daemon["server_cert"])


@pytest.fixture
def unique(lab):
    """Test object names: the lab prefix, a readable part, a random tail."""
    def make(part):
        return "%s%s-%s" % (lab["prefix"], part, uuid.uuid4().hex[:6])
    return make


@pytest.fixture
def new_cert(tmp_path):
    """A fresh client certificate pair that no daemon trusts yet."""
    crt, key = tmp_path / "client.crt", tmp_path / "client.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=lxdops-test", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return str(crt), str(key)


@pytest.fixture(scope="session")
def run_module(lab, daemon_env, tmp_path_factory):
    """Run one of the collection's modules as Ansible does (a separate Python process), return its result.

    The result gets `_requests`: how many API requests the module made (from the client's trace).
    """
    folder = tmp_path_factory.mktemp("module-runs")
    counter = [0]

    def run(module, params, check=False, diff=True, env=None):
        counter[0] += 1
        args_file = folder / ("args-%d.json" % counter[0])
        trace = folder / ("trace-%d" % counter[0])
        args = dict(params, _ansible_check_mode=check, _ansible_diff=diff)
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        environ = dict(daemon_env, PYTHONPATH=os.path.join(ROOT, ".build", "collections"),
                       LXDOPS_TRACE_FILE=str(trace))
        environ.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "ansible_collections.lxdops.server.plugins.modules." + module,
                               str(args_file)], env=environ, capture_output=True, text=True, timeout=600, check=False)
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("module %s printed no JSON (rc %s):\n%s\n%s"
                                 % (module, proc.returncode, proc.stdout, proc.stderr))
        result["_requests"] = len(trace.read_text().splitlines()) if trace.exists() else 0
        result["_stdout"] = proc.stdout
        return result

    return run


@pytest.fixture
def busybox(lab):
    return {"alias": lab["images"]["busybox"]["alias"]}


@pytest.fixture(scope="session")
def lxc_exec(lab, daemon_env):
    """Run a command inside a primary-daemon instance (through the daemon's own CLI); return (rc, output)."""
    def run(name, command, project="default"):
        cli = lab["daemons"]["primary"]["cli"]
        proc = subprocess.run([cli, "exec", "--project", project, name, "--", "sh", "-c", command],
                              env=daemon_env, capture_output=True, text=True, timeout=120, check=False)
        return proc.returncode, proc.stdout + proc.stderr
    return run


@pytest.fixture
def instance(run_module, busybox, unique):
    """A running busybox instance on the primary; returns its name."""
    def make(part="inst", **params):
        name = unique(part)
        params.setdefault("source", busybox)
        result = run_module("lxd_instance", dict(name=name, **params))
        assert not result.get("failed"), result.get("msg")
        return name
    return make


@pytest.fixture
def pair_answering(lab, lab_control_module):
    """Another session's test may be restarting a lab daemon (a kill test): wait until the kind's pair answers."""
    deadline = time.monotonic() + 180
    while not all(lab_control_module.answering(name) for name in lab["pairs"][lab["kind"]].values()):
        assert time.monotonic() < deadline, "a lab daemon does not answer"
        time.sleep(2)
