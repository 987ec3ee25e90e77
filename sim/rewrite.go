package sim

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/faults"
)

// rewriter applies the armed Rewrite faults to the brokers' answers, on
// kfake's run loop (kfake.Cluster.RewriteResponses); the driver arms them
// and collects those that fired.
type rewriter struct {
	mu    sync.Mutex
	armed []*armedRewrite
}

// armedRewrite is a fault waiting for an answer it can change: a Rewrite,
// or a BrokerError applied before its error.
type armedRewrite struct {
	index int // in the schedule
	fault faults.Fault
	key   int16
	// apply changes an answer and says how ("" when it cannot).
	apply func(kmsg.Response) string
	// did says what the rewrite changed, once it has.
	did string
}

// rewriteOf arms f, a Rewrite or an applied BrokerError, whose request has
// API key key.
func rewriteOf(i int, f faults.Fault, key int16) *armedRewrite {
	a := &armedRewrite{index: i, fault: f, key: key}
	a.apply = func(resp kmsg.Response) string { return applyRewrite(f.Rewrite, resp) }
	if f.Kind == faults.BrokerError {
		code := int16(0)
		if e, ok := kafkaError(f.Error); ok {
			code = e.Code
		}
		a.apply = func(resp kmsg.Response) string {
			// An answer that already says the request failed (another
			// fault refused it) did no work: saying it was done, then
			// failed, would be a lie no broker tells (a DUPLICATE_SEQUENCE_NUMBER
			// on a batch never written reads as success). The fault waits
			// for an answer to a request that was done.
			if anyErrorCode(reflect.ValueOf(resp)) {
				return ""
			}
			if setErrorCodes(reflect.ValueOf(resp), code) == 0 {
				return ""
			}
			return f.String()
		}
	}
	return a
}

func (r *rewriter) arm(a *armedRewrite) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed = append(r.armed, a)
}

// rewrite is the hook: the first armed rewrite of the answering client
// and request that can change resp changes it, and has fired. Requests
// are told apart by client id, which every client of an instance carries
// (its name); the simulator's own clients carry kgo's.
func (r *rewriter) rewrite(clientID string, req kmsg.Request, resp kmsg.Response) kmsg.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.armed {
		if a.did != "" || a.fault.Instance != clientID || req.Key() != a.key {
			continue
		}
		if did := a.apply(resp); did != "" {
			a.did = did
			break
		}
	}
	return resp
}

// takeFired removes and returns the rewrites that fired, in the order armed.
func (r *rewriter) takeFired() []*armedRewrite {
	r.mu.Lock()
	defer r.mu.Unlock()
	return takeFiredFrom(&r.armed)
}

// takeFiredFrom removes from armed, and returns in order, those that
// fired.
func takeFiredFrom(armed *[]*armedRewrite) []*armedRewrite {
	var fired []*armedRewrite
	*armed = slices.DeleteFunc(*armed, func(a *armedRewrite) bool {
		if a.did != "" {
			fired = append(fired, a)
		}
		return a.did != ""
	})
	return fired
}

// disarm takes every rewrite that has not fired off.
func (r *rewriter) disarm() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed = nil
}

// applyRewrite changes resp as rewrite says, and says how; "" when resp
// gives it nothing to change (an answer whose throttle the client would
// not wait out, lists of one, a fetch with records from one partition).
func applyRewrite(rewrite string, resp kmsg.Response) string {
	switch rewrite {
	case faults.Throttle:
		t, ok := resp.(kmsg.SetThrottleResponse)
		if !ok {
			return ""
		}
		t.SetThrottle(faults.ThrottleMs)
		if _, after := resp.(kmsg.ThrottleResponse).Throttle(); !after {
			t.SetThrottle(0) // the broker, not the client, waits at this version
			return ""
		}
		return fmt.Sprintf("throttled %dms", faults.ThrottleMs)
	case faults.Reorder:
		if n := reverseLists(reflect.ValueOf(resp)); n > 0 {
			return fmt.Sprintf("%d lists reversed", n)
		}
	case faults.Partial:
		if f, ok := resp.(*kmsg.FetchResponse); ok {
			return keepFirstPartition(f)
		}
	}
	return ""
}

// orderless are the fields whose presence in a list's elements marks a list
// of topics, partitions, brokers or groups: lists the protocol gives no
// order (not a partition's replicas, whose first is the preferred leader,
// nor a fetch's aborted transactions).
var orderless = []string{"Topic", "Partition", "NodeID", "Group"}

// reverseLists reverses, in place, every list of v (a response, walked
// through pointers and structs) whose elements are structs with one of the
// orderless fields, and counts those of two elements or more.
func reverseLists(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return reverseLists(v.Elem())
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			n += reverseLists(v.Field(i))
		}
		return n
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return 0
		}
		n := 0
		for i := range v.Len() {
			n += reverseLists(v.Index(i))
		}
		if v.Len() >= 2 && slices.ContainsFunc(orderless, func(name string) bool {
			_, ok := v.Type().Elem().FieldByName(name)
			return ok
		}) {
			swap := reflect.Swapper(v.Interface())
			for i, j := 0, v.Len()-1; i < j; i, j = i+1, j-1 {
				swap(i, j)
			}
			n++
		}
		return n
	}
	return 0
}

// keepFirstPartition empties every partition of f with records but the
// first, and says what it kept ("" when at most one partition had any).
func keepFirstPartition(f *kmsg.FetchResponse) string {
	kept, emptied := "", 0
	for ti := range f.Topics {
		t := &f.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if len(p.RecordBatches) == 0 {
				continue
			}
			if kept == "" {
				kept = fmt.Sprintf("%s[%d]", t.Topic, p.Partition)
				continue
			}
			p.RecordBatches, p.AbortedTransactions = nil, nil
			emptied++
		}
	}
	if emptied == 0 {
		return ""
	}
	others := "partitions"
	if emptied == 1 {
		others = "partition"
	}
	return fmt.Sprintf("kept the records of %s, emptied %d other %s", kept, emptied, others)
}

// anyErrorCode reports whether v (a response) has an ErrorCode that is
// not 0.
func anyErrorCode(v reflect.Value) bool {
	found := false
	eachErrorCode(v, func(code reflect.Value) { found = found || code.Int() != 0 })
	return found
}

// setErrorCodes sets every ErrorCode of v (a response) to code, and
// counts them: the request was handled, and its answer says it failed,
// top-level and for every entity.
func setErrorCodes(v reflect.Value, code int16) int {
	n := 0
	eachErrorCode(v, func(c reflect.Value) { c.SetInt(int64(code)); n++ })
	return n
}

// eachErrorCode calls fn on every int16 field named ErrorCode of v,
// walked through pointers, structs and lists.
func eachErrorCode(v reflect.Value, fn func(reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			eachErrorCode(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			field := v.Field(i)
			if v.Type().Field(i).Name == "ErrorCode" && field.Kind() == reflect.Int16 {
				fn(field)
				continue
			}
			eachErrorCode(field, fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			eachErrorCode(v.Index(i), fn)
		}
	}
}
