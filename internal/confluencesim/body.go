package confluencesim

import (
	"strconv"

	"github.com/segmentio/encoding/json"
)

// bodyWriter renders the blocks of a body in one representation. The
// generator drives it, so the same content comes out as storage XHTML or
// as an Atlassian Document Format tree.
type bodyWriter interface {
	size() int
	heading(text string)
	paraStart()
	text(b []byte)
	link(title string)
	emoticon(name, emoji string)
	paraEnd()
	panel(name string, text []byte)
	code(lang, code string)
	toc()
	jira(key string)
	tableStart()
	rowStart()
	cell(text []byte, header bool)
	rowEnd()
	tableEnd()
}

// writeBody renders the body of c: roughly 1 to 8 KB of headings,
// paragraphs in several scripts, macros, tables, code, links and emoji,
// with c's unique phrase after the first block and one paragraph per edit.
func (s *Site) writeBody(c content, w bodyWriter, scratch []byte) []byte {
	r := newRNG(mix(s.cfg.Seed, saltBody, uint64(c.kind), uint64(c.idx)))
	lang := languages[pick(&r, langWeights)]
	target := 1024 + r.intn(7168)
	if r.intn(3) == 0 {
		w.toc()
	}
	for blocks := 0; w.size() < target; blocks++ {
		scratch = s.writeBlock(c, w, &r, lang, scratch)
		if blocks == 0 {
			w.paraStart()
			w.text(append(scratch[:0], "Reference: "+uniquePhrase(c.id)+"."...))
			w.paraEnd()
		}
	}
	for e := 1; e <= c.edits; e++ {
		w.paraStart()
		scratch = strconv.AppendInt(append(scratch[:0], "Edit "...), int64(e), 10)
		scratch = append(scratch, ": "...)
		w.text(sentence(&r, lang, scratch))
		w.paraEnd()
	}
	return scratch
}

func (s *Site) writeBlock(c content, w bodyWriter, r *rng, lang language, scratch []byte) []byte {
	switch r.intn(10) {
	case 4:
		w.heading(pick(r, headings))
	case 5:
		w.panel(pick(r, []string{"info", "note", "warning", "tip"}), sentence(r, lang, scratch[:0]))
	case 6:
		sample := pick(r, codeSamples)
		w.code(sample.lang, sample.code)
	case 7:
		scratch = writeTable(w, r, lang, scratch)
	case 8:
		w.jira(pick(r, jiraProjects) + "-" + strconv.Itoa(1+r.intn(4000)))
	default:
		scratch = s.writeParagraph(c, w, r, lang, scratch)
	}
	return scratch
}

func (s *Site) writeParagraph(c content, w bodyWriter, r *rng, lang language, scratch []byte) []byte {
	w.paraStart()
	for n := 2 + r.intn(4); n > 0; n-- {
		other := lang
		if r.intn(6) == 0 {
			other = pick(r, languages)
		}
		scratch = sentence(r, other, scratch[:0])
		w.text(append(scratch, ' '))
		switch r.intn(8) {
		case 0:
			w.emoticon(pick(r, emoticons), pick(r, unicodeEmoji))
		case 1:
			w.text(append(scratch[:0], pick(r, unicodeEmoji)+" "...))
		case 2:
			if t, ok := s.linkTarget(c, r); ok {
				w.link(t)
			}
		}
	}
	w.paraEnd()
	return scratch
}

// linkTarget picks another page of c's space to link to.
func (s *Site) linkTarget(c content, r *rng) (string, bool) {
	sp := s.spaces[c.space]
	n := sp.pageHi - sp.pageLo
	if n < 2 {
		return "", false
	}
	t := r.intn(n)
	if c.kind == kindPage && t == c.local {
		t = (t + 1) % n
	}
	return s.title(kindPage, sp.pageLo+t, t, sp), true
}

func writeTable(w bodyWriter, r *rng, lang language, scratch []byte) []byte {
	w.tableStart()
	for row := range 2 + r.intn(4) {
		w.rowStart()
		for range 3 {
			scratch = words(r, lang, scratch[:0], 1+r.intn(3))
			w.cell(scratch, row == 0)
		}
		w.rowEnd()
	}
	w.tableEnd()
	return scratch
}

// sentence appends 5 to 14 words of lang and a full stop to b.
func sentence(r *rng, lang language, b []byte) []byte {
	start := len(b)
	b = words(r, lang, b, 5+r.intn(10))
	if start < len(b) && b[start] >= 'a' && b[start] <= 'z' {
		b[start] -= 'a' - 'A'
	}
	return append(b, lang.stop...)
}

func words(r *rng, lang language, b []byte, n int) []byte {
	for i := range n {
		if i > 0 {
			b = append(b, lang.sep...)
		}
		b = append(b, pick(r, lang.words)...)
	}
	return b
}

// storageWriter renders Confluence storage format (XHTML with ac: macros).
// Text needs no escaping: the vocabularies hold no markup characters.
type storageWriter struct {
	buf []byte
}

var _ bodyWriter = (*storageWriter)(nil)

func (w *storageWriter) size() int           { return len(w.buf) }
func (w *storageWriter) paraStart()          { w.buf = append(w.buf, "<p>"...) }
func (w *storageWriter) text(b []byte)       { w.buf = append(w.buf, b...) }
func (w *storageWriter) paraEnd()            { w.buf = append(w.buf, "</p>"...) }
func (w *storageWriter) tableStart()         { w.buf = append(w.buf, "<table><tbody>"...) }
func (w *storageWriter) rowStart()           { w.buf = append(w.buf, "<tr>"...) }
func (w *storageWriter) rowEnd()             { w.buf = append(w.buf, "</tr>"...) }
func (w *storageWriter) tableEnd()           { w.buf = append(w.buf, "</tbody></table>"...) }
func (w *storageWriter) add(parts ...string) { w.buf = appendAll(w.buf, parts...) }

func (w *storageWriter) heading(text string) { w.add("<h2>", text, "</h2>") }

func (w *storageWriter) link(title string) {
	w.add(`<ac:link><ri:page ri:content-title="`, title, `" /></ac:link> `)
}

func (w *storageWriter) emoticon(name, emoji string) {
	w.add(`<ac:emoticon ac:name="`, name, `" ac:emoji-fallback="`, emoji, `" /> `)
}

func (w *storageWriter) panel(name string, text []byte) {
	w.add(`<ac:structured-macro ac:name="`, name, `" ac:schema-version="1"><ac:rich-text-body><p>`)
	w.buf = append(w.buf, text...)
	w.add("</p></ac:rich-text-body></ac:structured-macro>")
}

func (w *storageWriter) code(lang, code string) {
	w.add(`<ac:structured-macro ac:name="code" ac:schema-version="1">`,
		`<ac:parameter ac:name="language">`, lang, `</ac:parameter>`,
		`<ac:plain-text-body><![CDATA[`, code, `]]></ac:plain-text-body></ac:structured-macro>`)
}

func (w *storageWriter) toc() {
	w.add(`<ac:structured-macro ac:name="toc" ac:schema-version="1"><ac:parameter ac:name="maxLevel">3</ac:parameter></ac:structured-macro>`)
}

func (w *storageWriter) jira(key string) {
	w.add(`<p><ac:structured-macro ac:name="jira" ac:schema-version="1">`,
		`<ac:parameter ac:name="server">System Jira</ac:parameter>`,
		`<ac:parameter ac:name="key">`, key, `</ac:parameter></ac:structured-macro></p>`)
}

func (w *storageWriter) cell(text []byte, header bool) {
	open, end := "<td><p>", "</p></td>"
	if header {
		open, end = "<th><p><strong>", "</strong></p></th>"
	}
	w.buf = append(append(append(w.buf, open...), text...), end...)
}

// adfWriter renders Atlassian Document Format JSON. open and close track
// whether the current content array needs a comma before the next node.
type adfWriter struct {
	buf   []byte
	comma []bool
}

var _ bodyWriter = (*adfWriter)(nil)

func newADFWriter(buf []byte) *adfWriter {
	w := &adfWriter{buf: append(buf, `{"type":"doc","version":1,"content":[`...)}
	w.comma = append(w.comma, false)
	return w
}

// finish closes the document and returns the JSON.
func (w *adfWriter) finish() []byte {
	return append(w.buf, "]}"...)
}

func (w *adfWriter) sep() {
	top := len(w.comma) - 1
	if w.comma[top] {
		w.buf = append(w.buf, ',')
	}
	w.comma[top] = true
}

func (w *adfWriter) open(prefix string) {
	w.sep()
	w.buf = append(w.buf, prefix...)
	w.comma = append(w.comma, false)
}

func (w *adfWriter) close() {
	w.comma = w.comma[:len(w.comma)-1]
	w.buf = append(w.buf, "]}"...)
}

func (w *adfWriter) leaf(parts ...string) {
	w.sep()
	w.buf = appendAll(w.buf, parts...)
}

func (w *adfWriter) textNode(s []byte, marks string) {
	w.sep()
	w.buf = append(w.buf, `{"type":"text","text":`...)
	w.buf = json.AppendEscape(w.buf, string(s), 0)
	w.buf = append(append(w.buf, marks...), '}')
}

func (w *adfWriter) size() int     { return len(w.buf) }
func (w *adfWriter) paraStart()    { w.open(`{"type":"paragraph","content":[`) }
func (w *adfWriter) text(b []byte) { w.textNode(b, "") }
func (w *adfWriter) paraEnd()      { w.close() }
func (w *adfWriter) tableStart()   { w.open(`{"type":"table","content":[`) }
func (w *adfWriter) rowStart()     { w.open(`{"type":"tableRow","content":[`) }
func (w *adfWriter) rowEnd()       { w.close() }
func (w *adfWriter) tableEnd()     { w.close() }

func (w *adfWriter) heading(text string) {
	w.open(`{"type":"heading","attrs":{"level":2},"content":[`)
	w.textNode([]byte(text), "")
	w.close()
}

func (w *adfWriter) link(title string) {
	w.textNode([]byte(title), `,"marks":[{"type":"link","attrs":{"href":"#"}}]`)
}

func (w *adfWriter) emoticon(name, emoji string) {
	w.leaf(`{"type":"emoji","attrs":{"shortName":":`, name, `:","text":"`, emoji, `"}}`)
}

func (w *adfWriter) panel(name string, text []byte) {
	w.open(`{"type":"panel","attrs":{"panelType":"` + name + `"},"content":[`)
	w.paraStart()
	w.text(text)
	w.paraEnd()
	w.close()
}

func (w *adfWriter) code(lang, code string) {
	w.open(`{"type":"codeBlock","attrs":{"language":"` + lang + `"},"content":[`)
	w.textNode([]byte(code), "")
	w.close()
}

func (w *adfWriter) toc() {
	w.leaf(`{"type":"extension","attrs":{"extensionType":"com.atlassian.confluence.macro.core","extensionKey":"toc"}}`)
}

func (w *adfWriter) jira(key string) {
	w.paraStart()
	w.leaf(`{"type":"inlineCard","attrs":{"url":"https://jira.example.com/browse/`, key, `"}}`)
	w.paraEnd()
}

func (w *adfWriter) cell(text []byte, header bool) {
	typ := `{"type":"tableCell","content":[`
	if header {
		typ = `{"type":"tableHeader","content":[`
	}
	w.open(typ)
	w.paraStart()
	w.text(text)
	w.paraEnd()
	w.close()
}

func appendAll(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
