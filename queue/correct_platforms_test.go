package queue

// Correct through the Mastodon and Discord editors on a real Redis: the sent status and webhook
// message are edited in place (no new post), and a Discord message deleted meanwhile fails at
// once with the reason, while the Mastodon edit still lands.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"herald/channels"
	"herald/channels/discord"
	"herald/channels/discord/discordfake"
	"herald/channels/mastodon"
	"herald/channels/mastodon/mastodonfake"
)

func TestCorrectEditsMastodonAndDiscordInPlace(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	mf, df := mastodonfake.New(), discordfake.New()
	t.Cleanup(mf.Close)
	t.Cleanup(df.Close)
	e.routes["masto"] = buildChannel(t, "masto", channels.KindMastodon,
		fmt.Sprintf("instance: %q\naccess_token: %q\ntimeout: 1s\n", mf.URL(), mastodonfake.DefaultToken), mastodon.New)
	e.routes["dc"] = buildChannel(t, "dc", channels.KindDiscord, fmt.Sprintf("webhook_url: %q\ntimeout: 1s\n", df.WebhookURL()), discord.New)
	e.chans["masto"], e.chans["dc"] = e.routes["masto"].Channel, e.routes["dc"].Channel
	e.start()
	e.publish("p1", []Target{{Name: "masto", Kind: channels.KindMastodon}, {Name: "dc", Kind: channels.KindDiscord}})
	e.waitAll("p1", StateSent)

	c, err := e.broker.Correct(ctx, corrected("p1", "العنوانُ المصحَّح p1"), "", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	res := correctResults(c)
	if res["masto"].Result != "edited" || res["dc"].Result != "edited" || c.Failed() {
		t.Fatalf("results %+v, want both edited", c.Results)
	}
	if st := mf.Statuses(); len(st) != 1 || st[0].ID != res["masto"].RemoteID || st[0].Edits != 1 || !strings.Contains(st[0].Text, "العنوانُ المصحَّح p1") {
		t.Fatalf("Mastodon holds %+v, want the one status edited", st)
	}
	if m := df.Messages(); len(m) != 1 || m[0].ID != res["dc"].RemoteID || m[0].Edits != 1 || !strings.Contains(m[0].Content, "العنوانُ المصحَّح p1") {
		t.Fatalf("Discord holds %+v, want the one message edited", m)
	}

	// Someone deletes the Discord message; the next correction reports it and edits Mastodon.
	if err := e.chans["dc"].(channels.Deleter).Delete(ctx, res["dc"].RemoteID); err != nil {
		t.Fatal(err)
	}
	c, err = e.broker.Correct(ctx, corrected("p1", "تصحيحٌ ثانٍ p1"), "", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	res = correctResults(c)
	if r := res["dc"]; r.Result != "failed" || r.Attempts != 1 || !strings.Contains(r.Error, "the message was deleted") {
		t.Fatalf("dc: %+v, want failed at once, the message was deleted", r)
	}
	if res["masto"].Result != "edited" || !strings.Contains(mf.Statuses()[0].Text, "تصحيحٌ ثانٍ p1") {
		t.Fatalf("masto: %+v, status %+v", res["masto"], mf.Statuses())
	}
}
