# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The check of roles' defaults against their argument specs, and of their READMEs (tests/lint/roles.py)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "lint"))
import roles as roles_lint  # noqa: E402  pylint: disable=wrong-import-position


def test_defaults_and_spec_that_agree():
    defaults = {"r_port": 8443, "r_url": "{{ x }}", "r__private": 1}
    options = {"r_port": {"type": "int", "default": 8443}, "r_url": {"type": "str"},
               "r_name": {"type": "str", "required": True}, "lxdops_daemon": {"type": "str", "default": "lxd"}}
    assert roles_lint.compare("r", defaults, options) == []


def test_every_kind_of_mismatch_is_named():
    defaults = {"r_undeclared": 1, "r_port": 8443, "r_url": "{{ x }}"}
    options = {"r_port": {"default": 9443}, "r_url": {"default": "unix:/x"}, "r_lost": {"type": "str"}}
    problems = roles_lint.compare("r", defaults, options)
    assert any("r_undeclared" in p and "does not declare" in p for p in problems)
    assert any("r_port" in p and "8443" in p and "9443" in p for p in problems)
    assert any("r_url" in p and "computed" in p for p in problems)
    assert any("r_lost" in p and "neither required nor in" in p for p in problems)
    assert len(problems) == 4


def test_the_readme_table_comes_from_the_spec():
    options = {"r_port": {"description": ["The port | API.", "More."], "default": 8443},
               "r_url": {"description": "Where."}}
    table = roles_lint.variables_table("r", options, {"r_port": 8443, "r_url": "{{ x }}"})
    assert "| `r_port` | `8443` | The port \\| API. |" in table
    assert "| `r_url` | computed (see `defaults/main.yml`) | Where. |" in table
    text = "# r\n\n## Variables\n\n" + table + "\n\n## Example\n\n## Verified where\n"
    assert roles_lint.readme_problems("r", text, table) == []
    stale = text.replace("8443", "9443", 1)
    assert any("differs" in p for p in roles_lint.readme_problems("r", stale, table))
    assert any("Example" in p for p in roles_lint.readme_problems("r", "# r\n" + table, table))
