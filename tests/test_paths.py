"""rescue.paths answers as pathlib's PurePosixPath does, for any text."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from hypothesis import example, given
from hypothesis import strategies as st

from rescue import paths

PATHISH = st.text(alphabet=st.sampled_from("/.a b\\:"), max_size=12) | st.text(max_size=12)


@given(PATHISH)
@example("")
@example("//")
@example("///a//b/./")
@example("//a")
@example("..")
@example("/..")
@example("a/../b")
def test_pure_parent_and_name_are_purepaths(text: str) -> None:
    posix = PurePosixPath(text)
    assert paths.pure(text) == str(posix)
    assert paths.parent(text) == str(posix.parent)
    assert paths.name(text) == posix.name


def test_like_gives_back_the_kind_it_was_given(tmp_path: Path) -> None:
    assert paths.like("a//b", "a/b") == "a/b"
    back = paths.like(tmp_path, str(tmp_path / "x"))
    assert isinstance(back, Path) and back == tmp_path / "x"
