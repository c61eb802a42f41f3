package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/internal/safehttp"
)

// imageTypes are the image types Mastodon takes as attachments.
// Specs: https://docs.joinmastodon.org/methods/media/#v2 (GET /api/v2/instance lists them)
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/heic": true, "image/heif": true, "image/avif": true}

// MediaAttachment is the part of Mastodon's MediaAttachment entity herald reads; URL is null
// while the server is still processing the file.
// Specs: https://docs.joinmastodon.org/entities/MediaAttachment/
type MediaAttachment struct {
	ID  string  `json:"id"`
	URL *string `json:"url"`
}

// processingPolls bounds how often an upload answered 202 (still processing) is asked about
// before the status is posted anyway; images are normally processed at once (200).
const processingPolls = 5

// imageURLs are the post's image URLs herald uploads: the first MaxImages non-empty ones.
func imageURLs(media []channels.Media) []string {
	var out []string
	for _, m := range media {
		if u := strings.TrimSpace(m.URL); u != "" && len(out) < MaxImages {
			out = append(out, u)
		}
	}
	return out
}

// uploadImages downloads up to four of the post's images (safehttp: ≤ 16 MB, image/*, no
// private addresses unless allow_private_hosts) and uploads each. An image that cannot be
// downloaded, that the server refuses (422), or that hits the media rate limit (30 uploads per
// 30 minutes) is left out with a warning: the news goes out without it. A failure every
// request would share (auth, the server down) fails the send before anything is posted.
func (c *Channel) uploadImages(ctx context.Context, media []channels.Media) ([]string, error) {
	var ids []string
	for _, u := range imageURLs(media) {
		id, err := c.uploadImage(ctx, u)
		if err == nil {
			ids = append(ids, id)
			continue
		}
		if !skippable(err) {
			return nil, err
		}
		c.log.Warn("mastodon: image left out of the status", zap.String("image_url", u), zap.Error(err))
	}
	return ids, nil
}

// errImage marks an image that cannot be used (download refused or failed, wrong type).
type errImage struct{ err error }

func (e *errImage) Error() string { return e.err.Error() }
func (e *errImage) Unwrap() error { return e.err }

func skippable(err error) bool {
	var ie *errImage
	if errors.As(err, &ie) {
		return true
	}
	if _, ok := channels.AsRateLimited(err); ok {
		return true
	}
	_, pause := channels.AsPause(err)
	return channels.IsPermanent(err) && !pause
}

// uploadImage uploads one image and returns its media id.
// Specs: https://docs.joinmastodon.org/methods/media/#v2
func (c *Channel) uploadImage(ctx context.Context, rawURL string) (string, error) {
	f, err := safehttp.DownloadImage(ctx, c.mediaHTTP, rawURL, MaxImageBytes, "Mastodon's 16 MB image limit")
	if err != nil {
		return "", &errImage{fmt.Errorf("mastodon: downloading image: %w", err)}
	}
	if !imageTypes[f.ContentType] {
		// A host that mislabels its image (a JPEG sent as "image/jpeg"'s common misspelling
		// "image/jpg"): Mastodon reads the bytes, so herald goes by them too.
		if sniffed := http.DetectContentType(f.Data); imageTypes[sniffed] {
			f.ContentType = sniffed
		} else {
			return "", &errImage{fmt.Errorf("mastodon: image is %s, which Mastodon does not take", f.ContentType)}
		}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.Name))
	h.Set("Content-Type", f.ContentType)
	pw, err := mw.CreatePart(h)
	if err == nil {
		_, err = pw.Write(f.Data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", &errImage{fmt.Errorf("mastodon: building the upload: %w", err)}
	}
	req, err := http.NewRequest(http.MethodPost, c.cfg.Instance+"/api/v2/media", &buf)
	if err != nil {
		return "", channels.Permanent(c.send.Errorf("uploading media: %w", err))
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var m MediaAttachment
	// An upload whose answer is lost leaves at most an unattached file, which the server
	// removes: not creating (a lost answer is plain retryable).
	if err := c.call(ctx, "uploading media", req, &m, false); err != nil {
		return "", err
	}
	if m.ID == "" {
		return "", errors.New("mastodon: uploading media: the answer has no media id")
	}
	if m.URL == nil {
		c.waitProcessed(ctx, m.ID)
	}
	return m.ID, nil
}

// waitProcessed asks about an upload answered 202 until the server has processed it (its url
// is set), a few times, a second apart. Should it still be processing, the status is posted
// anyway: the server answers 422 "not finished processing", which is retried.
// Specs: https://docs.joinmastodon.org/methods/media/#get
func (c *Channel) waitProcessed(ctx context.Context, id string) {
	t := time.NewTicker(c.pollEvery)
	defer t.Stop()
	for range processingPolls {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// 206 while processing, 200 with the url once done.
		var m MediaAttachment
		if err := c.get(ctx, "reading media "+id, "/api/v1/media/"+url.PathEscape(id), &m); err != nil || m.URL != nil {
			return
		}
	}
}
