package confluencesim

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"github.com/segmentio/encoding/json"
)

// cursor is the decoded form of an opaque pagination cursor. Like a real
// one it is base64 of a small JSON object naming the last item returned
// and the value it was sorted by.
type cursor struct {
	ID                string          `json:"id"`
	ContentOrder      string          `json:"contentOrder"`
	ContentOrderValue json.RawMessage `json:"contentOrderValue"`
	End               bool            `json:"end,omitempty"` // past the last item
}

// okey is an item's position in a sort order: its sort value (a number or
// a string) and its id to break ties.
type okey struct {
	num int64
	str string
	id  int64
}

func (a okey) cmp(b okey) int {
	switch {
	case a.num != b.num:
		return cmpInt(a.num, b.num)
	case a.str != b.str:
		return strings.Compare(a.str, b.str)
	}
	return cmpInt(a.id, b.id)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// order is a sort parameter such as "-modified-date".
type order struct {
	field string
	desc  bool
}

func (o order) String() string {
	if o.desc {
		return "-" + o.field
	}
	return o.field
}

// parseOrder reads a sort parameter; allowed lists the fields the endpoint
// supports and def is used when the parameter is absent.
func parseOrder(v string, def string, allowed ...string) (order, bool) {
	if v == "" {
		v = def
	}
	o := order{field: strings.TrimPrefix(v, "-"), desc: strings.HasPrefix(v, "-")}
	for _, f := range allowed {
		if f == o.field {
			return o, true
		}
	}
	return o, false
}

// stringField reports whether the field sorts by a string value.
func stringField(field string) bool {
	return field == fieldTitle || field == "key" || field == "name"
}

func encodeCursor(o order, last okey, end bool) string {
	c := cursor{ID: strconv.FormatInt(last.id, 10), ContentOrder: o.field, End: end}
	if stringField(o.field) {
		c.ContentOrderValue = json.AppendEscape(nil, last.str, 0)
	} else {
		c.ContentOrderValue = strconv.AppendInt(nil, last.num, 10)
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic("confluencesim: encode cursor: " + err.Error()) // a plain struct always encodes
	}
	return base64.StdEncoding.EncodeToString(b)
}

// decodeCursor returns the key after which the listing continues. It
// fails for anything the site did not issue for this sort order.
func decodeCursor(s string, o order) (okey, bool, bool) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return okey{}, false, false
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.ContentOrder != o.field {
		return okey{}, false, false
	}
	var k okey
	if k.id, err = strconv.ParseInt(c.ID, 10, 64); err != nil {
		return okey{}, false, false
	}
	if stringField(o.field) {
		err = json.Unmarshal(c.ContentOrderValue, &k.str)
	} else {
		err = json.Unmarshal(c.ContentOrderValue, &k.num)
	}
	return k, c.End, err == nil
}

// nextLink returns the relative URL of the next page: the request's path
// and query with the cursor first, as real next links are built.
func nextLink(u *url.URL, cur string) string {
	var b strings.Builder
	b.WriteString(u.Path)
	b.WriteString("?cursor=")
	b.WriteString(url.QueryEscape(cur))
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if kv == "" || strings.HasPrefix(kv, "cursor=") {
			continue
		}
		// Commas are legal in a query but split naive Link header parsers.
		b.WriteByte('&')
		b.WriteString(strings.ReplaceAll(kv, ",", "%2C"))
	}
	return b.String()
}
