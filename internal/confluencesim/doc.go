// Package confluencesim is a deterministic simulated Confluence Cloud site.
//
// A [Site] serves the parts of Atlassian's REST API that the crawler uses:
// the v2 space, page, blog post and users-bulk endpoints under /wiki/api/v2,
// and the v1 user search and current-user endpoints under /wiki/rest/api.
// Responses follow the published OpenAPI documents: opaque cursors, the Link
// header and _links.next, limit checks, real error bodies, rate-limit
// headers and Basic authentication.
//
// The content is derived on demand from the seed and an index: the site
// keeps a few small arrays per space and a map of edited pages, never the
// pages themselves, so its memory does not grow with the number of pages.
// The same Config always yields a byte-identical site.
//
// Tests switch faults on and off at run time with [Site.InjectFault], change
// content with [Site.EditPage], [Site.CreatePage], [Site.ArchivePage],
// [Site.TrashPage] and [Site.DeletePage], spaces and accounts with
// [Site.RenameSpace] and [Site.ChangeUser], and
// read what the crawler should find with [Site.Expected] and what it asked
// for with [Site.Requests].
package confluencesim
