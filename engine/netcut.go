package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"sync"
	"time"
)

// errCut is what a connection of a crashed instance returns.
var errCut = errors.New("instance crashed: connection cut")

// Kafka API keys the crash points watch for.
const (
	apiOffsetCommit    int16 = 8
	apiEndTxn          int16 = 26
	apiTxnOffsetCommit int16 = 28
)

// network owns an instance's connections, so that a crash can cut them all at
// once (the broker sees a dead client: no leave-group, no abort) and so that
// crash points inside the commit can fire at the exact request they name.
type network struct {
	dial func(ctx context.Context, network, host string) (net.Conn, error)

	mu    sync.Mutex
	cut   bool
	conns map[*watchedConn]struct{}
	// armed, when set, fires at the first request with this API key:
	// before it is written, or once it is written (its answer then lost).
	armed      int16
	armedAfter bool
	onFire     func()
	// drop, when set, cuts the connection a request with this API key is
	// written on, once it is written (without crashing: the client may
	// dial again).
	drop      int16
	dropFired bool
	// frozen holds every write and dial: a paused process sends nothing,
	// heartbeats included. What it held is let go one at a time (see
	// releaseOne), so a woken process's traffic is not ordered by Go's
	// scheduler.
	frozen bool
	held   []*heldWrite
	// released: the instance has stopped or crashed, and nothing freezes
	// its network again. A closing client must be able to say goodbye
	// (LeaveGroup, the end of a fetch session) whatever a fault that fires
	// meanwhile would freeze: nobody lets a closed instance's writes go.
	released bool
	// onHeld, when set, is called each time a write is held.
	onHeld func()
}

// heldWrite is one write or dial waiting for a frozen network to let it go.
type heldWrite struct {
	at      time.Time
	order   string // destination and bytes: orders writes held at one instant
	release chan struct{}
}

func newNetwork(dial func(ctx context.Context, network, host string) (net.Conn, error)) *network {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	return &network{dial: dial, conns: make(map[*watchedConn]struct{}), armed: -1, drop: -1}
}

// DialContext is the kgo dialer of the instance.
func (n *network) DialContext(ctx context.Context, nw, host string) (net.Conn, error) {
	n.waitThawed("dial " + host)
	n.mu.Lock()
	cut := n.cut
	n.mu.Unlock()
	if cut {
		return nil, errCut
	}
	c, err := n.dial(ctx, nw, host)
	if err != nil {
		return nil, err
	}
	wc := &watchedConn{Conn: c, n: n, host: host}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut {
		c.Close()
		return nil, errCut
	}
	n.conns[wc] = struct{}{}
	return wc, nil
}

// arm makes the next request with the given API key cut the network, before
// it is written or (after) once it is. fire runs when it does.
func (n *network) arm(key int16, after bool, fire func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.armed, n.armedAfter, n.onFire = key, after, fire
}

func (n *network) disarm() { n.arm(-1, false, nil) }

// cutAll closes every connection and refuses new ones.
func (n *network) cutAll() {
	n.mu.Lock()
	n.cut = true
	conns := n.conns
	n.conns = make(map[*watchedConn]struct{})
	n.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

// armDrop makes the next written request with this API key drop the
// connection it went on.
func (n *network) armDrop(key int16) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.drop, n.dropFired = key, false
}

// takeDropFired reports whether an armed drop has fired since it was last
// asked, and forgets it.
func (n *network) takeDropFired() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	fired := n.dropFired
	n.dropFired = false
	return fired
}

// freeze holds every write and dial until thaw; a released network does
// not freeze.
func (n *network) freeze() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.frozen = !n.released
}

// release thaws the network for good: freeze no longer holds anything.
func (n *network) release() {
	n.mu.Lock()
	n.released = true
	n.mu.Unlock()
	n.thaw()
}

// thaw lets every held write go, and no longer holds any.
func (n *network) thaw() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.frozen = false
	for _, h := range n.held {
		close(h.release)
	}
	n.held = nil
}

// releaseOne lets the oldest held write go (ties broken by destination and
// bytes) and reports whether there was one. The network stays frozen, so
// what the released write leads to is held in turn.
func (n *network) releaseOne() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.oldestHeld()
	if i < 0 {
		return false
	}
	close(n.held[i].release)
	n.held = slices.Delete(n.held, i, i+1)
	return true
}

// nextHeld reports the write releaseOne would let go next.
func (n *network) nextHeld() (at time.Time, order string, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.oldestHeld()
	if i < 0 {
		return time.Time{}, "", false
	}
	return n.held[i].at, n.held[i].order, true
}

// oldestHeld is the index of the oldest held write (ties broken by
// destination and bytes), or -1; n.mu is held.
func (n *network) oldestHeld() int {
	if len(n.held) == 0 {
		return -1
	}
	i := 0
	for j, h := range n.held {
		if h.at.Before(n.held[i].at) || h.at.Equal(n.held[i].at) && h.order < n.held[i].order {
			i = j
		}
	}
	return i
}

// waitThawed blocks while the network is frozen; order names the write.
func (n *network) waitThawed(order string) {
	n.mu.Lock()
	if !n.frozen {
		n.mu.Unlock()
		return
	}
	h := &heldWrite{at: time.Now(), order: order, release: make(chan struct{})}
	n.held = append(n.held, h)
	onHeld := n.onHeld
	n.mu.Unlock()
	if onHeld != nil {
		onHeld()
	}
	<-h.release
}

// trigger reports whether a request with key fires the armed crash point,
// and whether it fires after the write; it disarms when it does.
func (n *network) trigger(key int16) (fire, after bool, onFire func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.armed < 0 || n.armed != key {
		return false, false, nil
	}
	after, onFire = n.armedAfter, n.onFire
	n.armed, n.onFire = -1, nil
	return true, after, onFire
}

// triggerDrop reports whether a request with key fires the armed drop, and
// disarms it.
func (n *network) triggerDrop(key int16) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.drop < 0 || n.drop != key {
		return false
	}
	n.drop, n.dropFired = -1, true
	return true
}

type watchedConn struct {
	net.Conn
	n    *network
	host string
}

// Write inspects the API key of each request (kgo writes a request in one
// call: a 4-byte size, then the header that starts with the key).
func (c *watchedConn) Write(b []byte) (int, error) {
	c.n.waitThawed("write " + c.host + " " + string(b))
	if len(b) >= 6 {
		key := int16(binary.BigEndian.Uint16(b[4:6]))
		if c.n.triggerDrop(key) {
			// Only this connection: its request's answer is lost, and the
			// client's other connections (fetches, heartbeats) go on. What
			// the client writes and dials on noticing is held, as all its
			// writes are, until the driver lets it go in order.
			n, err := c.Conn.Write(b)
			c.Close()
			return n, err
		}
		if fire, after, onFire := c.n.trigger(key); fire {
			if !after {
				onFire()
				c.n.cutAll()
				return 0, errCut
			}
			n, err := c.Conn.Write(b)
			onFire()
			c.n.cutAll()
			return n, err
		}
	}
	return c.Conn.Write(b)
}

func (c *watchedConn) Close() error {
	c.n.mu.Lock()
	delete(c.n.conns, c)
	c.n.mu.Unlock()
	return c.Conn.Close()
}
