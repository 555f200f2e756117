// Package confluence is the resilient REST client the producer uses to crawl
// one Confluence Cloud site through the v2 API (and the two v1 user
// endpoints v2 lacks).
//
// A Client owns one site. Every request it makes, from any goroutine, shares
// one rate budget, one circuit breaker and one retry policy; the layers that
// implement them are listed, in order, on newTransport in transport.go. All
// policy waits (budget, backoff, Retry-After, breaker) run on the Config's
// Clock and end when the caller's context ends; the Client starts no
// goroutine of its own.
//
// Errors from the site are *APIError values. Callers branch on them with
// errors.Is and the sentinels ErrUnauthorized, ErrForbidden, ErrNotFound and
// ErrInvalidCursor, and on ErrResponseTooLarge for oversized bodies.
package confluence
