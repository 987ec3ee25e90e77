package invariants

import "testing"

func TestLostOutput(t *testing.T) {
	runCases(t, LostOutput, checkLost, []tcase{
		{name: "correct run"},
		{
			name:    "unfinished run cannot be judged",
			mut:     func(r *Run) { hide(r, notes, 0, 1); r.Complete = false },
			unknown: "run not complete",
		},
		{
			name: "output missing",
			mut:  func(r *Run) { hide(r, notes, 0, 1) },
			want: []string{`input "o3" (orders/0@1) has no output in notifications`},
		},
		{
			name: "one per lost input, input order",
			mut:  func(r *Run) { hide(r, notes, 1, 2); hide(r, notes, 0, 0) },
			want: []string{`input "o1" (orders/0@0)`, `input "o5" (orders/1@1)`},
		},
		{
			name: "an undecodable output answers nothing",
			mut:  func(r *Run) { r.Snapshot.Committed[notes][0].Headers = nil },
			want: []string{`input "o1"`},
		},
		{
			name: "an output only in the log does not count",
			mut:  func(r *Run) { hide(r, notes, 1, 1) },
			want: []string{`input "o2" (orders/1@0)`},
		},
		{
			name:    "undecodable input",
			mut:     func(r *Run) { r.Snapshot.Committed[orders][2].Value = "garbage" },
			unknown: "decoding input orders/0@2",
		},
	})
}
