package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
)

// Word count, the two-stage scenario: lines of words, keyed by line, are
// split into words in a first stage, which repartitions them by word; a
// second stage counts each word in a store and forwards the new count.
// Every word's counts are then 1, 2, …, n whatever order its records reach
// the second stage in, so the generic oracle judges it exactly.
const (
	WordCountName    = "wordcount"
	LinesTopic       = "lines"
	WordCountsTopic  = "word-counts"
	WordsRepartition = "words"
	CountsStore      = "counts"
)

// vocabulary is what lines are made of, the first words the most frequent.
var vocabulary = strings.Fields(`the of and to a in is it you that he was for on are with as his they be
at one have this from or had by hot word but what some we can out other were all there when up use
your how said an each she which do their time if will way about many then them write would like so`)

// WordCount is the word count application.
func WordCount() App {
	return App{Name: WordCountName, Topology: wordCountTopology, Input: lines}
}

func wordCountTopology(prefix string) *engine.Topology {
	return &engine.Topology{Stages: []engine.Stage{
		{
			Name:         "split",
			Sources:      []string{prefix + LinesTopic},
			Repartitions: []string{WordsRepartition},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				for i, w := range strings.Fields(rec.Value) {
					// The value names the word's place, for a reader.
					ctx.Repartition(WordsRepartition, w, rec.Key+"#"+strconv.Itoa(i))
				}
				return nil
			},
		},
		{
			Name:               "count",
			RepartitionSources: []string{WordsRepartition},
			Stores:             []string{CountsStore},
			Cached:             []string{CountsStore},
			Sinks:              []string{prefix + WordCountsTopic},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				n := int64(0)
				if v, ok := ctx.Get(CountsStore, rec.Key); ok {
					var err error
					if n, err = strconv.ParseInt(v, 10, 64); err != nil {
						return fmt.Errorf("count of %q: %w", rec.Key, err)
					}
				}
				n++
				ctx.Put(CountsStore, rec.Key, strconv.FormatInt(n, 10))
				ctx.Forward(prefix+WordCountsTopic, rec.Key, strconv.FormatInt(n, 10))
				return nil
			},
		},
	}}
}

// lines are n lines of 1 to 6 words drawn from seed, frequent words more
// often (a word's weight falls with its place in the vocabulary).
func lines(seed uint64, n int) []Input {
	rng := rand.New(rand.NewPCG(seed, 0x776f726473)) // stream "words"
	out := make([]Input, n)
	for i := range out {
		ws := make([]string, 1+rng.IntN(6))
		for j := range ws {
			// The smaller of two draws: the first words come most.
			ws[j] = vocabulary[min(rng.IntN(len(vocabulary)), rng.IntN(len(vocabulary)))]
		}
		out[i] = Input{Key: fmt.Sprintf("l%05d", i), Value: strings.Join(ws, " ")}
	}
	return out
}
