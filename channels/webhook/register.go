package webhook

import "herald/channels"

func init() {
	channels.Register(channels.KindWebhook, New)
}
