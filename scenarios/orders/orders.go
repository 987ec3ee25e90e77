// Package orders is the orders pipeline from Kafka Streams' exactly-once
// example: orders keyed by product decrement an inventory store and each
// produce one notification to the customer. It owns the record formats, the
// topology, the seeded input generator and the model the checkers judge by.
package orders

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// Names of the topics, the store and the header of the pipeline.
const (
	OrdersTopic        = "orders"
	NotificationsTopic = "notifications"
	InventoryStore     = "inventory"
	OrderIDHeader      = "order-id"
)

// Topics names the pipeline's topics.
type Topics struct{ Orders, Notifications string }

// TopicsWithPrefix names the pipeline's topics with prefix before each: a
// run on a shared cluster keeps its topics apart from every other's. An
// empty prefix gives OrdersTopic and NotificationsTopic.
func TopicsWithPrefix(prefix string) Topics {
	return Topics{Orders: prefix + OrdersTopic, Notifications: prefix + NotificationsTopic}
}

// Order is one input record's value.
type Order struct {
	ID       string `json:"order_id"`
	Product  string `json:"product_id"`
	Customer string `json:"customer_id"`
	Quantity int64  `json:"quantity"`
}

// Decode parses an order record's value.
func Decode(value string) (Order, error) {
	o, ok := decodeEncoded(value)
	if !ok {
		if err := json.Unmarshal([]byte(value), &o); err != nil {
			return Order{}, fmt.Errorf("decoding order: %w", err)
		}
	}
	if o.ID == "" || o.Product == "" {
		return Order{}, fmt.Errorf("decoding order %q: missing order or product id", value)
	}
	return o, nil
}

// decodeEncoded parses, without reflection, the one form Encode writes:
// {"order_id":"…","product_id":"…","customer_id":"…","quantity":N} with
// strings that need no unescaping. ok is false for anything else, which
// Decode leaves to encoding/json; where ok is true, the Order is the one
// encoding/json would give (FuzzDecodeEncoded). A run decodes every order
// several times (the topology, then the checkers' model), and encoding/json
// took 2.4 µs and 9 allocations for each.
func decodeEncoded(v string) (o Order, ok bool) {
	fields := [...]struct {
		prefix string
		to     *string
	}{{`{"order_id":"`, &o.ID}, {`,"product_id":"`, &o.Product}, {`,"customer_id":"`, &o.Customer}}
	for _, f := range fields {
		if v, ok = strings.CutPrefix(v, f.prefix); !ok {
			return Order{}, false
		}
		end := strings.IndexByte(v, '"')
		if end < 0 || !plainJSONString(v[:end]) {
			return Order{}, false
		}
		*f.to, v = v[:end], v[end+1:]
	}
	if v, ok = strings.CutPrefix(v, `,"quantity":`); !ok {
		return Order{}, false
	}
	num, ok := strings.CutSuffix(v, "}")
	if !ok || !canonicalInt(num) {
		return Order{}, false
	}
	q, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return Order{}, false
	}
	o.Quantity = q
	return o, true
}

// plainJSONString reports whether s, the body of a JSON string, decodes to
// itself: valid UTF-8, no escapes, no control characters.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.ValidString(s)
}

// canonicalInt reports whether s is a JSON integer: an optional minus, then
// 0 or digits not starting with 0.
func canonicalInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Encode renders an order as its record value.
func (o Order) Encode() string { return string(o.encode()) }

// encode is Encode's bytes, for a record value.
func (o Order) encode() []byte {
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // a struct of strings and ints always encodes
	}
	return b
}

// Partition is the partition of the orders topic a product's orders go to.
// The pipeline computes it rather than leaving it to a client partitioner so
// that the generator, the simulator and the checkers agree on it.
func Partition(product string, partitions int) int32 {
	h := fnv.New32a()
	h.Write([]byte(product))
	return int32(h.Sum32() % uint32(partitions))
}

// Notification is the text sent to the customer for an order.
func Notification(orderID string) string { return "Order " + orderID + " processed." }

// Topology returns the pipeline's topology. initialStock is every product's
// stock before its first order.
func Topology(t Topics, initialStock int64) *engine.Topology {
	return &engine.Topology{
		Source: t.Orders,
		Stores: []string{InventoryStore},
		Sinks:  []string{t.Notifications},
		Process: func(ctx *engine.ProcessContext, rec history.Record) error {
			o, err := Decode(rec.Value)
			if err != nil {
				return err
			}
			stock := initialStock
			if v, ok := ctx.Get(InventoryStore, o.Product); ok {
				if stock, err = strconv.ParseInt(v, 10, 64); err != nil {
					return fmt.Errorf("stock of %s: %w", o.Product, err)
				}
			}
			ctx.Put(InventoryStore, o.Product, strconv.FormatInt(stock-o.Quantity, 10))
			ctx.Forward(t.Notifications, o.Customer, Notification(o.ID),
				history.Header{Key: OrderIDHeader, Value: o.ID})
			return nil
		},
	}
}

// Spec returns what the checkers judge the pipeline of application appID by.
func Spec(appID string, t Topics, initialStock int64) invariants.Spec {
	// The checkers decode each order several times (its id, its product,
	// its quantity); a cache keeps JSON decoding out of their running time.
	var mu sync.Mutex
	cache := make(map[string]Order)
	decode := func(value string) (Order, error) {
		mu.Lock()
		defer mu.Unlock()
		if o, ok := cache[value]; ok {
			return o, nil
		}
		o, err := Decode(value)
		if err == nil {
			cache[value] = o
		}
		return o, err
	}
	return invariants.Spec{
		Oracle: func(inputs []history.Record) ([]history.Record, error) {
			return engine.RunSerial(Topology(t, initialStock), appID, 0, inputs)
		},
		InputTopic:     t.Orders,
		OutputTopic:    t.Notifications,
		ChangelogTopic: engine.ChangelogTopic(appID, InventoryStore),
		InputID: func(r history.Record) (string, error) {
			o, err := decode(r.Value)
			return o.ID, err
		},
		OutputFor: func(r history.Record) (string, error) {
			id, ok := r.Header(OrderIDHeader)
			if !ok {
				return "", fmt.Errorf("notification %s[%d]@%d has no %s header", r.Topic, r.Partition, r.Offset, OrderIDHeader)
			}
			return id, nil
		},
		StateKey: func(r history.Record) (string, error) {
			o, err := decode(r.Value)
			return o.Product, err
		},
		Initial: func(string) string { return strconv.FormatInt(initialStock, 10) },
		Apply: func(state string, in history.Record) (string, error) {
			o, err := decode(in.Value)
			if err != nil {
				return "", err
			}
			stock, err := strconv.ParseInt(state, 10, 64)
			if err != nil {
				return "", fmt.Errorf("stock %q: %w", state, err)
			}
			return strconv.FormatInt(stock-o.Quantity, 10), nil
		},
	}
}
