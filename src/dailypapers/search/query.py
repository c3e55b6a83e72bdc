"""What a search query says before any index is asked: an explicit author filter, whether the
embedder can read it, and the nearest indexed word to a misspelt one."""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

# author:"Ada Lovelace" or author:Lovelace (one word), anywhere in the query.
_AUTHOR = re.compile(r'\bauthor:\s*(?:"([^"]*)"?|(\S+))', re.I)


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # what is left to search for
    author: str  # the explicit author filter, "" if none


def parse_query(query: str) -> ParsedQuery:
    author = ""
    for quoted, bare in _AUTHOR.findall(query):
        author = " ".join((quoted or bare).split()) or author
    return ParsedQuery(text=" ".join(_AUTHOR.sub(" ", query).split()), author=author)


def readable_by_embedder(text: str) -> bool:
    """The embedder (all-MiniLM-L6-v2) learnt English: a query with no Latin letter (Chinese, Cyrillic,
    a lone Greek letter) has no meaningful vector, so it is matched by its words only, or not at all."""
    return any(ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def edit_distance(a: str, b: str, *, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of two neighbours is one edit), or limit + 1 past limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def closest_word(word: str, *, texts: list[str], distance: int) -> str:
    """The word of these texts nearest to `word` (within `distance` edits, most frequent first), as written
    there in lower case; "" if none. The texts are those of the papers a fuzzy query found."""
    counts = Counter(w for text in texts for w in re.findall(r"\w+", text.lower()))
    scored = [(edit_distance(word, w, limit=distance), -n, w) for w, n in counts.items() if w != word]
    best = min((s for s in scored if s[0] <= distance), default=None)
    return best[2] if best else ""
