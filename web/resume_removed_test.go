package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// POST /v1/channels/{name}/resume clears the pause record of a channel removed from the
// config while paused (nothing else could); a channel neither configured nor paused is still
// 404, and so is a pause of a channel not configured.
func TestResumeClearsARemovedChannelsPause(t *testing.T) {
	e := newDashEnv(t)
	ctx := context.Background()
	post := func(path string) int {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Header.Set("Authorization", "Bearer "+dashAdminToken)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post("/v1/channels/tg-old/resume"); code != http.StatusNotFound {
		t.Fatalf("resume of a channel neither configured nor paused: %d", code)
	}
	if err := e.broker.Pause(ctx, "tg-old", "removed while paused"); err != nil {
		t.Fatal(err)
	}
	if code := post("/v1/channels/tg-old/pause"); code != http.StatusNotFound {
		t.Fatalf("pause of a channel not configured: %d", code)
	}
	if code := post("/v1/channels/tg-old/resume"); code != http.StatusOK {
		t.Fatalf("resume of a removed channel's pause: %d", code)
	}
	if _, ok := e.paused("tg-old"); ok {
		t.Fatal("tg-old's pause record is still there")
	}
}
