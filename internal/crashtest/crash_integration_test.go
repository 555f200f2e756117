//go:build integration

package crashtest_test

import "testing"

// TestCrawlSurvivesTwentyKills is the acceptance run of issue #4: twenty
// SIGKILLs in a row at random points, restarts, then a complete crawl with
// every entity committed exactly once. CI runs it against the real broker.
func TestCrawlSurvivesTwentyKills(t *testing.T) {
	runCrawlWithKills(t, 20)
}
