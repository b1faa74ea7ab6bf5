# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import io
import json

import pytest

from ansible_collections.lxdops.server.plugins.module_utils import replicate_command as command
from ansible_collections.lxdops.server.plugins.module_utils.replica import DEFAULT_LOCK_PATH, DEFAULT_LOCK_WAIT

BASE = {"source": {"url": "unix:/var/lib/lxd/unix.socket"}, "remote": {"url": "https://192.0.2.2:8443"}}


def write(tmp_path, **settings):
    path = tmp_path / "replicate.json"
    path.write_text(json.dumps(dict(BASE, **settings)))
    return str(path)


def test_defaults(tmp_path):
    config = command.load_config(write(tmp_path))
    assert config["instances"] == ["all"] and config["projects"] is None
    assert config["lock_path"] == DEFAULT_LOCK_PATH and config["lock_wait"] == DEFAULT_LOCK_WAIT
    assert config["metrics_dir"] == "" and config["max_age"] == command.DEFAULT_MAX_AGE


def test_numbers_may_come_as_strings(tmp_path):
    config = command.load_config(write(tmp_path, lock_wait="0", max_age="900"))
    assert config["lock_wait"] == 0 and config["max_age"] == 900


@pytest.mark.parametrize("settings, message", [
    ({"lock_wait": -1}, "lock_wait must be a whole number of seconds, 0 or more (got -1)"),
    ({"lock_wait": True}, "lock_wait must be"),
    ({"max_age": 0}, "max_age must be a whole number of seconds, 1 or more (got 0)"),
    ({"max_age": "soon"}, "max_age must be"),
    ({"metrics_dir": "metrics"}, "metrics_dir must be an absolute path (got 'metrics')"),
    ({"lock_path": "lock"}, "lock_path must be an absolute path"),
    ({"projects": ["all", "shop"]}, "projects: all stands alone"),
    ({"remote": {"url": "http://x"}}, "remote.url must be https"),
])
def test_bad_settings_are_named(tmp_path, settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        command.load_config(write(tmp_path, **settings))


def test_bad_settings_exit_2_before_anything(tmp_path):
    out = io.StringIO()
    assert command.main(["--config", write(tmp_path, max_age=0)], stream=out) == command.EXIT_NOT_STARTED
    assert "max_age" in out.getvalue()
    out = io.StringIO()
    assert command.main(["--config", write(tmp_path), "--status", "--max-age", "0"], stream=out) == 2
    assert "--max-age must be 1 or more" in out.getvalue()


def test_status_without_metrics_cannot_tell(tmp_path):
    out = io.StringIO()
    assert command.main(["--config", write(tmp_path), "--status"], stream=out) == command.EXIT_NOT_STARTED
    assert "cannot tell: metrics_dir is not set" in out.getvalue()
    out = io.StringIO()
    folder = tmp_path / "metrics"
    folder.mkdir()
    assert command.main(["--config", write(tmp_path, metrics_dir=str(folder)), "--status"], stream=out) == 2
    assert "no run has written metrics yet" in out.getvalue()


def test_a_damaged_metrics_file_is_not_all_fine(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "lxdops_replicate.prom").write_text('lxdops_replica_last_result{instance="a" 1\n')
    out = io.StringIO()
    assert command.main(["--config", write(tmp_path, metrics_dir=str(folder)), "--status"], stream=out) == 2
    assert "cannot tell" in out.getvalue() and "does not parse" in out.getvalue()


def test_exit_codes_are_distinct():
    codes = (command.EXIT_OK, command.EXIT_FAILED, command.EXIT_NOT_STARTED, command.EXIT_BUSY)
    assert codes == (0, 1, 2, 3)
