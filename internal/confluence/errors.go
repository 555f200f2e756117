package confluence

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/segmentio/encoding/json"
)

// Sentinels matched by *APIError through errors.Is.
var (
	// ErrUnauthorized means the site answered 401: the credentials are
	// wrong, so nothing else will work either.
	ErrUnauthorized = errors.New("confluence: unauthorized")
	// ErrForbidden means the site answered 403: the account may not see
	// this space or page.
	ErrForbidden = errors.New("confluence: forbidden")
	// ErrNotFound means the site answered 404. Confluence also answers 404
	// for content the account may not see, so it is never proof of deletion.
	ErrNotFound = errors.New("confluence: not found")
	// ErrInvalidCursor means the site rejected a list cursor (400
	// INVALID_REQUEST_PARAMETER on a request that carried one).
	ErrInvalidCursor = errors.New("confluence: invalid cursor")
)

const (
	codeInvalidParameter = "INVALID_REQUEST_PARAMETER"
	maxMessageLen        = 300
)

// APIError is an HTTP error status from the site. It carries no query
// string and no credentials.
type APIError struct {
	Status  int    // HTTP status code
	Code    string // v2 error code such as "NOT_FOUND"; empty when the body had none
	Message string // v2 title and detail, v1 message, or the start of a text body
	Method  string // request method
	Path    string // request path, without the query

	cursor bool // the request carried a cursor parameter
}

// Error describes the failure; for a 401 it names the settings to check.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Status == http.StatusUnauthorized {
		b.WriteString("; check Email and APIToken (or BearerToken) and BaseURL")
	}
	return b.String()
}

// Is reports whether e matches one of the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrInvalidCursor:
		return e.Status == http.StatusBadRequest && e.Code == codeInvalidParameter && e.cursor
	}
	return false
}

// errorBody covers both error shapes: v2 {"errors":[...]} and v1
// {"statusCode","message"}.
type errorBody struct {
	Errors []struct {
		Code   string     `json:"code"`
		Title  string     `json:"title"`
		Detail flexString `json:"detail"`
	} `json:"errors"`
	Message string `json:"message"`
}

// newAPIError builds the error for an error status. The status decides;
// the body only adds a code and a message when it can be read.
func newAPIError(req *http.Request, status int, body []byte) *APIError {
	e := &APIError{
		Status: status,
		Method: req.Method,
		Path:   req.URL.Path,
		cursor: req.URL.Query().Has("cursor"),
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil {
		e.Message = textMessage(body)
		return e
	}
	if len(eb.Errors) > 0 {
		first := eb.Errors[0]
		e.Code = first.Code
		e.Message = joinMessage(first.Title, string(first.Detail))
		return e
	}
	e.Message = clean(eb.Message)
	return e
}

func joinMessage(title, detail string) string {
	title, detail = clean(title), clean(detail)
	switch {
	case detail == "" || detail == title:
		return title
	case title == "":
		return detail
	}
	return title + ": " + detail
}

// textMessage keeps the start of a plain-text body; markup is dropped, as
// an HTML error page says nothing a status code does not.
func textMessage(body []byte) string {
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "<") {
		return ""
	}
	return clean(s)
}

// clean makes s one printable line of bounded length.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > maxMessageLen {
		s = strings.ToValidUTF8(s[:maxMessageLen], "") + "…"
	}
	return s
}
