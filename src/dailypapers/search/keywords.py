"""Keywords for papers Hugging Face gave none, extracted with the site's embedder (no other model).

Candidates are the noun-ish phrases of 1-3 words in the title and abstract: runs of words between
punctuation and stopwords (function words, the verbs and adverbs abstracts are made of), not ending
in a past participle, not a bare number. Each candidate is embedded by the same embedder as the
papers, ranked by the cosine of its vector to the paper's vector, and picked by maximal marginal
relevance (MMR: similarity to the paper minus similarity to the phrases already picked), so the
keywords say different things. A phrase inside a picked one, or holding one, is skipped. Everything
is deterministic: the same text and vectors give the same keywords in the same order.
"""

import re
from dataclasses import dataclass

import numpy as np

KEYWORDS_PER_PAPER = 6
# MMR: weight of the similarity to the paper against the similarity to picked phrases.
RELEVANCE_WEIGHT = 0.6
# Candidates embedded per paper, the title's first, then the most frequent, then the earliest:
# the embedding of the phrases is what extraction costs.
MAX_CANDIDATES = 40
MAX_WORDS = 3
_EMBED_CHUNK = 128

_STOPWORDS = frozenset("""
a about above across after again against all almost along already also although always am among an and another
any anyone anything are around as at be became because become becomes been before being below between both but
by can cannot could did do does doing done down during each either else enough especially etc even ever every
few for from further furthermore had has have having he her here hers herself him himself his how however i if
in into is it its itself just least less like made make makes making many may me might more moreover most much
must my near nearly neither never nevertheless no nor not now of off often on once one only onto or other others
otherwise our ours ourselves out over own per perhaps rather same several she should since so some such than
that the their theirs them themselves then there thereby therefore these they this those though through
throughout thus to together too toward towards under unlike until up upon us very via was we well were what
whatever when where whereas whether which while who whom whose why will with within without would yet you your
yours e.g i.e al et
able achieve achieved achieves achieving across address addresses addressing aim aims allow allows allowing
apply applied applies applying approach approaches based benefit better best bring brings called can
compare compared comparing conduct conducted consider considered consist consists contain contains
demonstrate demonstrated demonstrates demonstrating describe described design designed designs despite
develop developed developing discuss effective effectively enable enabled enables enabling ensure ensures
establish evaluate evaluated evaluates evaluating existing experiment experiments explore explored explores
extensive extensively find finding findings finds first focus focuses following found furthermore gain gains
give given gives good great help helps high higher highly however identify important improve improved improves
improving include includes including increase increased increasingly introduce introduced introduces
introducing investigate investigated investigates key lead leads leading learn learns leverage leverages
leveraging limited lot low lower main making method methods new novel numerous obtain obtained offer offers
outperform outperforming outperforms paper particular particularly perform performed performs present
presented presents previous primarily prior propose proposed proposes proposing provide provided provides
providing range recent recently reduce reduced reduces reducing related remain remains report reported require
required requires result resulting results reveal reveals second see seen set show showed showing shown shows
significant significantly simple simply specific specifically state strong study studies studied success
successfully suggest suggests superior take takes third three two typically use used uses using various
versus way ways whereas widely work works yield yields four five still lack lacks overlook overlooks struggle
struggles exploring enhancing adding taking unlock unlocks unlocking unleashing rethinking revisiting boost boosts
boosting bridging empowering advancing mitigating tackling harnessing beyond
""".split())
# Adverbs: a suffix is enough (words such as "anomaly" or "family" end otherwise).
_ADVERB = re.compile(r"(?:ally|ively|ously|edly|ingly|ently|antly|fully|ably|ibly|arly)$")
# A run of text between punctuation; words inside it (letters and digits, with inner hyphens or dots
# as in "GPT-4" and "Llama-3.1").
_SEGMENT_BREAK = re.compile(r"""[,;:!?()\[\]{}"“”‘’<>|/=+*~]|\.(?:\s|$)|\s[-–—]\s|\$[^$]*\$""")
_WORD = re.compile(r"[^\W_]+(?:[-.'][^\W_]+)*")


@dataclass(frozen=True)
class Candidate:
    phrase: str  # as shown (surface form; words capitalised only as a sentence or a title starts are lowered)
    key: str  # lower case, for matching
    words: frozenset[str]
    in_title: bool
    count: int
    first: int


def _shown(word: str) -> str:
    """"Models" -> "models", "Multi-Turn" -> "multi-turn"; "LLMs", "ConvLLaVA", "ViT", "GPT-4" stay."""
    return "-".join(p.lower() if p[:1].isupper() and p[1:].islower() else p for p in word.split("-"))


def _is_breaking(word: str) -> bool:
    low = word.lower()
    return (low in _STOPWORDS or len(low) < 2 or bool(_ADVERB.search(low))
            or not any(ch.isalpha() for ch in low))


def candidates(title: str, abstract: str) -> list[Candidate]:
    """The noun-ish phrases of 1-3 words in the title and abstract, at most MAX_CANDIDATES: those in
    the title first, then by how often they occur, then by where they first occur."""
    found: dict[str, dict] = {}
    position = 0
    for part, text in (("title", title), ("abstract", abstract)):
        for segment in _SEGMENT_BREAK.split(text or ""):
            run: list[str] = []
            for word in [*_WORD.findall(segment), ""]:  # "" ends the last run
                if word and not _is_breaking(word):
                    run.append(word)
                    continue
                for start in range(len(run)):
                    for size in range(1, MAX_WORDS + 1):
                        gram = run[start:start + size]
                        if len(gram) < size:
                            break
                        last = gram[-1].lower()
                        if last.endswith("ed") and not last.endswith("eed") and len(last) > 4:
                            continue  # "... trained", "... based": not a noun phrase
                        phrase = " ".join(_shown(w) for w in gram)
                        key = phrase.lower()
                        entry = found.setdefault(key, {"phrase": phrase, "in_title": False, "count": 0,
                                                       "first": position, "words": frozenset(key.split())})
                        entry["count"] += 1
                        entry["in_title"] |= part == "title"
                        position += 1
                run = []
    ranked = sorted(found.items(), key=lambda kv: (not kv[1]["in_title"], -kv[1]["count"], kv[1]["first"]))
    return [Candidate(key=key, **fields) for key, fields in ranked[:MAX_CANDIDATES]]


def pick(*, paper_vector: np.ndarray, phrases: list[Candidate], phrase_vectors: np.ndarray,
         count: int = KEYWORDS_PER_PAPER) -> list[str]:
    """Maximal marginal relevance over the candidates (rows of phrase_vectors, L2-normalised)."""
    if not phrases:
        return []
    relevance = phrase_vectors @ paper_vector
    redundancy = np.full(len(phrases), -1.0, dtype=np.float32)
    open_ = np.ones(len(phrases), dtype=bool)
    picked: list[int] = []
    while len(picked) < count and open_.any():
        score = RELEVANCE_WEIGHT * relevance - (1 - RELEVANCE_WEIGHT) * np.maximum(redundancy, 0)
        best = int(np.argmax(np.where(open_, score, -np.inf)))  # ties: the earlier candidate
        picked.append(best)
        open_[best] = False
        redundancy = np.maximum(redundancy, phrase_vectors @ phrase_vectors[best])
        for i in np.flatnonzero(open_):
            if phrases[i].words <= phrases[best].words or phrases[best].words <= phrases[i].words:
                open_[i] = False  # inside the picked phrase, or holding it: nothing new
    return [phrases[i].phrase for i in picked]


def extract(*, papers: list[tuple[str, str, np.ndarray]], embedder) -> list[list[str]]:
    """Keywords for each (title, abstract, paper vector); the phrases of the whole batch are embedded
    together, each distinct phrase once."""
    per_paper = [candidates(title, abstract) for title, abstract, _ in papers]
    distinct = sorted({c.phrase for cands in per_paper for c in cands})
    if not distinct:
        return [[] for _ in papers]
    row_of = {phrase: i for i, phrase in enumerate(distinct)}
    # In chunks of similar length: a batch is padded to its longest phrase.
    by_length = sorted(range(len(distinct)), key=lambda i: (len(distinct[i]), i))
    vectors = np.zeros((len(distinct), embedder.dim), dtype=np.float32)
    for start in range(0, len(by_length), _EMBED_CHUNK):
        rows = by_length[start:start + _EMBED_CHUNK]
        # As papers are embedded (what their vectors are compared with), in batches that leave each phrase's
        # vector as it is alone; the query path runs each text alone (search.embedders).
        vectors[rows] = embedder.embed_documents([distinct[i] for i in rows])
    return [
        pick(paper_vector=vector, phrases=cands, phrase_vectors=vectors[[row_of[c.phrase] for c in cands]])
        if cands else []
        for (_, _, vector), cands in zip(papers, per_paper)
    ]
