// Package crashtest proves that a crawl survives being killed. Its tests
// build the confluence-kafka binary, serve a simulated site from the test
// process, run the crawl subcommand as a child process against the test's
// Kafka cluster (kfake, or the real broker named by KAFKA_BROKERS), kill
// it with SIGKILL at random points, restart it, and finally check that the
// committed topics hold every entity of the site exactly once.
//
// The package has no code besides its tests.
package crashtest
