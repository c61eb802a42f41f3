// Package sandbox is herald's embedded default: an in-process Redis (miniredis) and a fake
// Telegram Bot API on loopback, so `herald demo` and `make run` show the whole pipeline on a new
// machine with no setup. Nothing in it survives a restart.
package sandbox

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels/bluesky/blueskyfake"
	"herald/channels/discord/discordfake"
	"herald/channels/facebook/facebookfake"
	"herald/channels/linkedin/linkedinfake"
	"herald/channels/mastodon/mastodonfake"
	"herald/channels/telegram/telegramfake"
	"herald/channels/threads/threadsfake"
	"herald/channels/x/xfake"
	"herald/config"
)

// ChannelName is the sandbox's one channel; APIToken its fixed, loopback-only API token (an
// admin token), ViewerToken a read-only one (the dashboard without buttons).
const (
	ChannelName = "telegram-demo"
	APIToken    = "sandbox-token"
	ViewerToken = "sandbox-viewer-token"
)

//go:embed sample-*.json
var samples embed.FS

// Samples returns the Arabic sample articles the project carries.
func Samples() ([]article.Article, error) {
	names, err := fs.Glob(samples, "sample-*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]article.Article, 0, len(names))
	for _, n := range names {
		data, err := samples.ReadFile(n)
		if err != nil {
			return nil, err
		}
		a, err := article.DecodeBytes(data)
		if err != nil {
			return nil, fmt.Errorf("sandbox: sample %s: %w", n, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Sandbox is a running embedded environment.
type Sandbox struct {
	Redis    *miniredis.Miniredis
	RDB      *redis.Client
	Telegram *telegramfake.Server
	X        *xfake.Server
	Facebook *facebookfake.Server
	Bluesky  *blueskyfake.Server
	Discord  *discordfake.Server
	Mastodon *mastodonfake.Server
	Threads  *threadsfake.Server
	LinkedIn *linkedinfake.Server
	Config   *config.Config
	fakes    httpFakes  // WhatsApp, webhook, WebSub (whatsapp_webhook_websub.go)
	images   *imageHost // the sample images, on loopback (images.go)
}

// Start brings up miniredis and the fake Telegram, and a config pointing a telegram channel
// at the fake. httpAddr is where the API will listen.
func Start(httpAddr string) (*Sandbox, error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("sandbox: starting in-memory redis: %w", err)
	}
	images, err := startImageHost()
	if err != nil {
		mr.Close()
		return nil, err
	}
	tg := telegramfake.New()
	fakes := startHTTPFakes()
	xf, fb := xfake.New(), facebookfake.New()
	dc := discordfake.New()
	doc := fmt.Sprintf(`
http:
  addr: %q
  api_token: %q
  tokens: [{role: viewer, token: `+ViewerToken+`}]
log:
  format: console
channels:
  - name: %s
    kind: telegram
    settings:
      token: %q
      chat_id: "@%s"
      api_endpoint: %q
      allow_private_photo_hosts: true # the sample images are on loopback (images.go)
`, httpAddr, APIToken, ChannelName, telegramfake.DefaultToken, telegramfake.DefaultChat.Username, tg.Endpoint()) + fakes.channelsYAML()
	doc += xFacebookYAML(xf, fb)
	doc += discordYAML(dc)
	bs := blueskyfake.New()
	doc += blueskyYAML(bs)
	mf := mastodonfake.New()
	doc += mastodonYAML(mf)
	th := threadsfake.New()
	doc += threadsYAML(th)
	li := linkedinfake.New()
	doc += linkedinYAML(li)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		tg.Close()
		fakes.close()
		xf.Close()
		fb.Close()
		dc.Close()
		bs.Close()
		mf.Close()
		th.Close()
		li.Close()
		images.srv.Close()
		mr.Close()
		return nil, fmt.Errorf("sandbox: config: %w", err)
	}
	// The sandbox never talks to a configured Redis or API token, whatever the environment says.
	cfg.Redis.URL = "redis://" + mr.Addr()
	cfg.HTTP.APIToken = APIToken
	cfg.HTTP.Addr = httpAddr
	return &Sandbox{Redis: mr, RDB: redis.NewClient(&redis.Options{Addr: mr.Addr()}), Telegram: tg, Config: cfg, fakes: fakes, X: xf, Facebook: fb, Discord: dc, Bluesky: bs, Mastodon: mf, Threads: th, LinkedIn: li, images: images}, nil
}

// Close stops everything; all data is gone.
func (s *Sandbox) Close() {
	_ = s.RDB.Close()
	s.Telegram.Close()
	s.fakes.close()
	s.X.Close()
	s.Facebook.Close()
	s.Discord.Close()
	s.Bluesky.Close()
	s.Mastodon.Close()
	s.Threads.Close()
	s.LinkedIn.Close()
	s.images.srv.Close()
	s.Redis.Close()
}

// Duplicates counts messages the fake received more than once for one chat and one text: a
// visible duplicate post.
func (s *Sandbox) Duplicates() int {
	seen := map[string]int{}
	dups := 0
	for _, m := range s.Telegram.Messages() {
		k := fmt.Sprintf("%d\x00%s\x00%s\x00%s", m.Chat.ID, m.Text, m.Caption, m.PhotoURL)
		seen[k]++
		if seen[k] > 1 {
			dups++
		}
	}
	return dups + s.fakes.duplicates() + s.xFacebookDuplicates() + s.discordDuplicates() + s.blueskyDuplicates() + s.mastodonDuplicates() + s.threadsDuplicates() + s.linkedinDuplicates()
}
