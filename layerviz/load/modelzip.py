"""The zip container of a ``.keras`` file, checked before anything is unpacked.

Bounds come from :class:`layerviz.load.modelcheck.CheckLimits`: member count (read from the end
record before :mod:`zipfile` builds an object per entry), each member's size and compression
ratio, their total, allowed names only (no absolute or ``..`` paths), nothing encrypted.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import PurePosixPath
from typing import IO

from layerviz.errors import UnsafeModelError

__all__ = ["ALLOWED_MEMBERS", "check_central_directory", "check_members", "read_member"]

#: The members a ``.keras`` file has (besides ``assets/...``).
ALLOWED_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5"})

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes
_MIB = 1024 * 1024


def check_central_directory(handle: IO[bytes], size: int, name: str, max_members: int) -> None:
    """Refuse a zip whose directory is too large before :mod:`zipfile` parses it.

    ``zipfile`` builds an object per entry it finds in the directory, however many the end
    record declares, so the directory's byte size is bounded here first.
    """
    tail_size = min(size, _EOCD.size + 65535)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    handle.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise UnsafeModelError(
            f"{name} is not a .keras (zip) file, or it is truncated (no zip directory at its end)"
        )
    _, _, _, _, entries, directory_bytes, _, _ = _EOCD.unpack_from(tail, at)
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        raise UnsafeModelError(f"{name} uses ZIP64 records, which no .keras file of its size needs")
    if entries > max_members or directory_bytes > max_members * 1024:
        raise UnsafeModelError(
            f"{name} has {entries} zip members ({directory_bytes} bytes of directory); "
            f"a .keras file has at most {max_members}"
        )


def check_members(archive: zipfile.ZipFile, name: str, limits) -> dict:
    """The members by name, each checked: allowed path, sizes, ratio, not encrypted."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeModelError(
            f"{name} has {len(infos)} zip members; a .keras file has at most {limits.max_members}"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        _check_member_name(info.filename, name)
        if info.filename in members:
            raise UnsafeModelError(f"{name} holds {info.filename!r} twice")
        members[info.filename] = info
        _check_member_size(info, name, limits)
        total += info.file_size
        if total > limits.max_uncompressed_bytes:
            raise UnsafeModelError(
                f"{name} expands to more than {limits.max_uncompressed_bytes / 1e6:.0f} MB "
                "(a zip bomb?)"
            )
    if "config.json" not in members:
        raise UnsafeModelError(f"{name} has no config.json; is it a .keras file?")
    return members


def _check_member_name(member: str, name: str) -> None:
    parts = PurePosixPath(member.replace("\\", "/")).parts
    if (
        not member
        or member.startswith(("/", "\\"))
        or (len(member) > 1 and member[1] == ":")
        or ".." in parts
        or "\x00" in member
    ):
        raise UnsafeModelError(f"{name} holds a member with an unsafe path: {member[:200]!r}")
    if member not in ALLOWED_MEMBERS and not (parts and parts[0] == "assets"):
        raise UnsafeModelError(
            f"{name} holds {member[:200]!r}; a .keras file holds only config.json, "
            "metadata.json, model.weights.h5 and assets/"
        )


def _check_member_size(info: zipfile.ZipInfo, name: str, limits) -> None:
    if info.flag_bits & 0x1:
        raise UnsafeModelError(f"{name}: member {info.filename!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnsafeModelError(
            f"{name}: member {info.filename!r} uses compression method {info.compress_type}; "
            "only stored or deflated members are read"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _MIB and ratio > limits.max_ratio:
        raise UnsafeModelError(
            f"{name}: member {info.filename!r} expands {ratio:.0f} times "
            f"({info.compress_size} to {info.file_size} bytes); at most {limits.max_ratio:.0f} "
            "is accepted (a zip bomb?)"
        )


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, name: str) -> bytes:
    """A member's bytes, never more than ``cap`` (declared or actual)."""
    if info.file_size > cap:
        raise UnsafeModelError(
            f"{name}: {info.filename} is {info.file_size / 1e6:.1f} MB; at most "
            f"{cap / 1e6:.1f} MB is accepted"
        )
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UnsafeModelError(f"{name}: cannot read {info.filename}: {exc}") from None
    if len(data) > cap:
        raise UnsafeModelError(f"{name}: {info.filename} is larger than it declares")
    return data
