package bluesky

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"

	"herald/internal/safehttp"
)

// noisyPNG is a photo-like PNG far over 1,000,000 bytes (noise does not compress).
func noisyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.IntN(256))
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombPNG is over 1,000,000 bytes and its header promises 400 million pixels (a 1×1 PNG whose
// IHDR says 20000×20000, then junk): what a decompression bomb looks like to DecodeConfig.
func bombPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	// The IHDR chunk: length (4), "IHDR" (4), width (4), height (4), … 13 bytes of data, CRC.
	binary.BigEndian.PutUint32(p[16:], 20000)
	binary.BigEndian.PutUint32(p[20:], 20000)
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return append(p, make([]byte, MaxThumbBytes)...)
}

// TestLargeThumbnailIsShrunkToFit: a 1,200×800 photo as a PNG of about 4 MB goes up as a
// JPEG under the limit, with no warning.
func TestLargeThumbnailIsShrunkToFit(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	big := noisyPNG(t, 1200, 800)
	if len(big) <= MaxThumbBytes || len(big) > MaxThumbDownload {
		t.Fatalf("test image is %d bytes", len(big))
	}
	img, _ := imageHost(t, big)
	if _, err := h.ch.Send(testCtx(t), msgOf("k-big", render(t, img)...)); err != nil {
		t.Fatal(err)
	}
	p := h.fake.Posts()
	if len(p) != 1 || p[0].Card == nil || p[0].Card.Thumb == nil || p[0].Card.Thumb.MimeType != "image/jpeg" || p[0].Card.Thumb.Size > MaxThumbBytes {
		t.Fatalf("posts %+v", p)
	}
	if logs := h.logs.FilterMessageSnippet("thumbnail").All(); len(logs) != 0 {
		t.Fatalf("logs %+v", logs)
	}
}

func TestFitThumbScalesAndFlattens(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 600, 1200))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range src.Pix {
		src.Pix[i] = byte(r.IntN(256))
	}
	for y := range 10 {
		for x := range 10 {
			src.SetNRGBA(x, y, color.NRGBA{}) // a transparent corner
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, src); err != nil {
		t.Fatal(err)
	}
	if b.Len() <= MaxThumbBytes {
		t.Fatalf("source is only %d bytes", b.Len())
	}
	data, ct, err := fitThumb(fileOf(b.Bytes(), "image/png"))
	if err != nil || ct != "image/jpeg" || len(data) > MaxThumbBytes {
		t.Fatalf("%v %s %d", err, ct, len(data))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != "jpeg" || cfg.Width != 500 || cfg.Height != ThumbMaxSide {
		t.Fatalf("%+v %s %v: want a 500x1000 JPEG", cfg, format, err)
	}
	out, _, _ := image.Decode(bytes.NewReader(data))
	if r, g, bl, _ := out.At(1, 1).RGBA(); r < 0xe000 || g < 0xe000 || bl < 0xe000 {
		t.Fatalf("transparent corner became %v, want white", out.At(1, 1))
	}
	small := []byte{1, 2, 3}
	if data, ct, err := fitThumb(fileOf(small, "image/webp")); err != nil || ct != "image/webp" || !bytes.Equal(data, small) {
		t.Fatalf("an image that fits is uploaded as is: %v %s", err, ct)
	}
}

func fileOf(data []byte, ct string) safehttp.File {
	return safehttp.File{Name: "i", ContentType: ct, Data: data}
}
