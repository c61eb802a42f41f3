package mastodon

import "herald/channels"

func init() {
	channels.Register(channels.KindMastodon, New)
}
