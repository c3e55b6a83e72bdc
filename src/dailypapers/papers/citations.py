"""RIS and CSL-JSON for papers, beside bibtex.py's BibTeX, from the same BibPaper and keys.

RIS (Zotero, EndNote, Mendeley): a preprint is type UNPB with the arXiv URL; CSL-JSON (Zotero,
Pandoc, citeproc): type "article" with publisher arXiv and number arXiv:<id>, as CSL 1.0.2
advises for preprints. Names are split at the last space unless written "Family, Given".
"""

from collections.abc import Sequence

from .bibtex import BibPaper, keys


def split_name(name: str) -> tuple[str, str]:
    """(family, given)."""
    name = " ".join(name.split())
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return family, given
    given, _, family = name.rpartition(" ")
    return family, given


def ris(papers: Sequence[BibPaper]) -> str:
    records = []
    for paper, key in zip(papers, keys(papers), strict=True):
        lines = ["TY  - UNPB", f"ID  - {key}", f"TI  - {' '.join(paper.title.split())}"]
        for name in paper.authors:
            family, given = split_name(name)
            lines.append(f"AU  - {family}, {given}" if given else f"AU  - {family}")
        if paper.published:
            lines += [f"PY  - {paper.published.year}", f"DA  - {paper.published:%Y/%m/%d}"]
        elif paper.year:
            lines.append(f"PY  - {paper.year}")
        lines += ["PB  - arXiv", f"M1  - arXiv:{paper.arxiv_id}", f"UR  - https://arxiv.org/abs/{paper.arxiv_id}"]
        if paper.primary_category:
            lines.append(f"KW  - {paper.primary_category}")
        if paper.doi:
            lines.append(f"DO  - {paper.doi}")
        lines.append("ER  - ")
        records.append("\r\n".join(lines) + "\r\n")  # RIS lines end in CR LF
    return "\r\n".join(records)


def csl_json(papers: Sequence[BibPaper]) -> list[dict]:
    items = []
    for paper, key in zip(papers, keys(papers), strict=True):
        item: dict = {
            "id": key, "type": "article", "title": " ".join(paper.title.split()),
            "author": [
                {"family": family, "given": given} if given else {"literal": family}
                for family, given in map(split_name, paper.authors)
            ],
            "publisher": "arXiv", "number": f"arXiv:{paper.arxiv_id}",
            "URL": f"https://arxiv.org/abs/{paper.arxiv_id}",
        }
        if paper.published:
            item["issued"] = {"date-parts": [[paper.published.year, paper.published.month, paper.published.day]]}
        elif paper.year:
            item["issued"] = {"date-parts": [[paper.year]]}
        if paper.doi:
            item["DOI"] = paper.doi
        if paper.primary_category:
            item["keyword"] = paper.primary_category
        items.append(item)
    return items
