package consumer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ActiveGroupError reports a consumer group that still has members, so its
// committed offsets cannot be changed from outside: Kafka refuses such
// commits, and the members would overwrite them anyway.
type ActiveGroupError struct {
	Group   string
	State   string // the group's state, such as "Stable"
	Members []GroupMember
}

// GroupMember is one member of a consumer group, as the group coordinator
// describes it.
type GroupMember struct {
	ID       string // the member id the coordinator assigned
	ClientID string // the client.id the member set
	Host     string // the address the member connected from
}

func (e *ActiveGroupError) Error() string {
	names := make([]string, len(e.Members))
	for i, m := range e.Members {
		names[i] = fmt.Sprintf("%s (client %s at %s)", m.ID, m.ClientID, m.Host)
	}
	return fmt.Sprintf("consumer group %s has %d active members (state %s): %s; stop them first",
		e.Group, len(e.Members), e.State, strings.Join(names, ", "))
}

// OffsetChange is the committed offset of one partition of a group before
// and after a reset.
type OffsetChange struct {
	Topic     string
	Partition int32
	From      int64 // -1 when the group had no committed offset
	To        int64
}

// CheckInactive returns nil when group has no members (it is empty or does
// not exist), and an *ActiveGroupError naming them otherwise. It describes
// classic consumer groups, the protocol Consumer uses.
//
// TODO(#5): a KIP-848 group (kgo.ServerSideBalancer) is not described here
// and looks inactive; acceptable while Consumer joins classic groups only,
// and Kafka still refuses the commit of SetOffsets to a group with members.
func CheckInactive(ctx context.Context, adm *kadm.Client, group string) error {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describe group %s: %w", group, err)
	}
	g, ok := described[group]
	if !ok || errors.Is(g.Err, kerr.GroupIDNotFound) {
		return nil
	}
	if g.Err != nil {
		return fmt.Errorf("describe group %s: %w", group, g.Err)
	}
	if len(g.Members) == 0 {
		return nil
	}
	e := &ActiveGroupError{Group: group, State: g.State}
	for _, m := range g.Members {
		e.Members = append(e.Members, GroupMember{ID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost})
	}
	return e
}

// PlanReset returns, for every partition of topics, the offset group has
// committed and the offset a reset to at would commit: the earliest
// offset when at is zero, or else the first offset whose timestamp is at or
// after at (the end offset when there is none). It changes nothing.
func PlanReset(ctx context.Context, adm *kadm.Client, group string, topics []string, at time.Time) ([]OffsetChange, error) {
	var listed kadm.ListedOffsets
	var err error
	if at.IsZero() {
		listed, err = adm.ListStartOffsets(ctx, topics...)
	} else {
		listed, err = adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...)
	}
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list offsets of %v: %w", topics, err)
	}
	committed, err := fetchCommitted(ctx, adm, group)
	if err != nil {
		return nil, err
	}

	var changes []OffsetChange
	listed.Each(func(o kadm.ListedOffset) {
		c := OffsetChange{Topic: o.Topic, Partition: o.Partition, From: -1, To: o.Offset}
		if r, ok := committed.Lookup(o.Topic, o.Partition); ok && r.At >= 0 {
			c.From = r.At
		}
		changes = append(changes, c)
	})
	sortChanges(changes)
	return changes, nil
}

// SetOffsets commits the To offset of each change for group. It refuses
// with an *ActiveGroupError while the group has members; Kafka enforces the
// same at commit time, so a member joining in between makes it fail the
// same way rather than race.
func SetOffsets(ctx context.Context, adm *kadm.Client, group string, changes []OffsetChange) error {
	if err := CheckInactive(ctx, adm, group); err != nil {
		return err
	}
	offsets := make(kadm.Offsets)
	for _, c := range changes {
		// Leader epoch -1: the offset was not read from a record, and a
		// wrong epoch would make the next consumer suspect truncation.
		offsets.Add(kadm.Offset{Topic: c.Topic, Partition: c.Partition, At: c.To, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctx, group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) ||
		errors.Is(err, kerr.RebalanceInProgress) {
		if active := CheckInactive(ctx, adm, group); active != nil {
			return active
		}
	}
	if err != nil {
		return fmt.Errorf("commit offsets of group %s: %w", group, err)
	}
	return nil
}

// ResetOffsets moves the committed offsets of group on every partition of
// topics to at, as PlanReset computes them, and returns the changes. It
// refuses with an *ActiveGroupError while the group has members. The next
// member to join the group consumes from the new offsets: this is how a
// consumer's state is rebuilt by replaying the topics.
func ResetOffsets(ctx context.Context, adm *kadm.Client, group string, topics []string, at time.Time) ([]OffsetChange, error) {
	changes, err := PlanReset(ctx, adm, group, topics, at)
	if err != nil {
		return nil, err
	}
	if err := SetOffsets(ctx, adm, group, changes); err != nil {
		return nil, err
	}
	return changes, nil
}

// fetchCommitted returns the committed offsets of group; none when the
// group does not exist.
//
// A coordinator that is still loading, or not yet elected for a new group,
// answers with a retriable error (COORDINATOR_NOT_AVAILABLE was seen on a
// real broker in CI); that is waited out as listEnds does.
func fetchCommitted(ctx context.Context, adm *kadm.Client, group string) (kadm.OffsetResponses, error) {
	for attempt := 1; ; attempt++ {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = committed.Error()
		}
		switch {
		case errors.Is(err, kerr.GroupIDNotFound):
			return nil, nil
		case err == nil:
			return committed, nil
		case !kerr.IsRetriable(err) || attempt == listAttempts:
			return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
		}
		if err := sleep(ctx, backoff(listBackoff, 10*listBackoff, attempt)); err != nil {
			return nil, err
		}
	}
}

func sortChanges(cs []OffsetChange) {
	slices.SortFunc(cs, func(a, b OffsetChange) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}
