import hashlib

import pytest
from thermofw import BOARDS, KEY, Build, artifact


def test_the_image_carries_its_manifest_and_is_reproducible():
    one, two = Build("2.1.0").image(), Build("2.1.0").image()
    assert one == two
    size = int.from_bytes(one[:4], "big")
    assert b'"version": "2.1.0"' in one[4 : 4 + size]


def test_the_artifact_verifies_with_the_release_key():
    fw = artifact(Build("2.1.0"))
    assert fw.verify(fw.data, KEY) == ""
    assert fw.digest == hashlib.sha256(fw.data).hexdigest()


def test_a_corrupt_artifact_fails_verification():
    fw = artifact(Build("2.1.0"), corrupt=True)
    assert fw.verify(fw.data, KEY) == "sha256 mismatch"


@pytest.mark.parametrize("boards", [("A", "C"), ("A",)])
def test_a_board_without_drivers_boot_loops(boards):
    fw = artifact(Build("2.1.1", boards=boards))
    assert fw.boot_loop_on == frozenset(set(BOARDS) - set(boards))
