package websub

import "herald/channels"

func init() {
	channels.Register(channels.KindWebSub, New)
}
