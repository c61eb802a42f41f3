package telegram

import "herald/channels"

func init() {
	channels.Register(channels.KindTelegram, New)
}
