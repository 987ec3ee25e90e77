package history

// Snapshot is the final content of the topics a run touched, read twice:
// once as a read_committed consumer sees it and once as a read_uncommitted
// one does, plus the consumer group's committed offsets.
type Snapshot struct {
	// Committed maps a topic to its records visible to read_committed, in
	// (partition, offset) order.
	Committed map[string][]Record `json:"committed"`
	// Uncommitted maps a topic to every data record in its log, aborted
	// ones included, in (partition, offset) order.
	Uncommitted map[string][]Record `json:"uncommitted"`
	// GroupOffsets are the offsets the application's consumer group has
	// committed, sorted by topic and partition.
	GroupOffsets []Offset `json:"group_offsets"`
	// Tables maps each table of the application's database, when it has
	// one, to its rows in rowid order.
	Tables map[string][]Row `json:"tables,omitempty"`
}

// Row is one database row, its columns rendered as text (NULL as "").
type Row struct {
	Table  string            `json:"table"`
	Values map[string]string `json:"values"`
}
