module github.com/parable/confluence-kafka

go 1.26.8
