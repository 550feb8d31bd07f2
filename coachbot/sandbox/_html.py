"""Telegram's ``parse_mode="HTML"``, re-implemented strictly for the Bot API emulator.

The rules and error details follow Telegram's own parser (tdlib's ``parse_html``) so that a
message the emulator accepts renders the same way on Telegram, and a message Telegram refuses
with ``Bad Request: can't parse entities: <detail>`` is refused here with the same detail.

Where Telegram is lenient, this parser deliberately is not, because a message that only works
thanks to leniency is a bug waiting to happen (the Bot API documentation asks for all of it):

* a bare ``&`` or ``>`` is an error (Telegram shows them literally), and so are ``<`` and ``>``
  inside attribute values;
* only ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` ``&#N;`` ``&#xN;`` are entities, always with ``;``;
* attributes other than the documented ones, duplicated attributes, ``<a>`` without a valid
  absolute ``href``, ``<code class>`` other than ``language-*`` and the nameless end tag ``</>``
  are errors (Telegram ignores or guesses);
* tags inside ``<code>``, links inside links, quotes inside quotes and anything in ``<pre>``
  other than one ``<code>`` wrapping all of it are errors (Telegram silently drops them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["EntityParseError", "ParsedText", "parse_html", "parse_html_entities", "utf16_len"]

_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}
_SUPPORTED_TAGS = frozenset(_SIMPLE_ENTITY_TYPES) | {"a", "pre", "blockquote", "tg-emoji"}
_ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "span": frozenset({"class"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "blockquote": frozenset({"expandable"}),
}
_VALUELESS_ATTRIBUTES = frozenset({("blockquote", "expandable")})
_NOT_SELF_NESTABLE = frozenset({"a", "blockquote"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton", "mailto"})

_PLAIN_RUN = re.compile(r"[^<>&]+")
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6})|([A-Za-z]+));")
_SPACES = " \t\n\r\f\v"
_NAME_STOPS = _SPACES + ">"
_ATTRIBUTE_NAME_STOPS = _SPACES + "=>"
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``detail`` is what Telegram would report."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class ParsedText:
    """Text as Telegram displays it, plus its MessageEntity objects (offsets in UTF-16)."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()


def parse_html(text: str) -> str:
    """Return the plain text Telegram would display, or raise :class:`EntityParseError`."""
    return parse_html_entities(text).text


def parse_html_entities(text: str) -> ParsedText:
    """Like :func:`parse_html`, also returning the entities Telegram would attach."""
    return _HtmlParser(text).parse()


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    attributes: dict[str, str]
    offset: int  # UTF-16 offset in the output where the tag's content starts
    source_index: int  # where the start tag begins in the source, for error details
    pre_language: str | None = None  # set on <pre> by its <code class="language-x">
    code_closed: bool = False  # set on <pre> once its <code> child has ended
    children: int = 0


class _HtmlParser:
    """One pass over the source; the state is the output so far and the open tags."""

    def __init__(self, source: str) -> None:
        self._src = source
        self._pos = 0
        self._out: list[str] = []
        self._utf16 = 0
        self._open: list[_OpenTag] = []
        self._entities: list[tuple[int, int, dict[str, Any]]] = []

    def parse(self) -> ParsedText:
        while self._pos < len(self._src):
            char = self._src[self._pos]
            if char == "<":
                self._tag()
            elif char == "&":
                self._emit(self._entity())
            elif char == ">":
                raise self._error('Character ">" must be escaped as "&gt;"', self._pos)
            else:
                run = _PLAIN_RUN.match(self._src, self._pos)
                assert run is not None  # char is none of "<>&"
                self._emit(run.group())
                self._pos = run.end()
        if self._open:
            name = self._open[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        ordered = sorted(self._entities, key=lambda entity: (entity[0], -entity[1]))
        entities = tuple(
            {"offset": offset, "length": length, **fields} for offset, length, fields in ordered
        )
        return ParsedText("".join(self._out), entities)

    # -- output -------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        """Append displayed text, refusing text after the <code> that must fill a <pre>."""
        top = self._open[-1] if self._open else None
        if top is not None and top.name == "pre" and top.code_closed:
            raise self._error('Tag "pre" must contain only one "code" tag', top.source_index)
        self._out.append(text)
        self._utf16 += utf16_len(text)

    def _entity(self) -> str:
        """Decode the character reference at the cursor and move past it."""
        match = _ENTITY.match(self._src, self._pos)
        if match is None:
            raise self._error('Character "&" must be escaped as "&amp;"', self._pos)
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in _NAMED_ENTITIES:
                raise self._error(f'Unsupported HTML entity "{match.group()}"', self._pos)
            decoded = _NAMED_ENTITIES[name]
        else:
            code = int(decimal, 10) if decimal is not None else int(hexadecimal, 16)
            if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self._error(f'Invalid character reference "{match.group()}"', self._pos)
            decoded = chr(code)
        self._pos = match.end()
        return decoded

    # -- tags ---------------------------------------------------------------------------

    def _tag(self) -> None:
        begin = self._pos
        if self._src.startswith("</", begin):
            self._end_tag(begin)
        else:
            self._start_tag(begin)

    def _start_tag(self, begin: int) -> None:
        self._pos = begin + 1
        name = self._scan_name().lower()
        if self._at_end():
            raise self._error("Unclosed start tag", begin)
        if name not in _SUPPORTED_TAGS:
            raise self._error(f'Unsupported start tag "{name}"', begin)
        attributes = self._attributes(name, begin)
        self._check_nesting(name, begin)
        self._check_attributes(name, attributes, begin)
        if self._open:
            self._open[-1].children += 1
        self._open.append(_OpenTag(name, attributes, self._utf16, begin))

    def _end_tag(self, begin: int) -> None:
        if not self._open:
            raise self._error("Unexpected end tag", begin)
        self._pos = begin + 2
        name = self._scan_name()
        self._skip_spaces()
        if self._at_end() or self._src[self._pos] != ">":
            raise self._error("Unclosed end tag", begin)
        self._pos += 1
        expected = self._open[-1].name
        if name != expected:
            raise self._error(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{expected}>", found "</{name}>"'
            )
        self._close(self._open.pop())

    def _close(self, tag: _OpenTag) -> None:
        parent = self._open[-1] if self._open else None
        if tag.name == "code" and parent is not None and parent.name == "pre":
            parent.code_closed = True
            language = tag.attributes.get("class", "").removeprefix("language-")
            parent.pre_language = language or None
            return
        length = self._utf16 - tag.offset
        if length > 0:
            self._entities.append((tag.offset, length, _entity_fields(tag)))

    def _check_nesting(self, name: str, begin: int) -> None:
        """Refuse the nestings Telegram would silently drop."""
        for ancestor in self._open:
            if ancestor.name == "code" or (ancestor.name == name in _NOT_SELF_NESTABLE):
                raise self._error(
                    f'Tag "{name}" can\'t be nested in the tag "{ancestor.name}"', begin
                )
        top = self._open[-1] if self._open else None
        if top is not None and top.name == "pre":
            fills_pre = name == "code" and top.children == 0 and self._utf16 == top.offset
            if not fills_pre:
                raise self._error('Tag "pre" must contain only one "code" tag', top.source_index)

    # -- attributes ---------------------------------------------------------------------

    def _attributes(self, tag: str, begin: int) -> dict[str, str]:
        """Read ``name="value"`` pairs up to and including the closing ``>``."""
        attributes: dict[str, str] = {}
        while True:
            self._skip_spaces()
            if self._at_end():
                raise self._error(f'Unclosed start tag "{tag}"', begin)
            if self._src[self._pos] == ">":
                self._pos += 1
                return attributes
            name, value = self._attribute(tag, begin)
            if name in attributes:
                raise self._error(f'Duplicate attribute "{name}" in the tag "{tag}"', begin)
            attributes[name] = value

    def _attribute(self, tag: str, begin: int) -> tuple[str, str]:
        name_start = self._pos
        while not self._at_end() and self._src[self._pos] not in _ATTRIBUTE_NAME_STOPS:
            self._pos += 1
        name = self._src[name_start : self._pos]
        if not name:
            raise self._error(f'Empty attribute name in the tag "{tag}"', begin)
        self._skip_spaces()
        if self._at_end() or self._src[self._pos] != "=":
            if (tag, name) in _VALUELESS_ATTRIBUTES:
                return name, ""
            raise self._error(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}"', begin
            )
        self._pos += 1
        self._skip_spaces()
        if self._at_end():
            raise self._error(f'Unclosed start tag "{tag}"', begin)
        if self._src[self._pos] in "'\"":
            return name, self._quoted_value(begin)
        return name, self._name_token()

    def _quoted_value(self, begin: int) -> str:
        quote = self._src[self._pos]
        self._pos += 1
        value: list[str] = []
        while not self._at_end() and self._src[self._pos] != quote:
            char = self._src[self._pos]
            if char == "&":
                value.append(self._entity())
                continue
            if char in "<>":
                escaped = "&lt;" if char == "<" else "&gt;"
                raise self._error(f'Character "{char}" must be escaped as "{escaped}"', self._pos)
            value.append(char)
            self._pos += 1
        if self._at_end():
            raise self._error("Unclosed start tag", begin)
        self._pos += 1
        return "".join(value)

    def _name_token(self) -> str:
        """An unquoted value: letters, digits, periods and hyphens, case-insensitive."""
        start = self._pos
        match = _NAME_TOKEN.match(self._src, start)
        assert match is not None  # the pattern matches the empty string
        self._pos = match.end()
        if self._at_end() or self._src[self._pos] not in _NAME_STOPS:
            raise self._error("Unexpected end of name token", start)
        return match.group().lower()

    def _check_attributes(self, tag: str, attributes: dict[str, str], begin: int) -> None:
        allowed = _ALLOWED_ATTRIBUTES.get(tag, frozenset())
        for name in attributes:
            if name not in allowed:
                raise self._error(f'Unsupported attribute "{name}" in the tag "{tag}"', begin)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise self._error('Tag "span" must have class "tg-spoiler"', begin)
        if tag == "a" and not _is_link(attributes.get("href", "")):
            raise self._error('Tag "a" must have an absolute URL in the attribute "href"', begin)
        if tag == "code" and "class" in attributes and not _is_language_class(attributes["class"]):
            raise self._error('Attribute "class" of the tag "code" must be "language-…"', begin)
        if tag == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")

    # -- scanning helpers ---------------------------------------------------------------

    def _scan_name(self) -> str:
        start = self._pos
        while not self._at_end() and self._src[self._pos] not in _NAME_STOPS:
            self._pos += 1
        return self._src[start : self._pos]

    def _skip_spaces(self) -> None:
        while not self._at_end() and self._src[self._pos] in _SPACES:
            self._pos += 1

    def _at_end(self) -> bool:
        return self._pos >= len(self._src)

    def _byte_offset(self, index: int) -> int:
        """Telegram reports positions as byte offsets into the UTF-8 encoded source."""
        return len(self._src[:index].encode("utf-8", "surrogatepass"))

    def _error(self, message: str, index: int | None = None) -> EntityParseError:
        if index is None:
            return EntityParseError(message)
        return EntityParseError(f"{message} at byte offset {self._byte_offset(index)}")


def _entity_fields(tag: _OpenTag) -> dict[str, Any]:
    """The type-specific part of the MessageEntity a closed tag produces."""
    if tag.name in _SIMPLE_ENTITY_TYPES:
        return {"type": _SIMPLE_ENTITY_TYPES[tag.name]}
    if tag.name == "a":
        return {"type": "text_link", "url": tag.attributes["href"]}
    if tag.name == "pre":
        language = {"language": tag.pre_language} if tag.pre_language else {}
        return {"type": "pre", **language}
    if tag.name == "blockquote":
        expandable = "expandable" in tag.attributes
        return {"type": "expandable_blockquote" if expandable else "blockquote"}
    return {"type": "custom_emoji", "custom_emoji_id": tag.attributes["emoji-id"]}


def _is_language_class(value: str) -> bool:
    return value.startswith("language-") and len(value) > len("language-")


def _is_link(url: str) -> bool:
    """An absolute URL with a scheme Telegram turns into a clickable link."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in _LINK_SCHEMES:
        return False
    return (
        bool(parts.netloc)
        if parts.scheme in ("http", "https")
        else bool(parts.netloc or parts.path)
    )
