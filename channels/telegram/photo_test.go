package telegram

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// imageHost serves body with the content type at /a.jpg and counts requests.
func imageHost(t *testing.T, contentType string, body []byte) (url string, hits *atomic.Int32) {
	t.Helper()
	hits = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/a.jpg", hits
}

var jpeg = append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 2000)...)

func TestPhotoTelegramCannotFetchIsUploaded(t *testing.T) {
	h := newHarness(t, "allow_private_photo_hosts: true")
	photo, hits := imageHost(t, "image/jpeg", jpeg)
	h.fake.RejectPhotoURL(photo)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost("<b>صورة</b>", photo)))
	if err != nil {
		t.Fatal(err)
	}
	reqs, msgs := h.fake.Requests(), h.fake.Messages()
	if len(reqs) != 2 || reqs[0].Method != "sendPhoto" || reqs[1].Method != "sendPhoto" || hits.Load() != 1 {
		t.Fatalf("requests %+v, image host hits %d", reqs, hits.Load())
	}
	if len(msgs) != 1 || msgs[0].PhotoUpload != len(jpeg) || msgs[0].Caption != "<b>صورة</b>" || rcpt.RemoteID != "1" {
		t.Fatalf("receipt %+v, messages %+v", rcpt, msgs)
	}
}

// TestPhotoURLTelegramCannotFetchAnyWordingIsUploaded: the Bot API words a photo URL it could
// not use in several ways (telegram-bot-api Client.cpp rewrites WEBPAGE_CURL_FAILED,
// EXTERNAL_URL_INVALID, WEBPAGE_MEDIA_EMPTY and "File generation failed"; TDLib says "wrong file
// identifier/HTTP URL specified"). Each means Telegram could not fetch it: herald uploads the
// bytes, and the post goes out with its photo instead of failing.
func TestPhotoURLTelegramCannotFetchAnyWordingIsUploaded(t *testing.T) {
	for _, desc := range []string{"wrong file identifier/HTTP URL specified", "failed to get HTTP URL content",
		"wrong HTTP URL specified", "wrong type of the web page content", "can't upload file by URL"} {
		t.Run(desc, func(t *testing.T) {
			h := newHarness(t, "allow_private_photo_hosts: true")
			photo, hits := imageHost(t, "image/jpeg", jpeg)
			h.fake.RejectPhotoURLAs(photo, desc)
			rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost("<b>صورة</b>", photo)))
			if err != nil {
				t.Fatal(err)
			}
			reqs, msgs := h.fake.Requests(), h.fake.Messages()
			if len(reqs) != 2 || reqs[0].Method != "sendPhoto" || reqs[1].Method != "sendPhoto" || hits.Load() != 1 {
				t.Fatalf("requests %+v, image host hits %d; want the URL refused, then the bytes uploaded", reqs, hits.Load())
			}
			if len(msgs) != 1 || msgs[0].PhotoUpload != len(jpeg) || rcpt.RemoteID != "1" {
				t.Fatalf("receipt %+v, messages %+v", rcpt, msgs)
			}
		})
	}
}

func TestPhotoDownloadRefusedOrFailedSendsText(t *testing.T) {
	cases := []struct {
		name     string
		settings []string
		ctype    string
		body     []byte
		wantLog  string
		wantHits int32
	}{
		{"private host refused by default", nil, "image/jpeg", jpeg, "private address", 0},
		{"not an image", []string{"allow_private_photo_hosts: true"}, "text/html", []byte("<html>"), "not an image", 1},
		{"over the size cap", []string{"allow_private_photo_hosts: true", "photo_max_bytes: 1024"}, "image/jpeg", jpeg, "over photo_max_bytes", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.settings...)
			photo, hits := imageHost(t, tc.ctype, tc.body)
			h.fake.RejectPhotoURL(photo)
			if _, err := h.ch.Send(testCtx(t), msgOf(htmlPost("نص", photo))); err != nil {
				t.Fatal(err)
			}
			msgs := h.fake.Messages()
			if len(msgs) != 1 || msgs[0].Method != "sendMessage" || msgs[0].Text != "نص" {
				t.Fatalf("messages %+v", msgs)
			}
			if hits.Load() != tc.wantHits {
				t.Fatalf("image host hits %d, want %d", hits.Load(), tc.wantHits)
			}
			logs := h.logs.FilterMessageSnippet("photo could not be sent").All()
			if len(logs) != 1 || !strings.Contains(logs[0].ContextMap()["error"].(string), tc.wantLog) {
				t.Fatalf("log %+v should mention %q", logs, tc.wantLog)
			}
		})
	}
}

func TestUploadedPhotoRejectedByTelegramSendsText(t *testing.T) {
	h := newHarness(t, "allow_private_photo_hosts: true")
	photo, _ := imageHost(t, "image/jpeg", jpeg)
	h.fake.FailNext(1, 400, "Bad Request: wrong file identifier/HTTP URL specified")
	h.fake.FailNext(1, 400, "Bad Request: IMAGE_PROCESS_FAILED")
	if _, err := h.ch.Send(testCtx(t), msgOf(htmlPost("نص", photo))); err != nil {
		t.Fatal(err)
	}
	reqs, msgs := h.fake.Requests(), h.fake.Messages()
	if len(reqs) != 3 || reqs[2].Method != "sendMessage" || len(msgs) != 1 || msgs[0].Text != "نص" {
		t.Fatalf("requests %+v messages %+v", reqs, msgs)
	}
}

// TestPhotoURLTelegramCannotUseSendsText: Telegram fetched the photo but refuses the image
// itself (too long or wide, not decodable). Uploading its bytes would be refused alike, so the
// text goes out alone at once, without downloading the image.
func TestPhotoURLTelegramCannotUseSendsText(t *testing.T) {
	// The last: a group that lets the bot send text but not photos.
	for _, desc := range []string{"PHOTO_INVALID_DIMENSIONS", "IMAGE_PROCESS_FAILED", "not enough rights to send photos to the chat"} {
		t.Run(desc, func(t *testing.T) {
			h := newHarness(t, "allow_private_photo_hosts: true")
			photo, hits := imageHost(t, "image/jpeg", jpeg)
			h.fake.RejectPhotoURLAs(photo, desc)
			rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost("نص", photo)))
			if err != nil {
				t.Fatal(err)
			}
			reqs, msgs := h.fake.Requests(), h.fake.Messages()
			if len(reqs) != 2 || reqs[0].Method != "sendPhoto" || reqs[1].Method != "sendMessage" || hits.Load() != 0 {
				t.Fatalf("requests %+v, image host hits %d; want the photo refused, then the text", reqs, hits.Load())
			}
			if len(msgs) != 1 || msgs[0].Text != "نص" || rcpt.RemoteID != "1" {
				t.Fatalf("receipt %+v, messages %+v", rcpt, msgs)
			}
		})
	}
}

func TestPhotoMaxBytesValidated(t *testing.T) {
	for _, v := range []string{"-1", "20000000"} {
		if _, err := LoadConfig(specFrom(t, "chat_id: -1001\ntoken: \"1:x\"\nphoto_max_bytes: "+v+"\n")); err == nil || !strings.Contains(err.Error(), "photo_max_bytes") {
			t.Fatalf("photo_max_bytes %s: %v", v, err)
		}
	}
}
