package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"

	"herald/channels"
	"herald/internal/leaktest"
)

// platformNames are the names the help and the README give the kinds.
var platformNames = map[channels.Kind]string{
	channels.KindTelegram: "Telegram", channels.KindX: "X", channels.KindFacebook: "Facebook",
	channels.KindDiscord: "Discord", channels.KindBluesky: "Bluesky", channels.KindThreads: "Threads",
	channels.KindMastodon: "Mastodon", channels.KindLinkedIn: "LinkedIn", channels.KindWhatsApp: "WhatsApp",
	channels.KindWebhook: "webhook", channels.KindWebSub: "WebSub",
}

// named is the set of platform names a piece of text mentions, sorted.
func named(text string) []string {
	var out []string
	for _, n := range platformNames {
		if regexp.MustCompile(`\b` + n + `\b`).MatchString(text) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// between is the text after start up to the first end, spaces and line breaks collapsed.
func between(t *testing.T, where, text, start, end string) string {
	t.Helper()
	text = strings.Join(strings.Fields(text), " ")
	_, rest, ok := strings.Cut(text, start)
	if !ok {
		t.Fatalf("%s: no %q", where, start)
	}
	part, _, ok := strings.Cut(rest, end)
	if !ok {
		t.Fatalf("%s: no %q after %q", where, end, start)
	}
	return part
}

// The platforms `herald retract --help` and `herald correct --help` say can delete and edit, the
// README's tables and the WordPress plugin's trash row are the kinds whose channels implement channels.Deleter and
// channels.Editor: LinkedIn, which does both, was missing from both helps.
func TestHelpNamesThePlatformsThatDeleteAndEdit(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var deleters, editors, others, fixed []string
	seen := map[channels.Kind]bool{}
	for _, k := range leaktest.Kinds {
		if seen[k.Kind] {
			continue // one row per kind is enough (WhatsApp has three gateways)
		}
		seen[k.Kind] = true
		ch, err := channels.New(k.Spec(t, srv.URL), channels.Env{Logger: zap.NewNop(), HTTPClient: srv.Client()})
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		name := platformNames[k.Kind]
		if name == "" {
			t.Fatalf("kind %s has no name in platformNames", k.Kind)
		}
		if _, ok := ch.(channels.Deleter); ok {
			deleters = append(deleters, name)
		} else {
			fixed = append(fixed, name)
		}
		if _, ok := ch.(channels.Editor); ok {
			editors = append(editors, name)
		} else {
			others = append(others, name)
		}
	}
	for _, s := range [][]string{deleters, editors, others, fixed} {
		slices.Sort(s)
	}
	if len(seen) != len(channels.Kinds) {
		t.Fatalf("leaktest.Kinds covers %d of the %d kinds", len(seen), len(channels.Kinds))
	}

	help := func(name string) string {
		cmd, _, err := newRootCmd().Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		cmd.SetOut(&b)
		if err := cmd.Help(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	wordpress, err := os.ReadFile(filepath.Join("..", "..", "deploy", "wordpress", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		where, text, start, end string
		want                    []string
	}{
		{"herald retract --help", help("retract"), "whose platform can delete (", ")", deleters},
		{"herald correct --help", help("correct"), "whose platform can edit (", ")", editors},
		{"README, retract table", string(readme), "| `sent` on ", "(their channels implement `channels.Deleter`)", deleters},
		{"README, retract table", string(readme), "| `sent` on a platform that cannot delete (", ")", fixed},
		{"README, correct table", string(readme), "| `sent` on a channel that implements `channels.Editor` (", ") |", editors},
		{"README, correct table", string(readme), "| `sent` on a platform herald cannot edit through (", ":", others},
		{"deploy/wordpress/README.md, trash", string(wordpress), "its posts are deleted on ", ", its deliveries", deleters},
	} {
		if got := named(between(t, c.where, c.text, c.start, c.end)); !slices.Equal(got, c.want) {
			t.Errorf("%s names %v after %q; the channels say %v", c.where, got, c.start, c.want)
		}
	}
}
