package index

import "testing"

func TestBodyText(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", ""},
		{"plain", "just text", "just text"},
		{"paragraphs separate words", "<p>one</p><p>two</p>", "one two"},
		{"inline tags join words", "<p>run<strong>book</strong> and <em>more</em></p>", "runbook and more"},
		{"entities decoded", "<p>Tom &amp; Jerry&nbsp;&lt;3 &#x1F600; &rsquo;</p>", "Tom & Jerry <3 😀 ’"},
		{"cdata kept verbatim", `<ac:plain-text-body><![CDATA[if a < b && c > d { x() }]]></ac:plain-text-body>`,
			"if a < b && c > d { x() }"},
		{"comment dropped", "<p>keep<!-- secret <p> --> this</p>", "keep this"},
		{"quoted > in attribute", `<a href="x>y" title='>'>link</a> after`, "link after"},
		{"macro parameters are text", `<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">go</ac:parameter></ac:structured-macro>`, "go"},
		{"self-closing emoticon", `<p>Фаза 1 <ac:emoticon ac:name="smile" /></p>`, "Фаза 1"},
		{"unclosed tag", "<p>text <b", "text"},
		{"unclosed cdata", "<![CDATA[code", "code"},
		{"white space collapsed", "<p>a \n\t b</p>\n\n<p>c</p>", "a b c"},
		{"upper-case inline tag", "x<STRONG>y</STRONG>", "xy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bodyText(tt.body); got != tt.want {
				t.Errorf("bodyText(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
