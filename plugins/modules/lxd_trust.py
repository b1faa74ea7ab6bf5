#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_trust
short_description: Manage an LXD or Incus server's trust store, issue trust tokens, and write CLI remotes
version_added: 0.1.0
description:
  - Adds a client certificate to the trust store of the server given by the connection options (what
    C(lxc config trust add <file>) does), updates its name and project restriction, or removes it
    (C(lxc config trust remove)). Certificates are identified by their SHA-256 fingerprint, so running the task
    again changes nothing.
  - With O(state=token), issues a trust token for a new client (C(lxc config trust add --name)). The client
    uses it once, with C(lxc remote add) or with the O(trust_token) option of this collection's modules.
  - With O(cli_remote), sets up a user's command line client on the host the module runs on, as
    C(lxc remote add <name> <url>) (LXD) or C(incus remote add <name> <url>) (Incus) would. It creates the user's
    client certificate if there is none, trusts it on the server, stores the server's certificate and adds the
    remote to the user's C(config.yml). Afterwards C(lxc list <name>:) or C(incus list <name>:) and
    C(copy c <name>:c) work for that user without a password or token.
  - Works the same on LXD and Incus servers (C(incus config trust add) is the Incus command for a token).
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
notes:
  - A token is a secret. The module never shows it except in the RV(token) it returns; set C(no_log) to V(true) on a
    task with O(state=token) and on the tasks that use the token.
  - LXD cannot change a certificate's O(type); the module fails and says so rather than removing and adding it.
  - Certificate names are not unique in LXD. O(state=absent) with only O(name) removes every certificate of that
    name, but never the certificate the task connects with.
options:
  state:
    description:
      - V(present) trusts O(certificate) (or the user's client certificate with O(cli_remote)), or updates the
        trusted certificate with O(fingerprint). Its O(name), O(projects) and O(type) are changed when given.
      - V(absent) removes the certificate given by O(certificate) or O(fingerprint). With only O(name), it removes
        every trusted certificate of that name and revokes the pending tokens issued for that name.
      - V(token) returns a trust token for client O(name). A pending (unused) token for that name is returned again
        rather than issuing a second one. When a certificate named O(name) is already trusted, no token is issued
        (RV(token) is V(null)) unless O(force=true), so a play run again does not leave unused tokens behind.
    type: str
    choices: [present, absent, token]
    default: present
  certificate:
    description:
      - The client certificate, as PEM text (starting with C(-----BEGIN CERTIFICATE-----)) or the path of a PEM file
        on the host the module runs on (for example a client's C(~/.config/lxc/client.crt)).
      - Only the first certificate of a chain is used.
    type: str
  fingerprint:
    description:
      - The SHA-256 fingerprint of a trusted certificate (64 hex digits; colons and upper case are accepted), or its
        first 12 digits or more, as C(lxc config trust list) shows them.
      - Removes a certificate without its PEM (O(state=absent)), or updates a trusted one (O(state=present)).
    type: str
  name:
    description:
      - The certificate's name in the trust store. When not given, a new certificate gets the name LXD chooses (the
        certificate's common name), and a trusted one keeps its name.
      - With O(state=token), required - the client name the token is issued for, which becomes the name of the
        certificate that uses it.
      - With O(cli_remote), defaults to V(<user>@<hostname>) for a new certificate.
    type: str
  projects:
    description:
      - Restrict the certificate (or the token's certificate) to these projects. An empty list removes the
        restriction. When not given, a new certificate is unrestricted and a trusted one keeps its restriction.
      - The projects must exist on the server.
    type: list
    elements: str
  type:
    description:
      - V(client) for a client of the API, V(metrics) for a certificate that may only read C(/1.0/metrics).
      - When not given, V(client) for a new certificate; a trusted certificate keeps its type. Tokens and
        O(cli_remote) are for client certificates only.
    type: str
    choices: [client, metrics]
  force:
    description:
      - With O(state=token), issue a token even when a certificate named O(name) is already trusted (a client
        that was reinstalled with a new certificate, say).
    type: bool
    default: false
  cli_remote:
    description:
      - Set up a CLI remote for a user of the host the module runs on, for the server of the connection options
        (only with O(state=present)).
      - The remote is written for the CLI of the server's own daemon (C(lxc) for LXD, C(incus) for Incus) unless
        O(cli_remote.cli) names one.
      - The user's client certificate (C(client.crt) and C(client.key) in O(cli_remote.config_dir)) is created with
        the C(openssl) command when missing, like C(lxc) does on first use, and trusted on the server with O(name)
        and O(projects).
      - The server's certificate is read over the connection (pinned with O(server_cert), or the local unix socket)
        and stored as C(servercerts/<name>.crt); the remote is added to C(config.yml) with TLS authentication.
        Everything else in C(config.yml) is kept (comments are not).
      - A missing C(config.yml) is written as a new C(lxc) 5.0 or C(incus) 6.0 client writes it (remotes C(local)
        and C(images) plus this one). Reading an existing YAML C(config.yml) needs PyYAML (the C(python3-yaml) package) on the host.
      - Files and folders created are owned by the user; C(client.key) has mode C(0600).
    type: dict
    suboptions:
      name:
        description: The remote's name, as in C(lxc remote add <name>).
        type: str
        required: true
      cli:
        description:
          - The command line client that gets the remote - V(lxc) (LXD's) or V(incus) (Incus's).
          - Defaults to the CLI of the server's daemon, read from the server before anything is written.
        type: str
        choices: [lxc, incus]
      user:
        description: The user whose command line client is set up. Defaults to the user running the module.
        type: str
      config_dir:
        description:
          - The user's CLI configuration folder (what E(LXD_CONF) or E(INCUS_CONF) names).
          - For C(lxc), defaults to V(~/snap/lxd/common/config) of the user when that folder exists (the snap's
            client), else V(~/.config/lxc). For C(incus), V(~/.config/incus), where C(incus remote add) writes.
        type: path
      url:
        description:
          - The address the user's client reaches the server at, V(https://host:port) (port 8443 when omitted).
          - Defaults to O(url) when that is https; required when the module talks to the server over its unix
            socket. It must reach the same server (or cluster) as the connection options.
        type: str
seealso:
  - module: lxdops.server.lxd_replica
  - name: LXD remote API authentication
    description: How LXD trusts clients, tokens and restricted certificates.
    link: https://documentation.ubuntu.com/lxd/en/latest/authentication/
"""

EXAMPLES = r"""
- name: Trust the primary's client certificate on the snapshot server
  lxdops.server.lxd_trust:
    url: unix:/var/lib/lxd/unix.socket
    certificate: "{{ lookup('ansible.builtin.file', 'files/lxd-primary-client.crt') }}"
    name: lxd-primary

- name: A monitoring client limited to the metrics endpoint
  lxdops.server.lxd_trust:
    certificate: /etc/prometheus/lxd-metrics.crt
    name: prometheus
    type: metrics

- name: Restrict a trusted client to two projects
  lxdops.server.lxd_trust:
    fingerprint: 6daadb0694b2
    projects: [web, db]

- name: Revoke a client
  lxdops.server.lxd_trust:
    fingerprint: 6daadb0694b22358083884577b8bc0618f27153b8b9273de5b3d86196cc63237
    state: absent

- name: A token for a new client (used once, by lxc remote add or trust_token)
  lxdops.server.lxd_trust:
    name: ci-runner
    state: token
  register: ci_token
  no_log: true

- name: On the primary, give root an lxc remote for the snapshot server (lxc copy c lxd-snapshot:c)
  lxdops.server.lxd_trust:
    url: https://lxd-snapshot.lan:8443
    server_cert: /etc/lxdops/lxd-snapshot.crt
    name: lxd-primary-root
    cli_remote:
      name: lxd-snapshot

- name: The same for an Incus snapshot server (written to ~/.config/incus, for incus copy c incus-snapshot:c)
  lxdops.server.lxd_trust:
    url: https://incus-snapshot.lan:8443
    server_cert: /etc/lxdops/incus-snapshot.crt
    name: incus-primary-root
    cli_remote:
      name: incus-snapshot
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [add]
certificate:
  description:
    - The certificate's trust-store entry (without the PEM body). Empty when removed, and with O(state=token) unless
      a certificate of that name is already trusted and no token was issued.
    - In check mode, the entry as it would be; its fingerprint is V(null) when the user's client certificate of
      O(cli_remote) is still to be created.
  returned: success
  type: dict
  contains:
    fingerprint:
      description: SHA-256 fingerprint.
      type: str
    name:
      description: Name.
      type: str
    type:
      description: V(client) or V(metrics).
      type: str
    restricted:
      description: Whether the certificate is limited to O(projects).
      type: bool
    projects:
      description: The projects it may use when restricted.
      type: list
      elements: str
  sample: {"fingerprint": "6daadb0694b22358083884577b8bc0618f27153b8b9273de5b3d86196cc63237", "name": "lxd-primary",
           "type": "client", "restricted": false, "projects": []}
token:
  description:
    - The trust token, exactly as C(lxc config trust add) prints it. A secret - set C(no_log) to V(true) on the task.
    - V(null) in check mode when a token would be issued, and when none is issued because O(name) is trusted.
  returned: when O(state=token)
  type: str
removed:
  description: Fingerprints of the certificates removed (or to remove, in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
cli_remote:
  description: Where the user's CLI remote was written.
  returned: when O(cli_remote) is given
  type: dict
  contains:
    name:
      description: The remote's name.
      type: str
    addr:
      description: Its address in C(config.yml).
      type: str
      sample: https://lxd-snapshot.lan:8443
    user:
      description: The user.
      type: str
    cli:
      description: The command line client the remote was written for.
      type: str
      sample: incus
    config_dir:
      description: The user's CLI configuration folder.
      type: str
    client_cert:
      description: The user's client certificate.
      type: str
    server_cert:
      description: The stored server certificate.
      type: str
    fingerprint:
      description: Fingerprint of the user's client certificate (V(null) in check mode when still to be created).
      type: str
"""

from ansible_collections.lxdops.server.plugins.module_utils.common import run_manager
from ansible_collections.lxdops.server.plugins.module_utils.trust import TrustManager


def main():
    run_manager(TrustManager, dict(
        state=dict(type="str", choices=["present", "absent", "token"], default="present"),
        certificate=dict(type="str"),
        fingerprint=dict(type="str"),
        name=dict(type="str"),
        projects=dict(type="list", elements="str"),
        type=dict(type="str", choices=["client", "metrics"]),
        force=dict(type="bool", default=False),
        cli_remote=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                cli=dict(type="str", choices=["lxc", "incus"]),
                user=dict(type="str"),
                config_dir=dict(type="path"),
                url=dict(type="str"),
            ),
        )))


if __name__ == "__main__":
    main()
