# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The state option of modules whose object is either there or not.
    # Its argument spec is STATE_ARGUMENT_SPEC in module_utils/common.py; a module may give its own description.
    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) creates the object when it is missing and brings it to the options given.
      - V(absent) deletes it; nothing is done when it is already gone.
    type: str
    choices: [present, absent]
    default: present
"""
