#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lxdops developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lxd_image
short_description: Load LXD and Incus images from files or copy them from another server
version_added: 0.1.0
description:
  - Brings an image to the server from local files (O(file), and O(rootfs_file) for a split image) or from another
    server (O(remote) - an LXD or Incus server, or a simplestreams image server), sets its aliases, O(public),
    O(auto_update), O(properties) and O(expires_at), or deletes it. An offline site loads its images from files.
  - An image is known by its fingerprint. For files it is computed here, before any request - the SHA-256 of the
    unified tarball, or of the metadata tarball followed by the rootfs - so an image already on the server is never
    uploaded again, and the daemon checks what it receives against it. Files are streamed, never read whole into
    memory. They are read on the host the module runs on.
  - From an LXD or Incus remote, the image O(remote.alias) names there is looked up first (through O(remote)'s
    connection options); a copy is made only when that image is not on this server. A private image is copied with
    O(remote.secret), or with a one-time secret the module asks the remote for when the remote trusts the client.
    LXD copies from Incus and Incus from LXD the same way.
  - From a simplestreams server, an image is found by O(remote.fingerprint); with O(remote.alias), an image an
    earlier copy of that alias from that server made counts as present (the daemon keeps where it came from, and
    O(auto_update) keeps it current).
  - An alias in O(aliases) that points at another image is moved to this one (the diff shows its old target); the
    other image stays. O(purge_aliases) removes this image's aliases that O(aliases) does not list.
  - A run that fails after it created the image or changed aliases deletes that image and puts the aliases back.
author:
  - lxdops developers (@lxdops)
extends_documentation_fragment:
  - lxdops.server.connection
  - lxdops.server.attributes
  - lxdops.server.state
options:
  state:
    description:
      - Whether the image is on the server. V(absent) deletes the image O(fingerprint) names, the images O(aliases)
        point at, or the image made from O(file) and O(rootfs_file).
  fingerprint:
    description:
      - The image's full fingerprint (64 hexadecimal digits). With O(file), the files must have it. Without O(file)
        and O(remote), the image must already be on the server (its aliases and settings are managed).
    type: str
  file:
    description:
      - A unified image tarball (C(metadata.yaml), C(rootfs/), C(templates/)), or the metadata tarball of a split
        image when O(rootfs_file) is given. On the host the module runs on.
    type: path
  rootfs_file:
    description:
      - The rootfs of a split image - a tarball or squashfs for a container, a qcow2 disk for a virtual machine.
    type: path
  remote:
    description:
      - The server to copy the image from. The daemon pulls it over https itself, verifying the remote against
        O(remote.server_cert) when given, else against its certificate authorities.
    type: dict
    suboptions:
      url:
        description:
          - The remote - V(https://host:8443) for protocol V(lxd), the server's url with its path for
            V(simplestreams).
        type: str
        required: true
      protocol:
        description:
          - How the remote serves images - V(lxd) or V(incus) (the same - another server of the family; the request
            names it as the daemon here does), or V(simplestreams).
        type: str
        choices: [lxd, incus, simplestreams]
        default: lxd
      alias:
        description: The image there, by alias. Exactly one of O(remote.alias) and O(remote.fingerprint).
        type: str
      fingerprint:
        description: The image there, by its full fingerprint.
        type: str
      secret:
        description:
          - Secret for a private image on an LXD or Incus remote (from C(POST /1.0/images/<fingerprint>/secret)
            there). Never logged. Goes with O(remote.fingerprint).
        type: str
      image_type:
        description: The type wanted when the remote has both for the alias.
        type: str
        choices: [container, virtual-machine]
      client_cert:
        description:
          - Client certificate for looking the image up on an LXD or Incus remote (defaults as for O(client_cert)).
            Looking an alias up needs a client certificate, though for a public image the remote need not trust it.
        type: path
        aliases: [cert_file]
      client_key:
        description: Key of O(remote.client_cert).
        type: path
        aliases: [key_file]
      server_cert:
        description: The remote's certificate to pin (path or PEM); the daemon pins it too.
        type: str
      verify:
        description:
          - Verify the remote's TLS certificate. V(false) is accepted only with O(remote.server_cert) - the daemon
            connects to the remote itself and cannot be told to trust anything.
        type: bool
        default: true
        aliases: [validate_certs]
      trust_token:
        description: Token to become trusted by the remote, used once (to reach private images). Never logged.
        type: str
      trust_password:
        description: Trust password of the remote, used once. Never logged.
        type: str
      project:
        description: Project of the image on the remote.
        type: str
        default: default
      timeout:
        description: Seconds for each request to the remote.
        type: int
        default: 60
  aliases:
    description:
      - Aliases that point at the image - names, or dicts with C(name) and C(description). An alias that exists is
        moved to this image; a description left out is kept as it is.
    type: list
    elements: raw
  purge_aliases:
    description: Remove the image's aliases that O(aliases) does not list.
    type: bool
    default: false
  public:
    description: Whether clients the server does not trust may download the image. Left as it is when not given.
    type: bool
  auto_update:
    description:
      - Whether the daemon updates the image from its source (an image copied by alias from O(remote)). Needs
        O(remote). Left as it is when not given.
    type: bool
  properties:
    description:
      - Image properties (V(os), V(release), V(description) ...). Only the keys given are managed; V(null) removes
        one. Values may be YAML scalars.
    type: dict
  expires_at:
    description: When the daemon deletes the image, an RFC 3339 time (V(2027-01-31T00:00:00Z)).
    type: str
notes:
  - The module's O(timeout) is raised to at least 600 seconds for an upload, a copy and a delete.
seealso:
  - module: lxdops.server.lxd_instance
"""

EXAMPLES = r"""
- name: An offline site loads its image from a file it was given
  lxdops.server.lxd_image:
    file: /srv/images/debian-12.tar.xz
    aliases:
      - name: debian/12
        description: Debian 12, site build

- name: A split image (metadata and rootfs)
  lxdops.server.lxd_image:
    file: /srv/images/meta.tar.xz
    rootfs_file: /srv/images/rootfs.squashfs
    aliases: [debian/12/cloud]

- name: Copy an image from the site's image server, kept up to date
  lxdops.server.lxd_image:
    remote:
      url: https://images.example.net:8443
      server_cert: /etc/lxdops/images.crt
      alias: debian/12
    aliases: [debian/12]
    auto_update: true

- name: From a simplestreams server, one build pinned by fingerprint
  lxdops.server.lxd_image:
    remote:
      url: https://mirror.example.net/images
      protocol: simplestreams
      fingerprint: 5c837e7415e22343219b44d9c862648a39089a6696df50c6e4d1f7a6002ce487
    aliases: [debian/12]

- name: Delete the image an alias names
  lxdops.server.lxd_image:
    aliases: [debian/11]
    state: absent
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [upload, alias debian/12]
image:
  description: The image as the daemon shows it; empty when absent or about to be made in check mode.
  returned: success
  type: dict
  contains:
    fingerprint:
      description: Fingerprint.
      type: str
    aliases:
      description: Aliases, with name and description.
      type: list
      elements: dict
    public:
      description: Whether untrusted clients may download it.
      type: bool
    auto_update:
      description: Whether the daemon updates it from its source.
      type: bool
    properties:
      description: Properties.
      type: dict
    update_source:
      description: Where a copied image came from (server, protocol, alias).
      type: dict
fingerprint:
  description: The image's fingerprint; null when a simplestreams alias is about to be copied in check mode.
  returned: success
  type: str
  sample: 5c837e7415e22343219b44d9c862648a39089a6696df50c6e4d1f7a6002ce487
deleted:
  description: Fingerprints of the images deleted (or to be deleted in check mode).
  returned: state is absent
  type: list
  elements: str
"""

from ansible_collections.lxdops.server.plugins.module_utils.args import STATE_ARGUMENT_SPEC, options
from ansible_collections.lxdops.server.plugins.module_utils.common import remote_argument_spec, run_manager
from ansible_collections.lxdops.server.plugins.module_utils.image import IMAGE_TYPES, PROTOCOLS, ImageManager


def main():
    remote = remote_argument_spec()
    remote.update(
        protocol=dict(type="str", choices=list(PROTOCOLS), default="lxd"),
        alias=dict(type="str"),
        fingerprint=dict(type="str"),
        secret=dict(type="str", no_log=True),
        image_type=dict(type="str", choices=list(IMAGE_TYPES)),
    )
    run_manager(ImageManager, options(
        STATE_ARGUMENT_SPEC,
        fingerprint=dict(type="str"),
        file=dict(type="path"),
        rootfs_file=dict(type="path"),
        remote=dict(type="dict", options=remote),
        aliases=dict(type="list", elements="raw"),
        purge_aliases=dict(type="bool", default=False),
        public=dict(type="bool"),
        auto_update=dict(type="bool"),
        properties=dict(type="dict"),
        expires_at=dict(type="str")))


if __name__ == "__main__":
    main()
