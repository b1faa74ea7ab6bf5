# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The connection options every module of this collection takes.
    # Their argument spec is CONNECTION_ARGUMENT_SPEC in module_utils/common.py; keep both in step.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - The LXD or Incus server to talk to, as V(unix:/path/to/unix.socket) or V(https://host:port) (port 8443 when
        omitted). Which daemon answers is read from the server; nothing else needs to say it.
      - When not given, in this order - the E(LXD_URL) environment variable; the socket in E(LXD_DIR)
        (E(LXD_DIR)/unix.socket); the socket E(INCUS_SOCKET) names; the socket in E(INCUS_DIR)
        (E(INCUS_DIR)/unix.socket); then the first existing default socket among
        V(/var/snap/lxd/common/lxd/unix.socket) (LXD's snap), V(/var/lib/lxd/unix.socket) (LXD's distribution
        package), V(/var/lib/incus/unix.socket) and V(/run/incus/unix.socket) (Incus).
      - A variable that is set names the daemon meant - its socket is used even when missing (the task fails naming
        it), never another daemon's.
    type: str
  client_cert:
    description:
      - Path to the client certificate (PEM) presented to an https server.
      - Defaults to the certificate of the command line client - V(client.crt) in the first of V(~/.config/lxc)
        (C(lxc)), V(~/snap/lxd/common/config) (the snap's C(lxc)) and V(~/.config/incus) (C(incus)) that holds one;
        V(~/.config/lxc/client.crt) when none does.
      - Not used for unix sockets.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the private key of O(client_cert).
      - Defaults to V(client.key) beside the default O(client_cert).
    type: path
    aliases: [key_file]
  server_cert:
    description:
      - The server certificate to pin, as PEM text or a path to a PEM file (for example the server's
        V(/var/lib/lxd/server.crt) or V(/var/lib/incus/server.crt), or the CLI's
        V(~/.config/lxc/servercerts/<remote>.crt) or V(~/.config/incus/servercerts/<remote>.crt)).
      - When given, the connection is accepted only if the server presents exactly this certificate,
        whatever its issuer or host names. This is how self-signed LXD and Incus servers are trusted safely.
      - When not given, the server certificate is verified against the system's certificate authorities,
        unless O(verify=false).
    type: str
  verify:
    description:
      - Verify the server's TLS certificate.
      - V(false) is an explicit opt-out that accepts any certificate; prefer O(server_cert).
    type: bool
    default: true
    aliases: [validate_certs]
  trust_token:
    description:
      - A trust token issued by the server (C(lxc config trust add) or C(incus config trust add) on the server, or
        M(lxdops.server.lxd_trust)), used once to add O(client_cert) to the server's trust store when the
        server does not trust it yet. Ignored when already trusted, so it may stay in the play.
      - With O(verify=false) and no O(server_cert), the token is sent only to a server that presents the
        certificate the token names (as C(lxc remote add) checks it).
      - Never logged.
    type: str
  trust_password:
    description:
      - The server's trust password (C(core.trust_password)), for LXD servers that still accept one (LXD before
        5.21). Used like O(trust_token), only when not yet trusted. Never logged.
      - Incus has no trust password - given to an Incus server, the task fails before sending it, saying to give
        O(trust_token) instead.
      - Not sent to a server whose certificate is not checked (O(verify=false) without O(server_cert)); the task
        fails saying so.
    type: str
  project:
    description:
      - The project to work in.
    type: str
    default: default
  timeout:
    description:
      - Seconds to wait for an answer to each request, and for each operation of the daemon to end.
    type: int
    default: 60
"""
