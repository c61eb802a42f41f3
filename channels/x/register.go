package x

import "herald/channels"

func init() {
	channels.Register(channels.KindX, New)
}
