package confluence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/segmentio/encoding/json"
)

var (
	// ErrResponseTooLarge is returned when a response body exceeds
	// Config.MaxResponseBytes. It is not retried: the same request would
	// get the same body.
	ErrResponseTooLarge = errors.New("confluence: response body too large")

	errAttemptTimeout = errors.New("attempt timed out")
	errInvalidBody    = errors.New("response body is not valid JSON")
)

// attemptLayer runs one attempt under RequestTimeout and reads the whole
// body within it, so a reset or a truncation mid-body fails the attempt
// (and is retried) instead of surfacing later in a decoder. A successful
// response whose body is not JSON fails the same way: it must never look
// like an empty list.
type attemptLayer struct {
	next     http.RoundTripper
	timeout  time.Duration
	maxBytes int64
}

var _ http.RoundTripper = (*attemptLayer)(nil)

func (l *attemptLayer) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithTimeoutCause(parent, l.timeout, errAttemptTimeout)
	defer cancel()

	resp, err := l.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, l.attemptError(parent, ctx, err)
	}
	body, err := readBody(resp, l.maxBytes)
	if err != nil {
		return nil, l.attemptError(parent, ctx, err)
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(body), data: body}
	resp.ContentLength = int64(len(body))

	if resp.StatusCode/100 == 2 && resp.StatusCode != http.StatusNoContent && !json.Valid(body) {
		return nil, fmt.Errorf("%s %s: status %d: %w (%d bytes)",
			req.Method, req.URL.Path, resp.StatusCode, errInvalidBody, len(body))
	}
	return resp, nil
}

// attemptError names why an attempt failed: the caller's context, our
// timeout, or the network.
func (l *attemptLayer) attemptError(parent, ctx context.Context, err error) error {
	switch {
	case parent.Err() != nil:
		return parent.Err()
	case errors.Is(context.Cause(ctx), errAttemptTimeout):
		return fmt.Errorf("%w after %s", errAttemptTimeout, l.timeout)
	}
	return err
}

// bufferedBody is a response body already read into memory; do takes its
// bytes without copying them again.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (*bufferedBody) Close() error { return nil }

// readBody reads and closes the body, failing once it passes limit bytes.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close() //nolint:errcheck // read errors matter, close errors do not
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, limit)
	}
	return buf.Bytes(), nil
}
