package sim

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestFrameReaderFindsEveryHeaderHoweverTheStreamIsCut: a stream of frames
// fed in any pieces gives each frame's header once, in order, cut at
// headerCap.
func TestFrameReaderFindsEveryHeaderHoweverTheStreamIsCut(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bodies := rapid.SliceOf(rapid.SliceOfN(rapid.Byte(), 0, 200)).Draw(t, "bodies")
		var stream []byte
		for _, b := range bodies {
			stream = append(stream, frame(b)...)
		}
		var r frameReader
		var got [][]byte
		for len(stream) > 0 {
			n := rapid.IntRange(1, len(stream)).Draw(t, "piece")
			got = append(got, r.feed(stream[:n])...)
			stream = stream[n:]
		}
		require.Len(t, got, len(bodies))
		for i, b := range bodies {
			require.Equal(t, string(b[:min(len(b), headerCap)]), string(got[i]), "frame %d", i)
		}
	})
}
