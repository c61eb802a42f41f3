package main

import (
	"fmt"
	"net/url"

	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/config"
	"herald/queue"
)

// exampleSettings build a channel for `herald format --channel <kind>` without a config, so
// the preview shows the requests a channel of that kind sends. Only kinds whose requests say
// more than the posts are here.
var exampleSettings = map[channels.Kind]func(a *article.Article) string{
	channels.KindWhatsApp: func(*article.Article) string {
		return `{provider: waha, api_base: "http://localhost:3000", api_key: example-key, chat_id: "120363000000000000@newsletter"}`
	},
	channels.KindWebhook: func(*article.Article) string {
		// The Standard Webhooks specification's published example secret.
		return `{url: "https://receiver.example.com/herald", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}`
	},
	channels.KindX: func(*article.Article) string {
		return `{consumer_key: example-key, consumer_secret: example-secret, access_token: example-token, access_secret: example-token-secret}`
	},
	channels.KindDiscord: func(*article.Article) string {
		return `{webhook_url: "https://discord.com/api/webhooks/1300000000000000001/example-webhook-token-0123456789"}`
	},
	channels.KindBluesky: func(*article.Article) string {
		return `{identifier: news.example.com, app_password: example-app-password}`
	},
	channels.KindFacebook: func(*article.Article) string {
		return `{page_id: "104000000000001", page_token: example-page-token}`
	},
	channels.KindMastodon: func(*article.Article) string {
		return `{instance: "https://mastodon.social", access_token: example-token}`
	},
	channels.KindThreads: func(*article.Article) string {
		return `{user_id: "17841400000000000", access_token: example-token}`
	},
	channels.KindLinkedIn: func(*article.Article) string {
		return `{organization_id: "2414183", access_token: example-token}`
	},
	channels.KindWebSub: func(a *article.Article) string {
		site := "https://news.example.com"
		if u, err := url.Parse(a.URL); err == nil && u.Host != "" {
			site = u.Scheme + "://" + u.Host
		}
		return fmt.Sprintf(`{topics: [%q]}`, site+"/feed")
	},
}

// previewRequests returns the requests the channel would send for posts, and where its
// settings came from; nothing when the kind cannot say (not a channels.Previewer) or the
// channel cannot be built. It never calls the network.
func previewRequests(configPath, name string, kind channels.Kind, a *article.Article, posts []channels.Post) ([]channels.Request, string) {
	var spec channels.Spec
	from := ""
	if configPath != "" {
		if cfg, err := config.Load(configPath); err == nil {
			if ch, ok := cfg.Channel(name); ok {
				spec, from = ch.Spec, "channel "+name+" in "+configPath
			}
		}
	}
	if from == "" {
		ex, ok := exampleSettings[kind]
		if !ok {
			return nil, ""
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(ex(a)), &n); err != nil || len(n.Content) == 0 {
			return nil, ""
		}
		spec = channels.Spec{Name: channels.Name(kind), Kind: kind, Settings: *n.Content[0]}
		from = "example settings (pass --config and a channel name for yours)"
	}
	ch, err := channels.New(spec, channels.Env{})
	if err != nil {
		return nil, ""
	}
	pv, ok := ch.(channels.Previewer)
	if !ok {
		return nil, ""
	}
	reqs, err := pv.Preview(channels.Message{ArticleID: a.ID, Key: queue.TaskID(a.ID, spec.Name, 1), Attempt: 1, Posts: posts})
	if err != nil {
		return nil, ""
	}
	return reqs, from
}
