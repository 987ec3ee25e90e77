package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNetworkTrigger(t *testing.T) {
	tests := []struct {
		name      string
		arm       bool
		armKey    int16
		armAfter  bool
		keys      []int16
		wantFires []bool
	}{
		{name: "unarmed never fires", keys: []int16{apiOffsetCommit, apiEndTxn, apiTxnOffsetCommit}, wantFires: []bool{false, false, false}},
		{name: "only the armed key fires", arm: true, armKey: apiEndTxn, keys: []int16{0, apiOffsetCommit, apiTxnOffsetCommit, apiEndTxn}, wantFires: []bool{false, false, false, true}},
		{name: "fires once", arm: true, armKey: apiEndTxn, keys: []int16{apiEndTxn, apiEndTxn}, wantFires: []bool{true, false}},
		{name: "after flag is reported", arm: true, armKey: apiOffsetCommit, armAfter: true, keys: []int16{apiOffsetCommit}, wantFires: []bool{true}},
		{name: "key 0 (Produce) can be armed", arm: true, armKey: 0, keys: []int16{1, 0}, wantFires: []bool{false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNetwork(nil)
			var fired int
			if tc.arm {
				n.arm(tc.armKey, tc.armAfter, func() { fired++ })
			}
			for i, k := range tc.keys {
				before := fired
				fire, after, onFire := n.trigger(k)
				assert.Equal(t, before, fired, "trigger itself must not run the fire func")
				assert.Equal(t, tc.wantFires[i], fire, "request %d (key %d)", i, k)
				if fire {
					assert.Equal(t, tc.armAfter, after)
					require.NotNil(t, onFire)
					onFire()
					assert.Equal(t, before+1, fired, "trigger must hand back the armed fire func")
				} else {
					assert.False(t, after)
					assert.Nil(t, onFire)
				}
			}
		})
	}
}

func TestNetworkDisarm(t *testing.T) {
	n := newNetwork(nil)
	n.arm(apiEndTxn, true, func() {})
	n.disarm()
	fire, _, _ := n.trigger(apiEndTxn)
	assert.False(t, fire)
}

func TestNetworkRearmReplaces(t *testing.T) {
	n := newNetwork(nil)
	n.arm(apiEndTxn, false, func() {})
	n.arm(apiTxnOffsetCommit, true, func() {})
	fire, _, _ := n.trigger(apiEndTxn)
	assert.False(t, fire)
	fire, after, _ := n.trigger(apiTxnOffsetCommit)
	assert.True(t, fire)
	assert.True(t, after)
}

// pipeNetwork returns a network whose dials hand out the client ends of
// fresh net.Pipes; the server ends arrive on the returned channel.
func pipeNetwork(t *testing.T) (*network, <-chan net.Conn) {
	t.Helper()
	servers := make(chan net.Conn, 8)
	n := newNetwork(func(context.Context, string, string) (net.Conn, error) {
		c, s := net.Pipe()
		t.Cleanup(func() { c.Close(); s.Close() })
		servers <- s
		return c, nil
	})
	return n, servers
}

// request is a fake Kafka request: size, API key, then some payload.
func request(key int16) []byte {
	b := make([]byte, 4, 12)
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = append(b, 0, 1, 2, 3, 4, 5)
	binary.BigEndian.PutUint32(b[:4], uint32(len(b)-4))
	return b
}

// readAsync reads n bytes from c in a goroutine.
func readAsync(c net.Conn, n int) <-chan []byte {
	out := make(chan []byte, 1)
	go func() {
		buf := make([]byte, n)
		read, _ := io.ReadFull(c, buf)
		out <- buf[:read]
	}()
	return out
}

func receive(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for the server side")
		return nil
	}
}

// armedConn dials one connection of a fresh pipe network, arms the crash
// point key (after: once written) and counts its firings.
func armedConn(t *testing.T, key int16, after bool) (*network, net.Conn, net.Conn, *atomic.Int32) {
	t.Helper()
	n, servers := pipeNetwork(t)
	c, err := n.DialContext(context.Background(), "tcp", "broker:9092")
	require.NoError(t, err)
	fired := new(atomic.Int32)
	n.arm(key, after, func() { fired.Add(1) })
	return n, c, <-servers, fired
}

func TestWatchedConnPassesUnarmedRequests(t *testing.T) {
	n, c, s, fired := armedConn(t, apiEndTxn, false)

	for _, b := range [][]byte{request(apiOffsetCommit), request(apiTxnOffsetCommit), {0, 0, 0}} {
		got := readAsync(s, len(b))
		w, err := c.Write(b)
		require.NoError(t, err)
		assert.Equal(t, len(b), w)
		assert.Equal(t, b, receive(t, got))
	}
	assert.Zero(t, fired.Load())
	assert.False(t, isCut(n))
	fire, _, _ := n.trigger(apiEndTxn)
	assert.True(t, fire, "other requests must leave the crash point armed")
}

func TestWatchedConnCutBeforeWrite(t *testing.T) {
	n, c, s, fired := armedConn(t, apiEndTxn, false)

	w, err := c.Write(request(apiEndTxn))
	assert.ErrorIs(t, err, errCut)
	assert.Zero(t, w)
	assert.Equal(t, int32(1), fired.Load())
	assert.True(t, isCut(n))

	// Nothing was delivered: the server sees the connection end at once.
	buf := make([]byte, 16)
	r, err := s.Read(buf)
	assert.Zero(t, r)
	assert.ErrorIs(t, err, io.EOF)

	_, err = n.DialContext(context.Background(), "tcp", "broker:9092")
	assert.ErrorIs(t, err, errCut)
}

func TestWatchedConnCutAfterWrite(t *testing.T) {
	n, c, s, fired := armedConn(t, apiTxnOffsetCommit, true)

	req := request(apiTxnOffsetCommit)
	got := readAsync(s, len(req))
	w, err := c.Write(req)
	require.NoError(t, err)
	assert.Equal(t, len(req), w)
	assert.Equal(t, req, receive(t, got), "the request reaches the broker")
	assert.Equal(t, int32(1), fired.Load())
	assert.True(t, isCut(n))

	// ... and then the connection is gone: the answer is lost.
	_, err = s.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	_, err = c.Write(request(apiOffsetCommit))
	assert.Error(t, err)

	_, err = n.DialContext(context.Background(), "tcp", "broker:9092")
	assert.ErrorIs(t, err, errCut)
}

func TestNetworkCutAllClosesEveryConnection(t *testing.T) {
	n, servers := pipeNetwork(t)
	var conns []net.Conn
	for range 3 {
		c, err := n.DialContext(context.Background(), "tcp", "broker:9092")
		require.NoError(t, err)
		conns = append(conns, c)
	}
	require.Len(t, n.conns, 3)
	require.NoError(t, conns[0].Close())
	assert.Len(t, n.conns, 2, "a closed connection leaves the set")

	n.cutAll()
	assert.Empty(t, n.conns)
	for range 3 {
		s := <-servers
		_, err := s.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF)
	}
	for _, c := range conns[1:] {
		_, err := c.Write(request(apiEndTxn))
		assert.Error(t, err)
	}
	_, err := n.DialContext(context.Background(), "tcp", "broker:9092")
	assert.ErrorIs(t, err, errCut)
}

func TestNetworkDialErrorPropagates(t *testing.T) {
	want := errors.New("connection refused")
	n := newNetwork(func(context.Context, string, string) (net.Conn, error) { return nil, want })
	c, err := n.DialContext(context.Background(), "tcp", "broker:9092")
	assert.Nil(t, c)
	assert.ErrorIs(t, err, want)
	assert.Empty(t, n.conns)
}

func isCut(n *network) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut
}
