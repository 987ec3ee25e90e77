package sim

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// WireEvent is one thing the brokers' end of the simulated network carried:
// a request as a broker read it, or an answer as the broker wrote it. It is
// what the broker saw, not what a client says it did: the evidence that a
// fault had the effect the faults package claims for it.
type WireEvent struct {
	// T is the virtual time since the run began.
	T time.Duration
	// Broker is the node id of the broker; Conn numbers the broker's
	// connections in the order it accepted them (from 1; a restart goes on
	// counting).
	Broker int32
	Conn   int
	// Client is the client id of the request, or of the request answered
	// (an instance's name; the driver's own admin client has kgo's default).
	Client string
	Key    int16
	Corr   int32
	What   WireWhat
}

// WireWhat says what a WireEvent is.
type WireWhat string

const (
	// WireRequest: the broker read the whole request.
	WireRequest WireWhat = "request"
	// WireAnswer: the broker wrote the answer and the client read it.
	WireAnswer WireWhat = "answer"
	// WireAnswerLost: the broker handled the request, but the answer could
	// not be written: the client had closed the connection.
	WireAnswerLost WireWhat = "answer lost"
)

// Request names the event's API (Produce, EndTxn…).
func (e WireEvent) Request() string { return kmsg.NameForKey(e.Key) }

func (e WireEvent) String() string {
	return fmt.Sprintf("%v broker %d conn %d %s %s #%d %s", e.T, e.Broker, e.Conn, e.Client, e.Request(), e.Corr, e.What)
}

// wireTap records what every broker reads and writes. It is off the run's
// trace hash: it watches, it never orders anything.
type wireTap struct {
	start time.Time
	mu    sync.Mutex
	conns map[int32]int // accepted so far, per broker
	log   []WireEvent
}

func newWireTap(start time.Time) *wireTap {
	return &wireTap{start: start, conns: make(map[int32]int)}
}

// listen wraps a kfake ListenFn so that every accepted connection is tapped;
// brokers listen on basePort + node id.
func (w *wireTap) listen(listen func(network, addr string) (net.Listener, error)) func(network, addr string) (net.Listener, error) {
	return func(network, addr string) (net.Listener, error) {
		l, err := listen(network, addr)
		if err != nil {
			return nil, err
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("tapping %s: %w", addr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("tapping %s: %w", addr, err)
		}
		return &tappedListener{Listener: l, tap: w, broker: int32(p - basePort)}, nil
	}
}

func (w *wireTap) record(e WireEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, e)
}

// events returns what was recorded, in time order (ties: broker,
// connection, correlation id, requests before answers); nil when nothing
// was tapped.
func (w *wireTap) events() []WireEvent {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.log)
	slices.SortStableFunc(out, func(a, b WireEvent) int {
		return cmp.Or(cmp.Compare(a.T, b.T), cmp.Compare(a.Broker, b.Broker), cmp.Compare(a.Conn, b.Conn), cmp.Compare(a.Corr, b.Corr))
	})
	return out
}

type tappedListener struct {
	net.Listener
	tap    *wireTap
	broker int32
}

func (l *tappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.tap.mu.Lock()
	l.tap.conns[l.broker]++
	n := l.tap.conns[l.broker]
	l.tap.mu.Unlock()
	return &tappedConn{Conn: c, tap: l.tap, broker: l.broker, id: n, asked: make(map[int32]WireEvent)}, nil
}

// tappedConn parses the Kafka framing of what passes through: each request
// is a 4-byte size and a header that begins with the API key, version,
// correlation id and client id; each answer a 4-byte size and the
// correlation id. Only the headers are kept.
type tappedConn struct {
	net.Conn
	tap    *wireTap
	broker int32
	id     int

	mu    sync.Mutex
	in    frameReader
	asked map[int32]WireEvent // correlation id → request, not yet answered
}

func (c *tappedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.in.feed(b[:n]) {
		if len(h) < 10 {
			continue // not a request header kfake would accept either
		}
		key, corr := int16(binary.BigEndian.Uint16(h)), int32(binary.BigEndian.Uint32(h[4:]))
		client := ""
		if l := int(int16(binary.BigEndian.Uint16(h[8:]))); l > 0 && 10+l <= len(h) {
			client = string(h[10 : 10+l])
		}
		e := WireEvent{T: time.Since(c.tap.start), Broker: c.broker, Conn: c.id, Client: client, Key: key, Corr: corr, What: WireRequest}
		c.asked[corr] = e
		c.tap.record(e)
	}
	return n, err
}

// Write is one answer: kfake writes each whole, size and correlation id
// first.
func (c *tappedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if len(b) < 8 {
		return n, err
	}
	corr := int32(binary.BigEndian.Uint32(b[4:]))
	c.mu.Lock()
	e, ok := c.asked[corr]
	delete(c.asked, corr)
	c.mu.Unlock()
	if !ok {
		return n, err
	}
	e.T, e.What = time.Since(c.tap.start), WireAnswer
	if err != nil {
		e.What = WireAnswerLost
	}
	c.tap.record(e)
	return n, err
}

// frameReader splits a byte stream into size-prefixed frames and returns
// the first bytes (up to headerCap) of each frame completed by a feed.
type frameReader struct {
	size   [4]byte
	nsize  int    // bytes of size read
	left   int    // bytes of the frame's body still to come
	header []byte // the body's first bytes, up to headerCap
}

const headerCap = 64

func (r *frameReader) feed(b []byte) (headers [][]byte) {
	for len(b) > 0 {
		if r.nsize < 4 {
			k := copy(r.size[r.nsize:], b)
			r.nsize += k
			b = b[k:]
			if r.nsize == 4 {
				r.left = int(binary.BigEndian.Uint32(r.size[:]))
				r.header = r.header[:0]
			}
			if r.nsize == 4 && r.left == 0 {
				headers = append(headers, nil)
				r.nsize = 0
			}
			continue
		}
		k := min(len(b), r.left)
		if room := headerCap - len(r.header); room > 0 {
			r.header = append(r.header, b[:min(k, room)]...)
		}
		r.left -= k
		b = b[k:]
		if r.left == 0 {
			headers = append(headers, slices.Clone(r.header))
			r.nsize = 0
		}
	}
	return headers
}
