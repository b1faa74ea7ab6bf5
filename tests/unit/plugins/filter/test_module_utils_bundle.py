# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module_utils bundle the snapshot_server role installs: one file from which the commands import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.lxdops.server.plugins.filter.module_utils_bundle import bundle_source, module_utils_bundle
from ansible_collections.lxdops.server.plugins.filter.module_utils_closure import module_utils_closure

FOLDER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")


def test_the_commands_import_from_the_bundle_alone(tmp_path):
    files = module_utils_closure(["replicate_command.py", "guard.py"], FOLDER)
    (tmp_path / "lxdops_code.py").write_text(module_utils_bundle(files, FOLDER))
    # No site-packages (-S) and only the bundle's folder on the path: nothing else can answer these imports.
    script = ("import lxdops_code\n"
              "from ansible_collections.lxdops.server.plugins.module_utils.replicate_command import main\n"
              "from ansible_collections.lxdops.server.plugins.module_utils import guard\n"
              "print(guard.__file__)\n")
    proc = subprocess.run([sys.executable, "-S", "-c", script], cwd=str(tmp_path), capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": os.environ.get("PATH", "")}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "lxdops_code.py" / "guard.py")


def test_the_same_files_give_the_same_text():
    sources = {"b": "x = 1\n", "a": "y = '{{ z }}'\n"}
    assert bundle_source(sources) == bundle_source(dict(reversed(list(sources.items()))))
    assert module_utils_bundle(["client"], FOLDER) == module_utils_bundle(["client.py"], FOLDER)


def test_a_missing_file_or_a_string_is_refused(tmp_path):
    with pytest.raises(AnsibleFilterError, match="cannot read"):
        module_utils_bundle(["nope.py"], str(tmp_path))
    with pytest.raises(AnsibleFilterError, match="expected a list"):
        module_utils_bundle("client.py", FOLDER)
