"""The emulator's HTML parse mode: what Telegram shows, and what it (or strictness) refuses."""

from __future__ import annotations

import pytest

from coachbot.sandbox._html import EntityParseError, parse_html, parse_html_entities

ACCEPTED = [
    ("plain text", "plain text"),
    ("<b>bold</b> <strong>strong</strong>", "bold strong"),
    ("<i>i</i><em>em</em><u>u</u><ins>ins</ins>", "iemuins"),
    ("<s>s</s><strike>strike</strike><del>del</del>", "sstrikedel"),
    ('<span class="tg-spoiler">hidden</span><tg-spoiler>too</tg-spoiler>', "hiddentoo"),
    ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
    ('<a href="tg://user?id=42">you</a>', "you"),
    ("<code>x &lt; y</code>", "x < y"),
    ("<pre>block</pre>", "block"),
    ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
    ("<blockquote>quote</blockquote>", "quote"),
    ("<blockquote expandable>long quote</blockquote>", "long quote"),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ("&lt;&gt;&amp;&quot;&#39;&#x27;&#x1F600;", "<>&\"''😀"),
    ("<b>bold <i>and italic</i></b>", "bold and italic"),
    ("<B>upper-case start tags are lowered</b>", "upper-case start tags are lowered"),
    ("<b >spaces inside tags</b >", "spaces inside tags"),
    ("<b></b>empty tags are fine", "empty tags are fine"),
    ("<a href='https://example.com'>single quotes</a>", "single quotes"),
    ("line\nbreaks\nstay", "line\nbreaks\nstay"),
]

REJECTED = [
    ("a <br> b", 'Unsupported start tag "br" at byte offset 2'),
    ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
    ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("<!-- comment -->", 'Unsupported start tag "!--" at byte offset 0'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("é<b", "Unclosed start tag at byte offset 2"),
    ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
    ("bold</b>", "Unexpected end tag at byte offset 4"),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("<B>x</B>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</B>"'),
    ("<b>x</>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</>"'),
    ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ("2 > 1", 'Character ">" must be escaped as "&gt;" at byte offset 2'),
    ("Q&A", 'Character "&" must be escaped as "&amp;" at byte offset 1'),
    ("&amp", 'Character "&" must be escaped as "&amp;" at byte offset 0'),
    ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
    ("&#0;", 'Invalid character reference "&#0;" at byte offset 0'),
    ("&#xD800;", 'Invalid character reference "&#xD800;" at byte offset 0'),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("<a>x</a>", 'Tag "a" must have an absolute URL in the attribute "href" at byte offset 0'),
    ('<a href="example.com">x</a>', 'Tag "a" must have an absolute URL'),
    ('<a href="javascript:alert(1)">x</a>', 'Tag "a" must have an absolute URL'),
    ('<a href="https://e.com?a&b">x</a>', 'Character "&" must be escaped as "&amp;"'),
    ('<a href="https://e.com" target="_blank">x</a>', 'Unsupported attribute "target"'),
    ('<b class="x">x</b>', 'Unsupported attribute "class" in the tag "b"'),
    ('<a href="https://a.com" href="https://b.com">x</a>', 'Duplicate attribute "href"'),
    ("<a href=https://e.com>x</a>", "Unexpected end of name token at byte offset 8"),
    ("<a href>x</a>", 'Expected equal sign in declaration of an attribute of the tag "a"'),
    ('<a href="https://e.com>x</a>', 'Character ">" must be escaped as "&gt;"'),
    ('<a href="https://e.com', "Unclosed start tag at byte offset 0"),
    ('<code class="python">x</code>', 'Attribute "class" of the tag "code" must be "language-'),
    ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
    ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ("<code><b>x</b></code>", 'Tag "b" can\'t be nested in the tag "code"'),
    ('<a href="https://a.com"><a href="https://b.com">x</a></a>', 'Tag "a" can\'t be nested'),
    ("<blockquote><blockquote>x</blockquote></blockquote>", 'Tag "blockquote" can\'t be nested'),
    ("<pre><b>x</b></pre>", 'Tag "pre" must contain only one "code" tag'),
    ("<pre>x<code>y</code></pre>", 'Tag "pre" must contain only one "code" tag'),
    ("<pre><code>x</code>y</pre>", 'Tag "pre" must contain only one "code" tag'),
]


@pytest.mark.parametrize(("source", "shown"), ACCEPTED)
def test_accepts_telegram_html(source: str, shown: str) -> None:
    assert parse_html(source) == shown


@pytest.mark.parametrize(("source", "detail"), REJECTED)
def test_rejects_what_telegram_or_strictness_refuses(source: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert caught.value.detail.startswith(detail)


def test_byte_offsets_count_utf8_bytes() -> None:
    with pytest.raises(EntityParseError, match="byte offset 7"):
        parse_html("при <x>")  # "при" is 6 bytes in UTF-8


def test_entities_use_utf16_offsets() -> None:
    parsed = parse_html_entities('😀 <b>bold</b> <a href="https://e.com">link</a>')
    assert parsed.text == "😀 bold link"
    assert parsed.entities == (
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 4, "type": "text_link", "url": "https://e.com"},
    )


def test_pre_with_language_is_one_entity() -> None:
    parsed = parse_html_entities('<pre><code class="language-sql">SELECT 1</code></pre>')
    assert parsed.entities == ({"offset": 0, "length": 8, "type": "pre", "language": "sql"},)
