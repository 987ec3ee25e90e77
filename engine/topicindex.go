package engine

// topicIndex answers what a unit asks of the topology for every record,
// worked out once per instance: which stage reads a topic, and which store a
// changelog topic belongs to. Asked of the Topology itself, each answer
// built its stages and topic names anew, a few allocations per record.
type topicIndex struct {
	stageOf     map[string]*Stage // a consumed topic → the stage that reads it
	changelogOf map[string]string // a store → its changelog topic
	storeOf     map[string]string // a changelog topic → its store
}

func newTopicIndex(t *Topology, appID string) topicIndex {
	x := topicIndex{stageOf: map[string]*Stage{}, changelogOf: map[string]string{}, storeOf: map[string]string{}}
	ss := t.stages()
	for i := range ss {
		topics := append([]string(nil), ss[i].Sources...)
		for _, name := range ss[i].RepartitionSources {
			topics = append(topics, RepartitionTopic(appID, name))
		}
		for _, topic := range topics {
			// The first stage that reads a topic is the one stageOf gave.
			if _, ok := x.stageOf[topic]; !ok {
				x.stageOf[topic] = &ss[i]
			}
		}
		for _, store := range ss[i].Stores {
			topic := ChangelogTopic(appID, store)
			x.changelogOf[store], x.storeOf[topic] = topic, store
		}
	}
	return x
}
