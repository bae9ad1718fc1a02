"""Folders of labelled clips, DIR/<class>/*.wav (and audio.AUDIO_SUFFIXES, any case): what
the commands that read a user's recordings share (evaluate --data, dataset make --recordings,
dataset timbre, a config's [cache] extra)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kwshost.errors import KwsError


def class_files(root: Path, names: Iterable[str]) -> list[Path]:
    """The audio files of ROOT/<name>/ for each name, folder by folder, each sorted. Audio in
    a subfolder of one (DIR/alexa/take2/x.wav) or in a format not read (.m4a, .wma) is
    refused, named, where it would otherwise be left out without a word."""
    from kwshost.audio import AUDIO_SUFFIXES, audio_files, is_audio_file, is_resource_fork

    out: list[Path] = []
    for name in names:
        folder = root / name
        if not folder.is_dir():
            continue
        for sub in sorted(d for d in folder.iterdir() if d.is_dir()):
            nested = next((f for f in sorted(sub.rglob("*"))
                           if f.is_file() and is_audio_file(f)), None)
            if nested is not None:
                raise KwsError(f"{nested}: recordings in a subfolder of {folder} are not read",
                               hint=f"put each class's recordings in {root}/<class>/ itself, "
                                    "no subfolders")
        unread = sorted(f for f in folder.iterdir()
                        if f.is_file() and not is_resource_fork(f)
                        and f.suffix.lower() in OTHER_AUDIO)
        if unread:
            raise KwsError(f"{unread[0]}: {unread[0].suffix} recordings are not read "
                           f"({len(unread)} in {folder}; {', '.join(AUDIO_SUFFIXES)} are)",
                           hint=f"convert them to WAV, e.g. ffmpeg -i {unread[0].name} "
                                f"{unread[0].stem}.wav")
        out += audio_files(folder)
    return out


def labelled_files(root: Path, classes: list[str]) -> tuple[list[tuple[Path, int]], list[str]]:
    """(file, class index) of ROOT/<class>/ recordings, class by class (class_files: any in a
    subfolder or an unread format refused), and the names of ROOT's other folders that hold
    audio, which the caller refuses in its own words (no files are listed then)."""
    from kwshost.audio import audio_files

    strays = sorted(d.name for d in root.iterdir()
                    if d.is_dir() and d.name not in classes and audio_files(d))
    if strays:
        return [], strays
    return [(f, i) for i, c in enumerate(classes) for f in class_files(root, [c])], []


# Recorders' and phones' formats libsndfile does not read (AUDIO_SUFFIXES are read): a folder
# of them beside WAVs would lose them without a word.
OTHER_AUDIO = {".m4a", ".aac", ".wma", ".amr", ".webm", ".3gp"}
