package whatsapp

import "herald/channels"

func init() {
	channels.Register(channels.KindWhatsApp, New)
}
