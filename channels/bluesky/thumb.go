package bluesky

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for images herald shrinks
	"image/jpeg"
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"herald/internal/safehttp"
)

// A news photo is often over the card's 1,000,000-byte limit. herald downloads up to
// MaxThumbDownload and shrinks a larger one: scaled down to ThumbMaxSide pixels on its longer
// side and re-encoded as JPEG, at lower quality until it fits. The Bluesky apps show the card
// image at most about 600 pixels wide, so nothing visible is lost.
const (
	MaxThumbDownload = 10 << 20
	ThumbMaxSide     = 1000
	// maxThumbPixels refuses to decode an image whose header promises more (a decompression
	// bomb: a few kilobytes of PNG that would take gigabytes as pixels).
	maxThumbPixels = 50_000_000
)

// errCannotShrink is an image over the limit that herald cannot make fit.
var errCannotShrink = errors.New("the image is over the card thumbnail limit and cannot be shrunk")

// fitThumb returns the image as it goes into uploadBlob: as downloaded when it fits, else
// shrunk.
func fitThumb(f safehttp.File) (data []byte, contentType string, err error) {
	if len(f.Data) <= MaxThumbBytes {
		return f.Data, f.ContentType, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %d bytes of %s: %v", errCannotShrink, len(f.Data), f.ContentType, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxThumbPixels {
		return nil, "", fmt.Errorf("%w: a %s of %dx%d pixels", errCannotShrink, format, cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(f.Data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: decoding the %s: %v", errCannotShrink, format, err)
	}
	w, h := cfg.Width, cfg.Height
	if w > ThumbMaxSide || h > ThumbMaxSide {
		if w >= h {
			w, h = ThumbMaxSide, max(1, h*ThumbMaxSide/w)
		} else {
			w, h = max(1, w*ThumbMaxSide/h), ThumbMaxSide
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// JPEG has no transparency: transparent parts of a PNG become white, not black.
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
	var buf bytes.Buffer
	for q := 85; q >= 40; q -= 15 {
		buf.Reset()
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: q}); err != nil {
			return nil, "", fmt.Errorf("%w: encoding: %v", errCannotShrink, err)
		}
		if buf.Len() <= MaxThumbBytes {
			return buf.Bytes(), "image/jpeg", nil
		}
	}
	return nil, "", fmt.Errorf("%w: still %d bytes as a %dx%d JPEG", errCannotShrink, buf.Len(), w, h)
}
