// Package producer crawls a Confluence Cloud site and publishes its users,
// spaces, pages and blog posts to Kafka as the events of package schema.
//
// A crawl reads the site outside any Kafka transaction, then publishes each
// batch of events together with the checkpoint that covers it in one
// transaction, into the compacted state topic. A producer killed at any point
// restarts from the last committed checkpoint: nothing committed is published
// again and nothing is lost. Its transactional id is stable per site, so a
// restarted producer fences the one it replaces.
//
// The order of a crawl is: all users (v1 user search), all spaces, then the
// pages and blog posts of several spaces at once, and last the accounts that
// authored content but were not in the user search (v2 users-bulk).
package producer
