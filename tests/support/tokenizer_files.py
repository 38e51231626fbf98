"""Copies of the published tiktoken files, for tests that point the gateway at a directory of its own."""

from __future__ import annotations

from pathlib import Path

from gateway.routing.encodings import CL100K_BASE, O200K_BASE, litellm_tokenizers_dir

# tiktoken's cache names: the SHA-1 of each file's download URL.
FILE_NAMES = {
    CL100K_BASE: "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    O200K_BASE: "fb374d419588a4632f3f557e76b4b70aebbca790",
}


def copy_published_files(to: Path) -> dict[str, Path]:
    """Encoding name -> its copy in `to`."""
    source = litellm_tokenizers_dir()
    assert source is not None
    copied = {}
    for name, file in FILE_NAMES.items():
        copied[name] = to / file
        copied[name].write_bytes((source / file).read_bytes())
    return copied
