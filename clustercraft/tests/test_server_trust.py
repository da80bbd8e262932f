"""The channel to hosts: private directories only, and host replies checked before the browser."""

from __future__ import annotations

import os
import stat

import pytest

from clustercraft.server.hoststate import checked_cluster, require_private_dir
from clustercraft.server.manager import MAX_SOCKET_PATH, ClusterManager


def long_runtime_dir(tmp_path) -> str:
    path = tmp_path / ("d" * 60) / ("e" * 60) / "clustercraft"
    return str(path)


def test_a_long_runtime_path_gets_sockets_in_a_random_private_dir(tmp_path):
    first = ClusterManager(runtime_dir=long_runtime_dir(tmp_path))
    second = ClusterManager(runtime_dir=long_runtime_dir(tmp_path))
    path = first._socket_path("abcd1234")
    assert len(path.encode()) <= MAX_SOCKET_PATH
    directory = os.path.dirname(path)
    info = os.lstat(directory)
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
    assert info.st_mode & 0o777 == 0o700
    # Not a name another user could guess and create first: each server draws its own.
    assert os.path.dirname(second._socket_path("abcd1234")) != directory
    for manager in (first, second):
        os.rmdir(os.path.dirname(manager._socket_path("x")))


def test_directories_others_own_or_can_write_are_refused(tmp_path):
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    with pytest.raises(PermissionError, match="open to other users"):
        require_private_dir(str(open_dir))
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 1001, 1001)  # the tests run as root in CI
    with pytest.raises(PermissionError, match="another user"):
        require_private_dir(str(theirs))
    link = tmp_path / "link"
    link.symlink_to(theirs)
    with pytest.raises(PermissionError, match="not a directory"):
        require_private_dir(str(link))


async def test_a_runtime_dir_of_another_user_stops_the_manager(tmp_path):
    runtime_dir = tmp_path / "clustercraft"
    runtime_dir.mkdir(mode=0o700)
    os.chown(runtime_dir, 1001, 1001)
    manager = ClusterManager(runtime_dir=str(runtime_dir))
    with pytest.raises(PermissionError):
        await manager.start()


def test_links_from_hosts_are_checked_before_they_reach_an_href():
    cluster = {
        "dashboard_link": "javascript:alert(1)",
        "workers": [
            {"address": "a", "dashboard": "http://127.0.0.1:1/status"},
            {"address": "b", "dashboard": "data:text/html,<script>"},
        ],
    }
    checked = checked_cluster(cluster)
    assert checked["dashboard_link"] is None
    assert [w["dashboard"] for w in checked["workers"]] == ["http://127.0.0.1:1/status", None]
    assert checked_cluster({"dashboard_link": "https://h/status"})["dashboard_link"] == (
        "https://h/status"
    )
