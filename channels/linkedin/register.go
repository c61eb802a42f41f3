package linkedin

import "herald/channels"

func init() {
	channels.Register(channels.KindLinkedIn, New)
}
