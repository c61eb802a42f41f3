package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
)

// herald correct and herald retract on Redis write to the audit log what each channel answered
// and who asked, as the API does ("tg edited", "tg failed", "… by desk"): the audit said
// "retract done" for a takedown whose Telegram delete was refused, and named no --by.
func TestRetractAndCorrectAuditSaysWhatEachChannelAnswered(t *testing.T) {
	s := newStack(t)
	s.serve()
	if code, body := s.post(sampleArticle, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return deliveryStatus(s.status("zel-2024-10-13")) == "sent" })
	fixed := strings.Replace(sampleArticle, "زيلينسكي يقول", "زيلينسكي قال", 1)
	if out, errOut, code := runCLI(t, fixed, "correct", "--config", s.config, "--by", "desk", "-"); code != 0 {
		t.Fatalf("correct: exit %d\n%s\n%s", code, out, errOut)
	}
	msgs := s.fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages %+v", msgs)
	}
	s.fake.Age(telegramfake.DefaultChat.ID, msgs[0].MessageID, telegramfake.DeleteLimit+time.Hour) // Telegram refuses the delete
	if out, errOut, code := runCLI(t, "", "retract", "--config", s.config, "--by", "desk", "zel-2024-10-13"); code != 1 {
		t.Fatalf("retract of a message Telegram will not delete: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := runCLI(t, "", "audit", "--json", "--config", s.config)
	var got struct {
		Entries []map[string]any `json:"entries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Entries) != 2 {
		t.Fatalf("herald audit: exit %d %s %s", code, out, errOut)
	}
	for i, want := range []struct{ action, result string }{{"retract", "tg failed"}, {"correct", "tg edited"}} {
		e := got.Entries[i]
		if e["source"] != "cli" || e["action"] != want.action || e["result"] != want.result || !strings.HasSuffix(e["args"].(string), " by desk") {
			t.Errorf("audit entry %d %v: want %s by desk with result %q", i, e, want.action, want.result)
		}
	}
}

// herald status says who took a post back and when, as it says who corrected it: the table
// showed "retracted" and nothing of who asked (only --json had retracted_by), directly and
// through --server alike.
func TestStatusSaysWhoRetractedAndWhen(t *testing.T) {
	s := newStack(t)
	s.serve()
	if code, body := s.post(sampleArticle, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return deliveryStatus(s.status("zel-2024-10-13")) == "sent" })
	if out, errOut, code := runCLI(t, "", "retract", "--config", s.config, "--by", "desk", "zel-2024-10-13"); code != 0 {
		t.Fatalf("retract: exit %d\n%s\n%s", code, out, errOut)
	}
	want := regexp.MustCompile(`tg +telegram +retracted .* retracted 20\d\d-\d\d-\d\dT\d\d:\d\dZ by desk`)
	out, errOut, code := runCLI(t, "", "status", "--config", s.config, "zel-2024-10-13")
	if code != 0 || !want.MatchString(out) {
		t.Fatalf("status: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Setenv("HERALD_API_TOKEN", testToken)
	out, errOut, code = runCLI(t, "", "status", "--server", "http://"+s.addr, "zel-2024-10-13")
	if code != 0 || !want.MatchString(out) {
		t.Fatalf("status --server: exit %d\n%s\n%s", code, out, errOut)
	}
}

// herald retract and herald correct of an article herald has no record of say why there may be
// none (never published, or older than the retention) and to remove such posts by hand: exit 3
// with "not found" read as "never posted".
func TestRetractOfAnArticleHeraldHasNoRecordOfSaysWhy(t *testing.T) {
	s := newStack(t)
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"retract", "--config", s.config, "old-story"}},
		{`{"id":"old-story","url":"https://news.example.com/old","title":"عنوان"}`, []string{"correct", "--config", s.config, "-"}},
	} {
		out, errOut, code := runCLI(t, c.stdin, c.args...)
		if code != 3 || !strings.Contains(errOut, "90 days") || !strings.Contains(errOut, "by hand") {
			t.Errorf("%s: exit %d\n%s\n%s", c.args[0], code, out, errOut)
		}
	}
}
