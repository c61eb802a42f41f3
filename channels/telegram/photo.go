package telegram

import (
	"context"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/internal/safehttp"
)

// newPhotoClient is the client that downloads photos Telegram could not fetch. It is separate
// from the Bot API client: it talks to the article's image host, with the shared address guard.
func newPhotoClient(cfg Config) *http.Client {
	return safehttp.NewClient(safehttp.Options{
		Timeout:      cfg.Timeout,
		AllowPrivate: cfg.AllowPrivatePhotoHosts,
		Setting:      "allow_private_photo_hosts",
	})
}

// downloadPhoto fetches an image for upload: http(s) only, an image content type, at most
// PhotoMaxBytes, never from a private address unless allowed.
func (c *Channel) downloadPhoto(ctx context.Context, rawURL string) (tgbotapi.FileBytes, error) {
	f, err := safehttp.DownloadImage(ctx, c.photoHTTP, rawURL, c.cfg.PhotoMaxBytes, "photo_max_bytes")
	if err != nil {
		return tgbotapi.FileBytes{}, err
	}
	return tgbotapi.FileBytes{Name: f.Name, Bytes: f.Data}, nil
}
