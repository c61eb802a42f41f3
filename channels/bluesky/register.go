package bluesky

import "herald/channels"

func init() {
	channels.Register(channels.KindBluesky, New)
}
