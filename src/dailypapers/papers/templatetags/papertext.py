"""`{{ text|math }}`: escape text and mark its TeX math for KaTeX.

KaTeX's auto-render pairs any two dollar signs, which turns prose like "costs
<$10 ... about $1.47 million" into garbage. This uses pandoc's rule instead: an
opening $ has a non-space after it, a closing $ has a non-space before it and no
digit after it; \\$ is a literal dollar. Math becomes <span class="tex">, which
site.js renders; without JavaScript the TeX source stays readable.
"""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dailypapers.papers.linkify import link, split_urls

register = template.Library()

_MATH = re.compile(
    r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$"  # $$display$$
    r"|(?<![\\$])\$(?P<inline>[^\s$](?:[^$]*?[^\s\\$])?)\$(?![\d$])"  # $inline$, pandoc's rule
    r"|\\\((?P<paren>.+?)\\\)",  # \( inline \)
    re.S,
)


@register.filter(name="math")
def math(text: str | None, highlight: re.Pattern | str | None = None) -> SafeString:
    """`highlight`, a compiled pattern, wraps its matches outside math in <mark>."""
    return _math(text, highlight, links=False)


@register.filter(name="math_linked")
def math_linked(text: str | None, highlight: re.Pattern | str | None = None) -> SafeString:
    """As `math`, and the http(s) URLs outside math are links (never inside another link: not for
    titles, which are links on the cards)."""
    return _math(text, highlight, links=True)


@register.filter(name="linked")
def linked(text: str | None) -> SafeString:
    """Plain text (no maths) escaped, its http(s) URLs made links."""
    return mark_safe(_linked(text or "", None))


def _math(text: str | None, highlight: re.Pattern | str | None, *, links: bool) -> SafeString:
    if not text:
        return mark_safe("")
    plain = _linked if links else _plain
    out: list[str] = []
    last = 0
    for match in _MATH.finditer(text):
        out.append(plain(text[last:match.start()], highlight))
        tex = match["display"] or match["inline"] or match["paren"]
        display = "1" if match["display"] else "0"
        out.append(f'<span class="tex" data-display="{display}">{escape(tex)}</span>')
        last = match.end()
    out.append(plain(text[last:], highlight))
    return mark_safe("".join(out))


def _linked(text: str, highlight: re.Pattern | str | None) -> str:
    return "".join(
        link(piece.replace("\\$", "$"), _plain(piece, highlight)) if is_url else _plain(piece, highlight)
        for piece, is_url in split_urls(text)
    )


def _plain(text: str, highlight: re.Pattern | str | None) -> str:
    text = text.replace("\\$", "$")
    if not isinstance(highlight, re.Pattern):  # a template passes "" for an unset variable
        return escape(text)
    out: list[str] = []
    last = 0
    for match in highlight.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


@register.filter(name="plaintext")
def plaintext(text: str | None) -> str:
    """Text where HTML cannot render maths (the page title, meta description, plain lists): TeX
    left as written, but an escaped dollar shown as the dollar it is, as the rendered heading
    shows it ("\\$OneMillion-Bench" -> "$OneMillion-Bench"). Autoescaped by the template."""
    return (text or "").replace("\\$", "$")


@register.filter(name="get_item")
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None
