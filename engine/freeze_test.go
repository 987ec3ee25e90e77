package engine

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReleaseHeldGoesInOrder: writes held by a frozen network at one instant
// are let go one at a time, by destination and bytes, whatever order their
// goroutines reached the network in; thaw lets the rest go at once.
func TestReleaseHeldGoesInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(swallowingDial(t))
		hosts := []string{"broker-2:9092", "broker-0:9092", "broker-1:9092"}
		conns := make(map[string]net.Conn)
		for _, h := range hosts {
			c, err := n.DialContext(context.Background(), "tcp", h)
			require.NoError(t, err)
			conns[h] = c
		}
		n.freeze()
		var mu sync.Mutex
		var order []string
		for _, h := range hosts {
			go func() {
				_, err := conns[h].Write(request(apiEndTxn))
				assert.NoError(t, err)
				mu.Lock()
				order = append(order, h)
				mu.Unlock()
			}()
		}
		synctest.Wait()
		assert.Empty(t, order, "a frozen network let a write through")
		var announced []string
		for {
			_, what, ok := n.nextHeld()
			if !n.releaseOne() {
				assert.False(t, ok, "nextHeld announced a write releaseOne did not let go")
				break
			}
			announced = append(announced, strings.Fields(what)[1])
			synctest.Wait()
		}
		assert.Equal(t, []string{"broker-0:9092", "broker-1:9092", "broker-2:9092"}, order)
		assert.Equal(t, order, announced, "nextHeld must name the write releaseOne lets go")

		n.freeze()
		go func() { _, _ = conns["broker-0:9092"].Write(request(apiEndTxn)) }()
		synctest.Wait()
		n.thaw()
		synctest.Wait()
		assert.False(t, n.releaseOne(), "thaw must let every held write go")
		for _, c := range conns {
			c.Close()
		}
	})
}

// TestReleasedNetworkNeverFreezes: once an instance has stopped or crashed,
// nothing freezes its network again, so a closing client's goodbye
// (LeaveGroup) is never held by a fault that fires as it closes, with no
// one left to let it go.
func TestReleasedNetworkNeverFreezes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(swallowingDial(t))
		c, err := n.DialContext(context.Background(), "tcp", "broker-0:9092")
		require.NoError(t, err)
		n.freeze()
		wrote := make(chan struct{})
		go func() { _, _ = c.Write(request(apiEndTxn)); close(wrote) }()
		synctest.Wait()
		n.release()
		synctest.Wait()
		select {
		case <-wrote:
		default:
			t.Fatal("release did not let the held write go")
		}
		n.freeze()
		_, err = c.Write(request(apiEndTxn))
		require.NoError(t, err, "a released network held or failed a write")
		_, _, ok := n.nextHeld()
		require.False(t, ok)
		n.mu.Lock()
		frozen := n.frozen
		n.mu.Unlock()
		require.False(t, frozen, "freeze froze a released network")
		c.Close()
	})
}

// swallowingDial dials a broker that reads and swallows everything.
func swallowingDial(t *testing.T) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		c, s := net.Pipe()
		go func() {
			buf := make([]byte, 64)
			for {
				if _, err := s.Read(buf); err != nil {
					return
				}
			}
		}()
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, nil
	}
}
