package schema

// DefaultTopicPrefix starts every topic name unless configured otherwise.
const DefaultTopicPrefix = "confluence."

// Topics names the topics of the pipeline. All of them are compacted: the latest
// record per key is the entity's current state.
type Topics struct {
	Users  string // user events
	Spaces string // space events
	Pages  string // page and blog post events
	State  string // the producer's crawl checkpoints
}

// NewTopics returns the topic names under prefix, such as "confluence.pages"
// for the prefix "confluence.".
func NewTopics(prefix string) Topics {
	return Topics{
		Users:  prefix + "users",
		Spaces: prefix + "spaces",
		Pages:  prefix + "pages",
		State:  prefix + "state",
	}
}

// ForEntity returns the topic that carries events about e.
func (t Topics) ForEntity(e Entity) string {
	switch e {
	case EntityUser:
		return t.Users
	case EntitySpace:
		return t.Spaces
	default:
		return t.Pages
	}
}

// Entities returns the entity topics, without the state topic.
func (t Topics) Entities() []string {
	return []string{t.Users, t.Spaces, t.Pages}
}
