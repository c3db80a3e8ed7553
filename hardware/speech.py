"""What an announcement says, as Vietnamese words and as the names of the recorded clips that say them.

Numbers are read the way a clerk reads them aloud ("mười hai", never "không một hai"). num2words
(lang="vi") agrees with these rules below one thousand but drops "không trăm" above it (it says
"một nghìn lẻ hai mươi bốn" for 1024), so the rules are written out here, where they can also name a
clip for every word. Clip names are ASCII so a commune can replace the files from any computer.
"""

from __future__ import annotations

import re

INTRO = "moi_cong_dan_co_so_thu_tu"
TO_COUNTER = "den_quay_so"
CHIME = "chime"

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]

#: Letter names as a Vietnamese clerk spells a ticket prefix ("B012" → "bê mười hai").
LETTER_NAMES = {
    "A": "a",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e lờ",
    "M": "em mờ",
    "N": "en nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e rờ",
    "S": "ét xì",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê kép",
    "X": "ích xì",
    "Y": "i dài",
    "Z": "dét",
}

#: Clip name → the words it says (what espeak-ng is given, and what a commune records).
CLIP_TEXT: dict[str, str] = {
    INTRO: "Mời công dân có số thứ tự",
    TO_COUNTER: "đến quầy số",
    "khong": "không",
    "mot": "một",
    "mot_sac": "mốt",
    "hai": "hai",
    "ba": "ba",
    "bon": "bốn",
    "nam": "năm",
    "lam": "lăm",
    "sau": "sáu",
    "bay": "bảy",
    "tam": "tám",
    "chin": "chín",
    "muoi": "mười",
    "muoi_ngang": "mươi",
    "tram": "trăm",
    "le": "lẻ",
    "nghin": "nghìn",
}
_ASCII_LETTER = {"Ă": "a_breve", "Â": "a_circumflex", "Đ": "dd", "Ê": "e_circumflex", "Ô": "o_circumflex"}
_ASCII_LETTER |= {"Ơ": "o_horn", "Ư": "u_horn"}
LETTER_CLIP = {letter: f"letter_{_ASCII_LETTER.get(letter, letter.lower())}" for letter in LETTER_NAMES}
_LETTER_CLIPS = {clip: LETTER_NAMES[letter] for letter, clip in LETTER_CLIP.items()}
CLIP_TEXT |= _LETTER_CLIPS

#: A number word → its clip ("mười" → "muoi", "mươi" → "muoi_ngang").
WORD_CLIP = {text: name for name, text in CLIP_TEXT.items() if name not in (INTRO, TO_COUNTER, *_LETTER_CLIPS)}


def _below_thousand(n: int, full: bool) -> list[str]:
    """0 < n < 1000. ``full`` = a higher group came before, so a missing hundreds digit is "không trăm"."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("lẻ")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        else:
            words.append(DIGITS[units])
    return words


def number_words(n: int) -> list[str]:
    """Vietnamese words for 0 ≤ n < 1,000,000: 5 → năm, 15 → mười lăm, 21 → hai mươi mốt, 105 → một trăm lẻ năm."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"cannot read {n} aloud: ticket and counter numbers must be between 0 and 999999")
    if n == 0:
        return ["không"]
    thousands, rest = divmod(n, 1000)
    words = _below_thousand(thousands, full=False) + ["nghìn"] if thousands else []
    if rest:
        words += _below_thousand(rest, full=bool(thousands))
    return words


def display_clips(display_number: str) -> list[str]:
    """ "A012" → ["letter_a", "muoi", "hai"]: the prefix letter by letter, then the number as one number."""
    match = re.fullmatch(r"\s*(\D*?)\s*(\d*)\s*", display_number)
    prefix, digits = (match.group(1), match.group(2)) if match else (display_number, "")
    clips = [LETTER_CLIP[ch] for ch in prefix.upper() if ch in LETTER_CLIP]
    if digits:
        clips += number_clips(int(digits))
    if not clips:
        raise ValueError(f"ticket number {display_number!r} has nothing to read aloud")
    return clips


def number_clips(n: int) -> list[str]:
    return [WORD_CLIP[word] for word in number_words(n)]


def display_words(display_number: str) -> list[str]:
    """ "A012" → ["a", "mười", "hai"]."""
    return [CLIP_TEXT[name] for name in display_clips(display_number)]


def announcement_groups(display_number: str, counter: int) -> list[list[str]]:
    """The clip names, in phrases: chime | intro | ticket number | "đến quầy số" | counter number."""
    return [[CHIME], [INTRO], display_clips(display_number), [TO_COUNTER], number_clips(int(counter))]


def clip_sequence(display_number: str, counter: int) -> list[str]:
    """Every clip of one announcement, in the order they are played."""
    return [name for group in announcement_groups(display_number, counter) for name in group]


def announcement_text(display_number: str, counter: int) -> str:
    """The sentence as spoken: "Mời công dân có số thứ tự a mười hai đến quầy số một"."""
    groups = announcement_groups(display_number, counter)[1:]
    return " ".join(CLIP_TEXT[name] for group in groups for name in group)
