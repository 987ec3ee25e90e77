package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
)

// TestEOSTestComputesWhatKafkasVerifierExpects: a serial run of the
// topology forwards, per key and in input order, the echo of each value,
// the running minimum and sum (first sub-topology) and the running maximum
// and count (after the repartition topic), as EosTestDriver verifies them.
func TestEOSTestComputesWhatKafkasVerifierExpects(t *testing.T) {
	const parts = 2
	values := map[string][]string{"7": {"5", "3", "9"}, "42": {"10", "10"}}
	var inputs []history.Record
	offsets := make(map[int32]int64)
	for _, kv := range [][2]string{{"7", "5"}, {"42", "10"}, {"7", "3"}, {"42", "10"}, {"7", "9"}} {
		p := engine.KeyPartition(kv[0], parts)
		inputs = append(inputs, history.Record{Topic: EOSTestDataTopic, Partition: p, Offset: offsets[p], Key: kv[0], Value: kv[1]})
		offsets[p]++
	}
	got, err := engine.RunSerial(eosTestTopology(""), "app", parts, inputs)
	require.NoError(t, err)
	outputs := make(map[string]map[string][]string)
	for _, r := range got {
		if outputs[r.Topic] == nil {
			outputs[r.Topic] = make(map[string][]string)
		}
		outputs[r.Topic][r.Key] = append(outputs[r.Topic][r.Key], r.Value)
	}
	assert.Equal(t, values, outputs[EOSTestEcho])
	assert.Equal(t, map[string][]string{"7": {"5", "3", "3"}, "42": {"10", "10"}}, outputs[EOSTestMin])
	assert.Equal(t, map[string][]string{"7": {"5", "8", "17"}, "42": {"10", "20"}}, outputs[EOSTestSum])
	assert.Equal(t, map[string][]string{"7": {"5", "5", "9"}, "42": {"10", "10"}}, outputs[EOSTestMax])
	assert.Equal(t, map[string][]string{"7": {"1", "2", "3"}, "42": {"1", "2"}}, outputs[EOSTestCnt])
	assert.NotContains(t, outputs, engine.RepartitionTopic("app", EOSTestRepartition), "internal, not returned")
}

func TestEOSTestInput(t *testing.T) {
	in := EOSTestInput(3, 500)
	require.Len(t, in, 500)
	assert.Equal(t, in, EOSTestInput(3, 500), "a function of the seed")
	assert.NotEqual(t, in, EOSTestInput(4, 500))
	keys := make(map[string]bool)
	for _, r := range in {
		keys[r.Key] = true
	}
	assert.Greater(t, len(keys), 90, "keys spread over the range")
}
