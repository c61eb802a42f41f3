package x

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"herald/channels"
	"herald/internal/safehttp"
)

// imageTypes are the media types the one-shot upload takes for tweet_image.
// Specs: https://docs.x.com/x-api/media/upload-media
var imageTypes = map[string]bool{"image/jpeg": true, "image/pjpeg": true, "image/png": true, "image/webp": true, "image/bmp": true, "image/tiff": true}

// imageType is the media type to upload f as: the one its host sent when X takes it, else the
// one its bytes show (a host that sends a JPEG as "image/jpg", which is no registered type, or a
// PNG as "image/x-png"), else "" (X does not take it).
func imageType(f safehttp.File) string {
	if imageTypes[f.ContentType] {
		return f.ContentType
	}
	if sniffed := http.DetectContentType(f.Data); imageTypes[sniffed] {
		return sniffed
	}
	return ""
}

type uploadRequest struct {
	Media         string `json:"media"` // base64
	MediaCategory string `json:"media_category"`
	MediaType     string `json:"media_type"`
}

type uploadAnswer struct {
	Data struct {
		ID       string `json:"id"`
		MediaKey string `json:"media_key"`
	} `json:"data"`
}

// uploadImages downloads up to four of the post's images (safehttp: ≤ 5 MB, image/*, no
// private addresses unless allow_private_hosts) and uploads each. An image that cannot be
// downloaded or that X refuses is left out, with a warning: the news goes out without it. An
// upload that fails for a reason every request would share (auth, rate limit, X down) fails the
// send, before anything is posted.
func (c *Channel) uploadImages(ctx context.Context, media []channels.Media) ([]string, error) {
	var ids []string
	for _, m := range media {
		if len(ids) == MaxImages {
			c.log.Warn("x: more than 4 images; the rest are left out", zap.Int("images", len(media)))
			break
		}
		u := strings.TrimSpace(m.URL)
		if u == "" {
			continue
		}
		id, err := c.uploadImage(ctx, u)
		if err == nil {
			ids = append(ids, id)
			continue
		}
		if !skippable(err) {
			return nil, err
		}
		c.log.Warn("x: image left out of the post", zap.String("image_url", u), zap.Error(err))
	}
	return ids, nil
}

// errImage marks an image that cannot be used (download refused or failed, wrong type).
type errImage struct{ err error }

func (e *errImage) Error() string { return e.err.Error() }
func (e *errImage) Unwrap() error { return e.err }

// skippable reports whether an upload failure concerns only this image: it could not be
// downloaded, or X refused it as media (a permanent 4xx that is not about the credentials).
func skippable(err error) bool {
	var ie *errImage
	if errors.As(err, &ie) {
		return true
	}
	_, pause := channels.AsPause(err)
	return channels.IsPermanent(err) && !pause
}

func (c *Channel) uploadImage(ctx context.Context, rawURL string) (string, error) {
	f, err := safehttp.DownloadImage(ctx, c.mediaHTTP, rawURL, MaxImageBytes, "X's 5 MB image limit")
	if err != nil {
		return "", &errImage{fmt.Errorf("x: downloading image: %w", err)}
	}
	mediaType := imageType(f)
	if mediaType == "" {
		return "", &errImage{fmt.Errorf("x: image is %s, which X does not take as a post image", f.ContentType)}
	}
	req := uploadRequest{Media: base64.StdEncoding.EncodeToString(f.Data), MediaCategory: "tweet_image", MediaType: mediaType}
	var ans uploadAnswer
	// Specs: https://docs.x.com/x-api/media/upload-media
	if err := c.call(ctx, "uploading media", http.MethodPost, "/2/media/upload", req, &ans, false); err != nil {
		return "", err
	}
	if ans.Data.ID == "" {
		return "", errors.New("x: uploading media: the answer has no media id")
	}
	return ans.Data.ID, nil
}
