"""The online image recipe (base.Dockerfile, FROM debian:bookworm-slim) against the offline one
(debootstrap): the same packages at the same versions. With no registry here, the online recipe is built
on a local stand-in for bookworm-slim (a bare debootstrap). It takes about two minutes: it runs in CI
(CI=true) or with SOCKLAB_TEST_IMAGES=1."""
import os

import pytest

from orchestrator.image import Images

pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true" and not os.environ.get("SOCKLAB_TEST_IMAGES"),
                                reason="builds both image recipes (about two minutes): CI=true or SOCKLAB_TEST_IMAGES=1")


def test_the_online_recipe_installs_what_the_offline_one_does(docker_engine):
    images = Images(docker_engine)
    offline = images.packages(images.ensure_base())
    online = images.packages(images.online_base(images.standin()))
    only_offline = {p: v for p, v in offline.items() if online.get(p) != v}
    only_online = {p: v for p, v in online.items() if offline.get(p) != v}
    assert (only_offline, only_online) == ({}, {}), "dpkg-query -W differs between the two recipes"
    assert "python3-paramiko" in online and "tcpdump" in online
