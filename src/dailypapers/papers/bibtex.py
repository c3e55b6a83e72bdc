"""BibTeX for papers, in arXiv's own style:

    @misc{vaswani2017attentionneed,
          title={Attention Is All You Need},
          author={Ashish Vaswani and Noam Shazeer and ...},
          year={2017},
          eprint={1706.03762},
          archivePrefix={arXiv},
          primaryClass={cs.CL},
          url={https://arxiv.org/abs/1706.03762},
    }

Keys are stable: made from the paper alone (first author's surname, year, the first two
significant title words), so the same paper gets the same key in every export; within one file
a key two papers share gets "a", "b", … in arXiv-id order. Text is LaTeX-escaped outside maths
($…$ stays as arXiv has it), and words with inner capitals (BERT, LLaMA) are braced so that
bibliography styles that lowercase titles keep them.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

# Words the key skips (it takes the first two others), as arXiv's generator does: English stopwords.
_KEY_STOPWORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being below "
    "between both but by can could did do does doing down during each few for from further had has have "
    "having he her here hers herself him himself his how i if in into is it its itself just me more most "
    "my myself no nor not now of off on once only or other our ours ourselves out over own same she "
    "should so some such than that the their theirs them themselves then there these they this those "
    "through to too toward towards under until up us very via vs was we were what when where which while "
    "who whom why will with without would you your yours yourself yourselves".split()
)
# Maths as arXiv writes it: $…$ (not \$), kept verbatim.
_MATH = re.compile(r"(?<!\\)\$.*?(?<!\\)\$")
# In prose: a TeX command or an escaped special character stays; anything else special is escaped.
_PROSE_TOKEN = re.compile(r"\\(?:[A-Za-z]+|[&%$#_{}~^\"'`.=])|\\|[&%$#_~^{}]")
_PROSE_ESCAPES = {
    "\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
}
# A word (not a TeX command's name): braced when it has a capital after its first character.
_WORD = re.compile(r"(?<![\\{\w])([A-Za-z0-9][\w\-]*)")


@dataclass(frozen=True)
class BibPaper:
    """What an entry needs: the paper's own fields and its authors' names in order."""

    arxiv_id: str
    title: str
    authors: Sequence[str]
    year: int | None
    primary_category: str
    doi: str = ""
    published: date | None = None  # the arXiv v1 date, for formats that carry a full date (RIS, CSL)


# Latin letters that Unicode doesn't decompose into a base letter and an accent.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
                                 "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "ı": "i"})


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _surname(name: str) -> str:
    name = name.strip()
    if "," in name:  # "Lovelace, Ada"
        return name.split(",", 1)[0]
    parts = name.split()
    return parts[-1] if parts else ""


def base_key(paper: BibPaper) -> str:
    """arXiv's key: surname + year + first two significant title words, lowercase ASCII."""
    surname = _ascii_letters(_surname(paper.authors[0])) if paper.authors else ""
    plain_title = _MATH.sub(" ", paper.title)
    words = [_ascii_letters(w) for w in re.split(r"[\s\-/:]+", plain_title)]
    significant = [w for w in words if w and w not in _KEY_STOPWORDS][:2]
    key = f"{surname or 'anonymous'}{paper.year or ''}{''.join(significant)}"
    return key


def _balanced(text: str) -> bool:
    """Braces nest, counted as BibTeX counts them: every brace, escaped or not."""
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def escape(text: str, *, protect_capitals: bool = False) -> str:
    """LaTeX-escape text for a BibTeX field, leaving maths and TeX commands as arXiv has them.

    Whatever the text, the field is well formed: when its braces don't nest (counted as BibTeX
    counts them), every brace and dollar becomes a literal character instead.
    """
    text = " ".join(text.split())
    keep_braces = _balanced(text)
    out, last = [], 0
    for math in _MATH.finditer(text) if keep_braces else ():
        out.append(_escape_prose(text[last:math.start()], keep_braces=True, protect_capitals=protect_capitals))
        out.append(math.group())
        last = math.end()
    out.append(_escape_prose(text[last:], keep_braces=keep_braces, protect_capitals=protect_capitals))
    return "".join(out)


def _escape_prose(text: str, *, keep_braces: bool, protect_capitals: bool) -> str:
    def token(match: re.Match) -> str:
        value = match.group()
        if keep_braces and value in ("{", "}", "\\{", "\\}"):
            return value
        if len(value) > 1 and (value[1].isalpha() or value[1] in "&%$#_~^\"'`.="):
            return value  # a command (\emph, \"o) or an escaped special character
        if value in ("\\{", "\\}"):
            return _PROSE_ESCAPES[value[1]]
        return _PROSE_ESCAPES.get(value, "\\" + value)

    pieces = []
    for part in re.split(r"(\\[A-Za-z]+)", text):  # commands' names are never braced as words
        if part.startswith("\\") and part[1:].isalpha():
            pieces.append(part)
            continue
        part = _PROSE_TOKEN.sub(token, part)
        if protect_capitals:
            part = _WORD.sub(lambda m: f"{{{m[1]}}}" if _needs_braces(m[1]) else m[1], part)
        pieces.append(part)
    return "".join(pieces)


def _needs_braces(word: str) -> bool:
    """A word with a capital after its first character (BERT, LLaMA, GPT-4, ImageNet)."""
    return any(char.isupper() for char in word[1:])


def _author_field(names: Sequence[str]) -> str:
    # " and " separates names in BibTeX: a name that contains the word is braced whole.
    return " and ".join(
        f"{{{escape(name)}}}" if re.search(r"\band\b", name, re.I) else escape(name) for name in names
    )


def entry(paper: BibPaper, *, key: str | None = None) -> str:
    fields = [
        ("title", escape(paper.title, protect_capitals=True)),
        ("author", _author_field(paper.authors)),
        ("year", str(paper.year) if paper.year else ""),
        ("eprint", paper.arxiv_id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", paper.primary_category),
        ("doi", paper.doi),
        ("url", f"https://arxiv.org/abs/{paper.arxiv_id}"),
    ]
    body = "".join(f"      {name}={{{value}}},\n" for name, value in fields if value)
    return f"@misc{{{key or base_key(paper)},\n{body}}}\n"


def keys(papers: Sequence[BibPaper]) -> list[str]:
    """One key per paper, unique within the list: shared base keys get a, b, … in arXiv-id order."""
    bases = [base_key(p) for p in papers]
    shared = {key for key, count in Counter(bases).items() if count > 1}
    suffix: dict[int, str] = {}
    for key in shared:
        members = sorted((i for i, b in enumerate(bases) if b == key), key=lambda i: papers[i].arxiv_id)
        for n, index in enumerate(members):
            suffix[index] = _letters(n)
    return [base + suffix.get(i, "") for i, base in enumerate(bases)]


def _letters(n: int) -> str:
    """0 → a, 25 → z, 26 → aa, …"""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def bibliography(papers: Iterable[BibPaper]) -> str:
    papers = list(papers)
    return "\n".join(entry(p, key=k) for p, k in zip(papers, keys(papers), strict=True))
