package admin

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/bidi"

	"herald/queue"
)

// TestArabicRepliesKeepIdsWhole: in an Arabic reply an id that starts with a number and goes on
// with letters (20241013-1234-story, a dated slug) must show as typed. Its "-" between the
// number and the letters takes the right-to-left line's direction (UAX #9 N1/N2), so before,
// the line showed "story-20241013-1234", an id no command finds; the ids are now isolated
// (FSI…PDI) and resolve as one left-to-right run.
func TestArabicRepliesKeepIdsWhole(t *testing.T) {
	e := newEnv(t)
	e.cfg.Telegram.Language = "ar"
	e.startWorker()
	e.startBot("p1")
	a := e.publish("20241013-1234-story", "خبر عاجل", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	e.say(adminID, "/status "+a.ID)
	m := e.waitReply(adminID, "نُشر")
	e.say(adminID, "/status 2024-missing-x")
	nf := e.waitReply(adminID, "لا يوجد خبر")
	for _, c := range []struct{ text, id string }{{m.Plain, a.ID}, {nf.Plain, "2024-missing-x"}} {
		found := false
		for _, l := range strings.Split(c.text, "\n") {
			if !strings.Contains(l, c.id) {
				continue
			}
			found = true
			var p bidi.Paragraph
			if _, err := p.SetString(l, bidi.DefaultDirection(bidi.RightToLeft)); err != nil {
				t.Fatal(err)
			}
			o, err := p.Order()
			if err != nil {
				t.Fatal(err)
			}
			var runs []string
			whole := false
			for i := range o.NumRuns() {
				r := o.Run(i)
				runs = append(runs, r.String())
				whole = whole || strings.Contains(r.String(), c.id)
			}
			if !whole {
				t.Errorf("line %q: the id %s is cut into runs of different directions %q", l, c.id, runs)
			}
		}
		if !found {
			t.Errorf("reply %q lacks the id %s", c.text, c.id)
		}
	}
}
