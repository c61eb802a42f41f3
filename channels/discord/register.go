package discord

import "herald/channels"

func init() {
	channels.Register(channels.KindDiscord, New)
}
