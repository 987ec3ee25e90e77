package orders

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeEncoded: wherever decodeEncoded takes a value, encoding/json
// takes it too and gives the same Order.
func FuzzDecodeEncoded(f *testing.F) {
	for _, o := range []Order{
		{ID: "o00001", Product: "p014", Customer: "c026", Quantity: 5},
		{ID: "o", Product: "p", Customer: "", Quantity: 0},
		{ID: "ö\u2028", Product: "<&>", Customer: "c", Quantity: -7},
		{ID: `a"b`, Product: `c\d`, Customer: "\x01", Quantity: 1 << 62},
	} {
		f.Add(o.Encode())
	}
	for _, s := range []string{
		`{"order_id":"o","product_id":"p","customer_id":"c","quantity":05}`,
		`{"order_id":"o","product_id":"p","customer_id":"c","quantity":-0}`,
		`{"order_id":"o","product_id":"p","customer_id":"c","quantity":1e3}`,
		`{"order_id":"o","product_id":"p","customer_id":"c","quantity":99999999999999999999}`,
		`{"order_id":"o","product_id":"p","customer_id":"c","quantity":1} `,
		"{\"order_id\":\"\xff\",\"product_id\":\"p\",\"customer_id\":\"c\",\"quantity\":1}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := decodeEncoded(v)
		if !ok {
			return
		}
		var want Order
		require.NoError(t, json.Unmarshal([]byte(v), &want), "decodeEncoded took %q", v)
		require.Equal(t, want, got, "%q", v)
	})
}

// TestDecodeTakesWhatEncodeWrites: the inputs a run writes never reach
// encoding/json.
func TestDecodeTakesWhatEncodeWrites(t *testing.T) {
	os, err := Generate(1, DefaultWorkload())
	require.NoError(t, err)
	for _, o := range os {
		got, ok := decodeEncoded(o.Encode())
		require.True(t, ok, "%q", o.Encode())
		require.Equal(t, o, got)
	}
}
