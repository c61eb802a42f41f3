package facebook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// APIError is a Graph API error answer, read with errors.As.
// Specs: https://developers.facebook.com/docs/graph-api/guides/error-handling
type APIError struct {
	HTTPStatus int    `json:"-"`
	Message    string `json:"message"`
	Type       string `json:"type"`
	Code       int    `json:"code"`
	Subcode    int    `json:"error_subcode,omitempty"`
	FBTraceID  string `json:"fbtrace_id,omitempty"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s (code %d", e.HTTPStatus, e.Message, e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf(", subcode %d", e.Subcode)
	}
	if e.FBTraceID != "" {
		s += ", fbtrace_id " + e.FBTraceID
	}
	return s + ")"
}

// parseError reads Graph's error answer. Any other answer (a proxy's page, a redirect's body,
// which may quote the request URL and its access_token) becomes the message through
// send.Snippet, which removes the token before cutting: a cut through it would leave its first
// part.
func parseError(resp *httpsend.Response, send *httpsend.Client) *APIError {
	var body struct {
		Error *APIError `json:"error"`
	}
	if json.Unmarshal(resp.Body, &body) != nil || body.Error == nil {
		body.Error = &APIError{Message: send.Snippet(resp.Body)}
	}
	body.Error.HTTPStatus = resp.Status
	body.Error.Message = send.RedactString(body.Error.Message)
	body.Error.Type = send.RedactString(body.Error.Type)
	body.Error.FBTraceID = send.RedactString(body.Error.FBTraceID)
	return body.Error
}

// codeBlocked is Graph's "Temporarily blocked for policies violations" (subcode 1390008: going
// too fast), which lasts hours or days.
// Specs: https://developers.facebook.com/docs/graph-api/guides/error-handling
const codeBlocked = 368

// subcodeNoObject (with code 100) is Graph's "Object with ID … does not exist, cannot be loaded
// due to missing permissions, or does not support this operation".
const subcodeNoObject = 33

// authCode reports Graph's codes for a token or an app that cannot make the call, which no
// retry fixes: 190 (OAuthException: token invalid or expired), 102 (API Session: "the login
// status or access token has expired, been revoked, or is otherwise invalid. Get a new access
// token"), 3 (API Method: "capability or permissions issue"), 10 and 200–299 (permission).
// Specs: https://developers.facebook.com/docs/graph-api/guides/error-handling#errorcodes
func authCode(code int) bool {
	return code == 190 || code == 102 || code == 3 || code == 10 || code >= 200 && code < 300
}

// DefaultRateLimitWait is used when a throttled answer does not say when access comes back.
const DefaultRateLimitWait = 5 * time.Minute

// rateLimitCodes are Graph's throttling codes: 4 app, 17 user, 32 page, 341 feed actions ("Feed
// action request limit reached": too many posts in a short time), 613 call-rate, 80001 page
// (business use case).
// Specs: https://developers.facebook.com/docs/graph-api/overview/rate-limiting
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 341: true, 613: true, 80001: true}

// classify turns a Graph error into an error of the right kind (channels/errors.go):
//
//	190 (token invalid or expired), 102 (API session: the token's login no longer valid),
//	3 (capability), 10 and 200–299 (permission) → channels.Auth: the channel pauses
//	4, 17, 32, 341, 613, 80001 (throttled) → channels.RateLimited (estimated_time_to_regain_access, else 5 min)
//	100 subcode 33 on a post (page_id names no Page the token can see) → channels.Pause
//	368 on a post (the Page is temporarily blocked from posting: "wait and retry", Meta says)
//	                                  → channels.Pause: every post of the backlog would be refused
//	506 (duplicate post)              → channels.DuplicateContent
//	other 4xx (368 on an edit or delete too) → channels.Permanent
//	1, 2 (unknown, temporarily down), 5xx → retryable; 504 on a post → channels.UnknownOutcome
//	                                  (create makes all of them UnknownOutcome on a photo post)
func (c *Channel) classify(action string, resp *httpsend.Response, posting bool) error {
	ae := parseError(resp, c.send)
	err := fmt.Errorf("facebook: %s: %w", action, ae)
	switch {
	case authCode(ae.Code):
		return channels.Auth(err)
	case rateLimitCodes[ae.Code] || resp.Status == http.StatusTooManyRequests:
		return channels.RateLimited(err, c.now().Add(regainWait(resp.Header)))
	case ae.Code == 100 && ae.Subcode == subcodeNoObject && posting:
		// Posting to /{page_id}/…: the object Graph cannot load is the Page itself.
		return channels.Pause(fmt.Sprintf("facebook: page_id %s names no Page this token can post to (code 100, subcode 33): check page_id and the Page token, then resume", c.cfg.PageID), err)
	case ae.Code == codeBlocked && posting:
		return channels.Pause(fmt.Sprintf("facebook: the Page is temporarily blocked from posting (code %d: %s): resume once Facebook lifts the block", ae.Code, ae.Message), err)
	case ae.Code == 506:
		return channels.DuplicateContent(err)
	case ae.Code == 1 || ae.Code == 2:
		return err
	case resp.Status == http.StatusGatewayTimeout && posting:
		return channels.UnknownOutcome(err)
	case resp.Status >= 500:
		return err
	default: // 100 invalid parameter, …
		return channels.Permanent(err)
	}
}

// regainWait reads estimated_time_to_regain_access (minutes) from the usage headers Graph sends
// with throttled answers, the longest one given.
// Specs: https://developers.facebook.com/docs/graph-api/overview/rate-limiting
func regainWait(h http.Header) time.Duration {
	wait := time.Duration(0)
	for _, name := range []string{"X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		var flat map[string]any
		if json.Unmarshal([]byte(v), &flat) != nil {
			continue
		}
		walkMinutes(flat, &wait)
	}
	if wait <= 0 {
		return DefaultRateLimitWait
	}
	return wait
}

func walkMinutes(v any, wait *time.Duration) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if f, ok := x.(float64); ok && k == "estimated_time_to_regain_access" {
				*wait = max(*wait, time.Duration(f)*time.Minute)
				continue
			}
			walkMinutes(x, wait)
		}
	case []any:
		for _, x := range t {
			walkMinutes(x, wait)
		}
	}
}
