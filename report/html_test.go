package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
)

func render(t *testing.T, r Run) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	return buf.String()
}

var (
	idAttr   = regexp.MustCompile(`\sid="([^"]*)"`)
	fragment = regexp.MustCompile(`href="#([^"]*)"`)
	tag      = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>`)
)

// ids returns the element ids of page, failing on a duplicate: a link to a
// duplicated id lands on whichever comes first.
func ids(t *testing.T, page string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, s := range idAttr.FindAllStringSubmatch(page, -1) {
		require.False(t, m[s[1]], "duplicate id %q", s[1])
		m[s[1]] = true
	}
	return m
}

// requireLinksResolve checks that every in-page link lands on an element and
// returns the targets.
func requireLinksResolve(t *testing.T, page string) []string {
	t.Helper()
	have := ids(t, page)
	var targets []string
	for _, s := range fragment.FindAllStringSubmatch(page, -1) {
		require.True(t, have[s[1]], "link to #%s has no target", s[1])
		targets = append(targets, s[1])
	}
	return targets
}

// requireBalanced checks that every element the page opens is closed in
// order, which is how a stray, unescaped "<" in a value would show.
func requireBalanced(t *testing.T, page string) {
	t.Helper()
	void := map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true}
	var stack []string
	for _, m := range tag.FindAllStringSubmatch(page, -1) {
		closing, name, self := m[1] == "/", strings.ToLower(m[2]), m[3] == "/"
		switch {
		case void[name] || self:
		case closing:
			require.NotEmpty(t, stack, "</%s> closes nothing", name)
			require.Equal(t, stack[len(stack)-1], name, "</%s> closes <%s>", name, stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		default:
			stack = append(stack, name)
		}
	}
	require.Empty(t, stack, "elements left open")
}

func TestWriteHTMLFailingRun(t *testing.T) {
	r := failingRun()
	page := render(t, r)

	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	requireBalanced(t, page)
	require.Contains(t, page, "<title>eosim: seed 7, at_least_once</title>")
	require.Contains(t, page, `<h1>seed 7, at_least_once</h1>`)
	require.Contains(t, page, `<span class="verdict v-fail" id="verdict">fail</span>`)
	require.Contains(t, page, "1 anomaly: 1 duplicate-output")
	require.Contains(t, page, `<pre id="replay"><code>go run -tags synctests ./cmd/simrun -seed 7 -guarantee at_least_once</code></pre>`)
	require.Contains(t, page, `<td>guarantee</td><td>at_least_once</td>`)
	require.Contains(t, page, `a &#34;quoted&#34; &lt;param&gt;`)
	require.Contains(t, page, "the run did not complete", "a checker that could not judge is shown")

	t.Run("timeline", func(t *testing.T) {
		require.Equal(t, 1, strings.Count(page, "<svg"))
		require.Equal(t, 2, strings.Count(page, `class="lane"`), "one lane per instance")
		require.Contains(t, page, `data-instance="a"`)
		require.Contains(t, page, `data-instance="b"`)
		for _, u := range r.History.Units() {
			require.Contains(t, page, `id="`+anchors(r.History)[u.ID]+`"`, "every unit has a bar")
		}
		require.Contains(t, page, `id="unit-b.1_0" class="unit o-crashed"`)
		require.Contains(t, page, `class="unit o-committed"`)
		require.Contains(t, page, `class="unit o-aborted"`)
		require.Contains(t, page, `class="unit o-unknown"`)
		require.Equal(t, 1, strings.Count(page, `class="m-crash"`))
		require.Equal(t, 1, strings.Count(page, `class="m-fault"`))
		require.Equal(t, 2, strings.Count(page, `class="m-load"`))
		require.Equal(t, 1, strings.Count(page, `class="m-note"`), "the run-wide note")
		require.Contains(t, page, "<title>fault b at 3.300s: crash: step 3: crash b at after-produce</title>")
		require.Contains(t, page, ">[1]</text>", "an assignment is labelled with its partitions")
	})

	t.Run("anomaly links", func(t *testing.T) {
		targets := requireLinksResolve(t, page)
		require.Contains(t, targets, "unit-b.2_0", "the unit the anomaly names")
		require.Contains(t, targets, "unit-b.1_0", "the unit that produced its first evidence record")
		require.Contains(t, page, "<code>z.9#9</code>", "a unit the History lacks is shown, unlinked")
		require.NotContains(t, page, `href="#unit-z`)
		require.Contains(t, page, "consumed by <a href=\"#unit-b.1_0\">")
	})

	t.Run("escaped", func(t *testing.T) {
		require.NotContains(t, page, "<script")
		require.NotContains(t, page, `alert("x")`)
		require.Contains(t, page, "&lt;/code&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quoted&#34;")
	})

	t.Run("self-contained", func(t *testing.T) {
		require.NotContains(t, page, "http://")
		require.NotContains(t, page, "https://")
		require.NotRegexp(t, `(?i)<(script|img|iframe|object|embed)\b`, page)
		require.NotRegexp(t, `(?i)\ssrc=`, page)
		// The one link that is not a fragment keeps Chromium from asking
		// for a favicon, which would be a console error on file://.
		for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			require.True(t, strings.HasPrefix(m[1], "#") || m[1] == "data:,", "href %q leaves the page", m[1])
		}
	})

	t.Run("units table", func(t *testing.T) {
		require.Contains(t, page, "<h2 id=\"units\">Units (4)</h2>")
		require.Equal(t, 4, strings.Count(page, "<tr><td><a href=\"#unit-"), "a row per unit, linked to its bar")
	})

	require.Equal(t, page, render(t, r), "the same run gives the same page")
}

func TestWriteHTMLVerdicts(t *testing.T) {
	for verdict, class := range map[string]string{"pass": "v-pass", "fail": "v-fail", "unknown": "v-unknown", "": "v-unknown", "odd": "v-unknown"} {
		r := Run{Title: "t", Verdict: verdict}
		require.Contains(t, render(t, r), `class="verdict `+class+`"`, verdict)
	}
}

func TestWriteHTMLEmptyRun(t *testing.T) {
	page := render(t, Run{Title: "nothing happened", Verdict: "unknown"})
	requireBalanced(t, page)
	require.Contains(t, page, "<p>None.</p>")
	require.Contains(t, page, "<svg")
}

func TestRepeatedUnitIDKeepsIDsUnique(t *testing.T) {
	h := fixture()
	h.Events = append(h.Events, h.Events[9])
	requireLinksResolve(t, render(t, Run{History: h}))
}

func TestAnchorsAreUniqueAfterSanitising(t *testing.T) {
	h := history.History{Events: []history.Event{
		{Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#0"}},
		{Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1_0"}},
		{Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: `a"1<0`}},
	}}
	require.Equal(t, map[string]string{"a.1#0": "unit-a.1_0", "a.1_0": "unit-a.1_0-2", `a"1<0`: "unit-a_1_0"}, anchors(h))
	requireLinksResolve(t, render(t, Run{History: h}))
}

func TestUnitBarsEndAtTheirEvent(t *testing.T) {
	tl := buildTimeline(fixture(), anchors(fixture()), nil)
	require.Len(t, tl.Lanes, 2)
	a := tl.Lanes[0]
	require.Equal(t, "a", a.Name)
	require.Len(t, a.Bars, 2)
	span := ms(5000)
	x := func(d float64) float64 { return plotLeft + d/float64(span)*plotWidth }
	// a.1#0 follows a's assignment at 3.0s and ends at 3.2s.
	require.InDelta(t, x(float64(ms(3000))), a.Bars[0].X, 1e-9)
	require.InDelta(t, x(float64(ms(3200))), a.Bars[0].X+a.Bars[0].W, 1e-9)
	// b.1#0 ran from b's assignment at 3.0s, not from the fault injected
	// just before it ended; b's crash at 3.3s ends the assignment.
	b := tl.Lanes[1]
	require.InDelta(t, x(float64(ms(3000))), b.Bars[0].X, 1e-9)
	require.InDelta(t, x(float64(ms(3300))), b.Bands[0].X+b.Bands[0].W, 1e-9)
	require.Contains(t, b.Bands[0].Title, "from 3.000s to 3.300s")
}
