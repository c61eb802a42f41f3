// Package websubfake is a WebSub hub for tests, on loopback: it takes subscription requests,
// verifies the subscriber's intent with a challenge as a real hub does, and distributes content
// to verified subscribers, signed with their secret.
// Specs: https://www.w3.org/TR/websub/
package websubfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Subscription is one subscriber the hub knows.
type Subscription struct {
	Topic, Callback, Secret string
	// Lease is what the hub granted, in seconds.
	Lease int
	// Verified is true once the subscriber echoed the challenge.
	Verified bool
	// Requests counts subscription requests (a renewal is another one).
	Requests int
	// VerifyError says why the last verification failed.
	VerifyError string
}

// Hub is the fake. Create it with New; Close it when done.
type Hub struct {
	srv    *httptest.Server
	client *http.Client

	mu    sync.Mutex
	subs  map[string]*Subscription // by callback + " " + topic
	lease int
	wg    sync.WaitGroup
}

// New starts a hub on 127.0.0.1 that grants 10-day leases (SetLease changes it).
func New() *Hub {
	h := &Hub{subs: map[string]*Subscription{}, lease: 864000, client: &http.Client{Timeout: 5 * time.Second}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

// URL is the hub's URL, to put in a feed's <link rel="hub">.
func (h *Hub) URL() string { return h.srv.URL + "/" }

// Close stops the hub after pending verifications.
func (h *Hub) Close() {
	h.wg.Wait()
	h.srv.Close()
}

// SetLease sets the lease granted to later subscriptions, in seconds.
func (h *Hub) SetLease(seconds int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lease = seconds
}

// Subscriptions returns a copy of every subscription.
func (h *Hub) Subscriptions() []Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Subscription
	for _, s := range h.subs {
		out = append(out, *s)
	}
	return out
}

// serve handles subscription requests.
// Specs: https://www.w3.org/TR/websub/#subscriber-sends-subscription-request
func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "hub: POST only", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		http.Error(w, "hub: Content-Type must be application/x-www-form-urlencoded", http.StatusBadRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "hub: "+err.Error(), http.StatusBadRequest)
		return
	}
	mode, topic, callback, secret := r.PostForm.Get("hub.mode"), r.PostForm.Get("hub.topic"), r.PostForm.Get("hub.callback"), r.PostForm.Get("hub.secret")
	cb, err := url.Parse(callback)
	switch {
	case mode != "subscribe" && mode != "unsubscribe":
		http.Error(w, "hub: hub.mode must be subscribe or unsubscribe", http.StatusBadRequest)
		return
	case topic == "":
		http.Error(w, "hub: hub.topic is required", http.StatusBadRequest)
		return
	case err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "":
		http.Error(w, "hub: hub.callback must be an absolute http(s) URL", http.StatusBadRequest)
		return
	case len(secret) >= 200:
		http.Error(w, "hub: hub.secret must be less than 200 bytes", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	key := callback + " " + topic
	s := h.subs[key]
	if s == nil {
		s = &Subscription{Topic: topic, Callback: callback}
		h.subs[key] = s
	}
	s.Requests++
	lease := h.lease
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.verify(key, mode, topic, callback, secret, lease)
	}()
}

// verify asks the subscriber to confirm with a challenge.
// Specs: https://www.w3.org/TR/websub/#hub-verifies-intent
func (h *Hub) verify(key, mode, topic, callback, secret string, lease int) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	challenge := hex.EncodeToString(b[:])
	q := url.Values{"hub.mode": {mode}, "hub.topic": {topic}, "hub.challenge": {challenge}}
	if mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.Itoa(lease))
	}
	u, _ := url.Parse(callback)
	vals := u.Query()
	for k, v := range q {
		vals[k] = v
	}
	u.RawQuery = vals.Encode()
	resp, err := h.client.Get(u.String())
	verr := ""
	if err != nil {
		verr = err.Error()
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 || string(body) != challenge {
			verr = fmt.Sprintf("HTTP %d, body %q, want the challenge", resp.StatusCode, body)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.subs[key]
	s.VerifyError = verr
	if verr != "" {
		return
	}
	if mode == "unsubscribe" {
		delete(h.subs, key)
		return
	}
	s.Verified, s.Secret, s.Lease = true, secret, lease
}

// Publish distributes body to every verified subscriber of topic, signed with
// X-Hub-Signature: sha256=<HMAC of the body with the subscriber's secret>, and returns each
// subscriber's HTTP status.
// Specs: https://www.w3.org/TR/websub/#content-distribution
func (h *Hub) Publish(topic, contentType string, body []byte) ([]int, error) {
	return h.publish(topic, contentType, body, func(secret string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	})
}

// PublishWithSignature distributes body with the given X-Hub-Signature value (a forgery).
func (h *Hub) PublishWithSignature(topic, contentType string, body []byte, signature string) ([]int, error) {
	return h.publish(topic, contentType, body, func(string) string { return signature })
}

func (h *Hub) publish(topic, contentType string, body []byte, sign func(secret string) string) ([]int, error) {
	h.mu.Lock()
	var targets []Subscription
	for _, s := range h.subs {
		if s.Topic == topic && s.Verified {
			targets = append(targets, *s)
		}
	}
	h.mu.Unlock()
	var codes []int
	for _, s := range targets {
		req, err := http.NewRequest(http.MethodPost, s.Callback, bytes.NewReader(body))
		if err != nil {
			return codes, err
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Add("Link", fmt.Sprintf(`<%s>; rel="hub"`, h.URL()))
		req.Header.Add("Link", fmt.Sprintf(`<%s>; rel="self"`, topic))
		if s.Secret != "" {
			req.Header.Set("X-Hub-Signature", sign(s.Secret))
		}
		resp, err := h.client.Do(req)
		if err != nil {
			return codes, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes, nil
}
