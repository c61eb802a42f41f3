package threads

import "herald/channels"

func init() {
	channels.Register(channels.KindThreads, New)
}
