//go:build !integration

package crashtest_test

import "testing"

// TestCrawlSurvivesKills kills the crawl three times at random points and
// checks that the committed topics hold the site exactly once. The 20-kill
// run is TestCrawlSurvivesTwentyKills (integration tag).
func TestCrawlSurvivesKills(t *testing.T) {
	runCrawlWithKills(t, 3)
}
