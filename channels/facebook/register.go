package facebook

import "herald/channels"

func init() {
	channels.Register(channels.KindFacebook, New)
}
