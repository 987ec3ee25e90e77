package engine

import (
	"fmt"
	"strings"
)

// Guarantee is a processing guarantee, named as Kafka Streams'
// processing.guarantee is, plus the mistake modes that reproduce classic
// ways of breaking exactly-once.
type Guarantee string

// The guarantees the engine can run under.
const (
	// ExactlyOnceV2: read_committed input; outputs, changelog records and
	// the consumed offsets with the group's metadata in one transaction per
	// unit of work, from one transactional producer per instance.
	ExactlyOnceV2 Guarantee = "exactly_once_v2"
	// AtLeastOnce: the same topology without transactions; offsets are
	// committed after the outputs, so a crash in between replays input.
	AtLeastOnce Guarantee = "at_least_once"
	// PeekSideEffect is exactly_once_v2 whose sink records are sent from
	// inside processing by a separate plain producer, as a peek() that
	// calls producer.send() does. The transaction aborts on a crash; the
	// sends already happened. Symptom: duplicate notifications after every
	// crash or abort between processing and commit.
	PeekSideEffect Guarantee = "peek_side_effect"
)

// Guarantees lists every guarantee, the correct one first.
func Guarantees() []Guarantee {
	return []Guarantee{ExactlyOnceV2, AtLeastOnce, PeekSideEffect}
}

// ParseGuarantee returns the guarantee named s.
func ParseGuarantee(s string) (Guarantee, error) { return parseName("guarantee", s, Guarantees()) }

// parseName returns the member of all named s, or an error that lists them.
func parseName[T ~string](what, s string, all []T) (T, error) {
	names := make([]string, len(all))
	for i, v := range all {
		if string(v) == s {
			return v, nil
		}
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown %s %q (want one of %s)", what, s, strings.Join(names, ", "))
}

// transactional says whether units run inside a Kafka transaction.
func (g Guarantee) transactional() bool { return g != AtLeastOnce }

// sinksOutsideTransaction says whether sink records go through a plain
// producer during processing.
func (g Guarantee) sinksOutsideTransaction() bool { return g == PeekSideEffect }
