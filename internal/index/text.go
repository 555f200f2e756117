package index

import (
	"html"
	"strings"
)

// inlineTags are the storage-format elements that do not separate words:
// "<strong>run</strong>book" is the word "runbook". Every other tag does.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "code": true, "em": true, "i": true,
	"s": true, "small": true, "span": true, "strong": true, "sub": true,
	"sup": true, "u": true, "del": true, "ins": true,
}

// bodyText reduces a storage-format body (XHTML with Confluence macros) to
// the text that is indexed: markup and comments are dropped, CDATA content
// (code macros keep their code there) is kept as written, entities are
// decoded, and runs of white space become one space.
func bodyText(body string) string {
	var b strings.Builder
	b.Grow(len(body))
	for body != "" {
		i := strings.IndexByte(body, '<')
		if i < 0 {
			b.WriteString(html.UnescapeString(body))
			break
		}
		b.WriteString(html.UnescapeString(body[:i]))
		body = skipMarkup(&b, body[i:])
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// skipMarkup consumes the markup at the start of s, which begins with '<',
// writes what of it is text, and returns the rest of s.
func skipMarkup(b *strings.Builder, s string) string {
	switch {
	case strings.HasPrefix(s, "<![CDATA["):
		text, rest := cut(s[len("<![CDATA["):], "]]>")
		b.WriteByte(' ')
		b.WriteString(text)
		b.WriteByte(' ')
		return rest
	case strings.HasPrefix(s, "<!--"):
		_, rest := cut(s, "-->")
		return rest
	}

	end := tagEnd(s)
	if !inlineTags[tagName(s[:end])] {
		b.WriteByte(' ')
	}
	return s[end:]
}

// tagEnd returns the index just past the '>' that closes the tag at the start
// of s, ignoring '>' inside quoted attribute values; len(s) when unclosed.
func tagEnd(s string) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(s)
}

// tagName returns the lower-cased element name of a tag such as "</Strong>".
func tagName(tag string) string {
	name := strings.TrimLeft(tag, "</")
	if i := strings.IndexAny(name, " \t\r\n/>"); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

// cut returns what precedes sep in s and what follows it; everything and ""
// when sep is missing.
func cut(s, sep string) (before, after string) {
	before, after, _ = strings.Cut(s, sep)
	return before, after
}
