"""Comments are markdown, rendered with markdown-it-py (raw HTML off) and then
sanitised by nh3, so no script, event handler or javascript: link survives.
Bare http(s) URLs become links too (papers.linkify finds them, as in abstracts),
outside code and outside links already written."""

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from dailypapers.papers.linkify import REL, split_urls

_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
    "hr", "del", "s",
}


def _link_bare_urls(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "://" not in token.content:
                children.append(token)
                continue
            for piece, is_url in split_urls(token.content):
                if is_url:
                    opening = Token("link_open", "a", 1, attrs={"href": piece})
                    children += [opening, Token("text", "", 0, content=piece), Token("link_close", "a", -1)]
                else:
                    children.append(Token("text", "", 0, content=piece))
        block.children = children


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("strikethrough")
_markdown.core.ruler.push("link_bare_urls", _link_bare_urls)


def render(text: str) -> str:
    return nh3.clean(
        _markdown.render(text),
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=REL,
    )
