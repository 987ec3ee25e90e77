package faults

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eosim/eosim/engine"
)

// Band is a length of hold named by what it outlasts of the holding
// client's own timeouts (engine.Timeouts), not by milliseconds: the same
// band holds an EndTxn and a Produce for different lengths, because their
// clients give up on them after different times. With R the request's
// timeout (engine.Timeouts.Request), S the session timeout and T the
// transaction timeout, a band is an interval of lengths:
//
//	within-request  (0, R)               answered before the client gives up
//	past-request    (R, S)               the client retries or moves on; the member lives
//	past-session    (max(R, S), T)       …and the group has evicted a member that stopped
//	                                     heartbeating; the transaction lives
//	past-txn        (max(R, S, T), +R)   the coordinator has aborted the transaction
//
// A request is held for the middle of its band's interval. A band whose
// interval is empty for a request does not exist for it (past-request,
// for a client whose requests wait as long as its session lasts, as kgo's
// defaults do): ErrEmptyBand.
type Band string

const (
	WithinRequest Band = "within-request"
	PastRequest   Band = "past-request"
	PastSession   Band = "past-session"
	PastTxn       Band = "past-txn"
)

// Bands lists the bands, shortest first.
func Bands() []Band { return []Band{WithinRequest, PastRequest, PastSession, PastTxn} }

// ErrEmptyBand is wrapped by Hold's error for a band that is empty for the
// request under the client's timeouts.
var ErrEmptyBand = errors.New("the band is empty under the client's timeouts")

// ParseBand returns the band named s.
func ParseBand(s string) (Band, error) {
	if b := Band(s); slices.Contains(Bands(), b) {
		return b, nil
	}
	return "", fmt.Errorf("band %q is not one of %s", s, joinBands(", "))
}

// Interval returns the lengths of band b for a client with timeouts t
// holding the request named request: (lo, hi), empty when lo >= hi.
func (b Band) Interval(t engine.Timeouts, request string) (lo, hi time.Duration) {
	r, s, x := t.Request(request), t.Session, t.Transaction
	switch b {
	case WithinRequest:
		return 0, r
	case PastRequest:
		return r, s
	case PastSession:
		return max(r, s), x
	case PastTxn:
		lo := max(r, s, x)
		return lo, lo + r
	}
	return 0, 0
}

// Hold is how long band b holds request for a client with timeouts t: the
// middle of its interval, to the millisecond (ErrEmptyBand when the
// interval is empty).
func (b Band) Hold(t engine.Timeouts, request string) (time.Duration, error) {
	lo, hi := b.Interval(t, request)
	if lo >= hi {
		return 0, fmt.Errorf("%s %s: request timeout %v, session timeout %v, transaction timeout %v: %w",
			request, b, t.Request(request), t.Session, t.Transaction, ErrEmptyBand)
	}
	return (lo + (hi-lo)/2).Truncate(time.Millisecond), nil
}

// BandOf names the band a hold of request for d falls in, for a client
// with timeouts t: past-txn for any hold beyond its lower bound, "" for a
// hold on a boundary, which no band holds.
func BandOf(t engine.Timeouts, request string, d time.Duration) Band {
	if lo, _ := PastTxn.Interval(t, request); d > lo {
		return PastTxn
	}
	for _, b := range Bands() {
		if lo, hi := b.Interval(t, request); lo < d && d < hi {
			return b
		}
	}
	return ""
}
