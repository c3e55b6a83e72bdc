"""Comments are markdown, rendered with markdown-it-py (raw HTML off) and then
sanitised by nh3, so no script, event handler or javascript: link survives.

`@username` in running text (not in code, not inside a link, not the middle of an address such
as ada@example.org) is a mention: `mentions` lists the names a text mentions, and `render` links
the ones it is given (the users that exist) to their profiles. An unknown name stays plain text."""

import re
from collections.abc import Mapping

import nh3
from django.urls import reverse
from markdown_it import MarkdownIt
from markdown_it.token import Token

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("strikethrough")

_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
    "hr", "del", "s",
}

# Django's username characters are letters, digits and @.+-_ ; a mention's name does not end in
# "." (the end of a sentence) and does not follow a name character (an email address).
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*[\w+-])")


def _text_tokens(tokens: list[Token]):
    """The inline text tokens outside links, with the list that holds each and its index."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        depth = 0
        for index, token in enumerate(block.children):
            if token.type == "link_open":
                depth += 1
            elif token.type == "link_close":
                depth -= 1
            elif token.type == "text" and depth == 0:
                yield block.children, index, token


def mentions(text: str) -> list[str]:
    """The names `text` mentions, each once (compared case-insensitively), in order."""
    seen: dict[str, str] = {}
    for _, _, token in _text_tokens(_markdown.parse(text)):
        for name in _MENTION.findall(token.content):
            seen.setdefault(name.lower(), name)
    return list(seen.values())


def _linked(token: Token, usernames: Mapping[str, str]) -> list[Token]:
    """The text token split into text and profile links for the known names."""
    out: list[Token] = []
    position = 0
    for match in _MENTION.finditer(token.content):
        username = usernames.get(match.group(1).lower())
        if username is None:
            continue
        if match.start() > position:
            out.append(Token("text", "", 0, content=token.content[position:match.start()]))
        link = Token("link_open", "a", 1, attrs={"href": reverse("community:profile", args=[username]),
                                                 "class": "mention"})
        out += [link, Token("text", "", 0, content=f"@{username}"), Token("link_close", "a", -1)]
        position = match.end()
    if not out:
        return [token]
    if position < len(token.content):
        out.append(Token("text", "", 0, content=token.content[position:]))
    return out


def render(text: str, *, usernames: Mapping[str, str] | None = None) -> str:
    """The comment's HTML. `usernames`: lower-cased mentioned name -> the user's username, for the
    mentions to link (the users that exist)."""
    tokens = _markdown.parse(text)
    if usernames:
        for children, index, token in reversed(list(_text_tokens(tokens))):
            children[index:index + 1] = _linked(token, usernames)
    return nh3.clean(
        _markdown.renderer.render(tokens, _markdown.options, {}),
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        allowed_classes={"a": {"mention"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )
