package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/confluence"
	"github.com/parable/confluence-kafka/internal/confluencesim"
	"github.com/parable/confluence-kafka/internal/index"
	"github.com/parable/confluence-kafka/schema"
)

// topicCounts are the live entities in the topics: the latest record of each
// key, when it is not a tombstone.
type topicCounts struct {
	users, spaces, pages, blogPosts int
}

// countTopics reads every committed record of the entity topics.
func countTopics(ctx context.Context, kafka *cluster, t schema.Topics) (topicCounts, error) {
	var c topicCounts
	for _, topic := range t.Entities() {
		latest := map[string][]byte{}
		err := broker.ReadCommitted(ctx, kafka.clientOptions(), topic, func(r *kgo.Record) error {
			latest[string(r.Key)] = r.Value
			return nil
		})
		if err != nil {
			return c, err
		}
		for _, v := range latest {
			if v != nil {
				c.add(topic, t, v)
			}
		}
	}
	return c, nil
}

func (c *topicCounts) add(topic string, t schema.Topics, value []byte) {
	switch topic {
	case t.Users:
		c.users++
	case t.Spaces:
		c.spaces++
	default:
		// The kind is near the start of the value; decoding every body just to
		// count would cost more than the whole report.
		if strings.Contains(string(value[:min(len(value), 256)]), `"kind":"blogpost"`) {
			c.blogPosts++
		} else {
			c.pages++
		}
	}
}

// report prints the counts of the site, the topics and the index side by side,
// then answers the search.
func (j *mainJob) report(ctx context.Context, w io.Writer, site *confluencesim.Site, client *confluence.Client, kafka *cluster, store *index.Store) error {
	inTopics, err := countTopics(ctx, kafka, j.kafka.topics())
	if err != nil {
		return err
	}
	inIndex, err := store.Counts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tsite\ttopics\tindex\t")
	row := func(name string, site int, topic, idx int) {
		s := "-"
		if site >= 0 {
			s = fmt.Sprint(site)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\n", name, s, topic, idx)
	}
	want := confluencesim.Counts{Spaces: -1, Pages: -1, BlogPosts: -1, CrawlableUsers: -1}
	if site != nil {
		want = site.Expected()
	}
	row("spaces", want.Spaces, inTopics.spaces, inIndex.Spaces)
	row("pages", want.Pages, inTopics.pages, inIndex.Pages)
	row("blog posts", want.BlogPosts, inTopics.blogPosts, inIndex.BlogPosts)
	row("users", want.CrawlableUsers, inTopics.users, inIndex.Users)
	if err := tw.Flush(); err != nil {
		return err
	}
	return j.answer(ctx, w, site, client, store)
}

// answer runs the search query, or a phrase unique to one page of the
// simulated site, and prints the hits.
func (j *mainJob) answer(ctx context.Context, w io.Writer, site *confluencesim.Site, client *confluence.Client, store *index.Store) error {
	query, wantID := j.search, ""
	if query == "" && site != nil {
		var err error
		if wantID, err = samplePage(ctx, site, client); err != nil {
			return err
		}
		query = site.UniquePhrase(wantID)
	}
	if query == "" {
		return nil
	}
	hits, err := store.Search(ctx, query, 3)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nsearch %q: %d hits\n", query, len(hits))
	printHits(w, hits)
	if wantID != "" && (len(hits) == 0 || hits[0].PageID != wantID) {
		return fmt.Errorf("search for the unique phrase of page %s did not return it first", wantID)
	}
	return nil
}

// samplePage picks a current page of the simulated site's middle space, one
// that a crawl publishes, to search for its unique phrase.
func samplePage(ctx context.Context, site *confluencesim.Site, client *confluence.Client) (string, error) {
	spaces := site.SpaceIDs()
	for _, id := range site.PageIDs(spaces[len(spaces)/2]) {
		p, err := client.FetchPage(ctx, id)
		if err != nil {
			return "", fmt.Errorf("pick a page to search for: %w", err)
		}
		if p.Status == "current" {
			return id, nil
		}
	}
	return "", errors.New("pick a page to search for: the middle space has no current page")
}

func printHits(w io.Writer, hits []index.Hit) {
	for i, h := range hits {
		fmt.Fprintf(w, "%d. %s  [space %s, by %s]\n   %s\n", i+1, h.Title, h.SpaceKey, h.AuthorName, h.WebURL)
	}
}

// explain turns errors a person must act on into instructions.
func explain(err error) error {
	switch {
	case errors.Is(err, confluence.ErrUnauthorized):
		return fmt.Errorf("confluence rejected the credentials: check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN "+
			"(or CONFLUENCE_BEARER_TOKEN) and that the token is not expired: %w", err)
	case errors.Is(err, confluence.ErrForbidden):
		return fmt.Errorf("the account may not read this: it needs read access to the spaces "+
			"(or site admin permission): %w", err)
	}
	return err
}
