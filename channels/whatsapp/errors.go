package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// DefaultRetryAfter is the wait after a rate limit that does not say how long.
const DefaultRetryAfter = 60 * time.Second

// APIError is a provider's refusal, read with errors.As.
type APIError struct {
	Status  int    // HTTP status
	Code    int    // Cloud API error.code (131047, 190, …); 0 for the gateways
	Subcode int    // Cloud API error.error_subcode
	Message string // the provider's message, secrets removed
	Details string // Cloud API error.error_data.details
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d", e.Status)
	// Graph's messages often start with the code already: "(#132001) Template name does not exist".
	if tag := fmt.Sprintf("(#%d)", e.Code); e.Code != 0 && !strings.HasPrefix(e.Message, tag) {
		s += " " + tag
	}
	if e.Message != "" {
		s += " " + e.Message
	}
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// Cloud API error codes that decide what happens.
// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
const (
	CodeReEngagement = 131047 // more than 24 h since the recipient last wrote: a template is needed
)

var (
	// cloudAuth: the token or the app's permissions: every later post fails the same way — 0
	// AuthException, 3 API Method (capability or permissions; sent with HTTP 500), 10
	// permission denied, 190 token expired, 131005 access denied, 131031 account locked; and
	// 200–299 API Permission (cloudAuthCode).
	cloudAuth = map[int]bool{0: true, 3: true, 190: true, 10: true, 131005: true, 131031: true}
	// cloudRate: throughput, pair and spam rate limits.
	cloudRate = map[int]bool{4: true, 80007: true, 130429: true, 131048: true, 131056: true}
	// cloudAccount: the business account cannot send at all until its owner acts in Meta
	// Business Manager — 131042 payment method (every paid message is refused), 131045 and
	// 133010 phone number not (properly) registered, 368 temporarily blocked for policy
	// violations — so every later post would fail the same way.
	cloudAccount = map[int]bool{131042: true, 131045: true, 133010: true, 368: true}
	// cloudRetry: Meta's own transient failures.
	cloudRetry = map[int]bool{1: true, 2: true, 131000: true, 131016: true, 133004: true}
)

// cloudAuthCode reports the Cloud API's authorization errors.
// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes#authorization-errors
func cloudAuthCode(code int) bool { return cloudAuth[code] || code >= 200 && code < 300 }

// classify for the Cloud API reads {"error":{"message","type","code","error_subcode",
// "error_data":{"details"},"fbtrace_id"}}:
//
//	HTTP 401, or code 0/190 (token), 3 (capability, even with HTTP 500), 10/200–299
//	(permission), 131005, 131031 → channels.Auth (pause)
//	code 100 subcode 33 (phone_number_id names no number the token sees) → channels.Pause
//	code 131042 (payment), 131045/133010 (number not registered), 368 (blocked)
//	                                                → channels.Pause: the account cannot send
//	HTTP 429, or code 4/80007/130429/131048/131056 → channels.RateLimited (Retry-After, else 60s)
//	code 131047 (outside the 24-hour window)        → channels.Permanent, saying to set template
//	code 1/2/131000/131016/133004, HTTP 5xx         → retryable (504: unknown outcome)
//	other                                           → channels.Permanent
func (cloud) classify(c *Channel, action string, resp *httpsend.Response) error {
	var body struct {
		Error struct {
			Message   string `json:"message"`
			Code      int    `json:"code"`
			Subcode   int    `json:"error_subcode"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	ae := &APIError{Status: resp.Status}
	graph := json.Unmarshal(resp.Body, &body) == nil && body.Error.Message != ""
	if graph {
		ae.Code, ae.Subcode = body.Error.Code, body.Error.Subcode
		ae.Message = c.http.RedactString(body.Error.Message)
		ae.Details = c.http.RedactString(body.Error.ErrorData.Details)
	} else {
		ae.Message = c.http.Snippet(resp.Body)
	}
	err := c.http.Errorf("%s: %w", action, ae)
	switch {
	case resp.Status == 401 || (graph && cloudAuthCode(ae.Code)):
		return channels.Auth(err)
	case graph && ae.Code == 100 && ae.Subcode == 33:
		// Every Cloud API call is under /{phone-number-id}: the object Graph cannot load is it.
		return channels.Pause(fmt.Sprintf("whatsapp: phone_number_id %s names no number this token can send from (code 100, subcode 33): check phone_number_id and the token, then resume", c.cfg.PhoneNumberID), err)
	case graph && cloudAccount[ae.Code]:
		return channels.Pause(fmt.Sprintf("whatsapp: the business account cannot send (#%d %s): fix it in Meta Business Manager, then resume", ae.Code, ae.Message), err)
	case resp.Status == 429 || cloudRate[ae.Code]:
		return channels.RateLimited(err, c.http.RetryAt(resp, DefaultRetryAfter))
	case ae.Code == CodeReEngagement:
		return channels.Permanent(fmt.Errorf("%w (outside the 24-hour window the Cloud API takes only templates: set template)", err))
	case resp.Status == 504:
		return channels.UnknownOutcome(err)
	case resp.Status >= 500 || cloudRetry[ae.Code]:
		return err
	default:
		return channels.Permanent(err)
	}
}

// gatewayError reads the gateways' error bodies: WAHA {"statusCode","message","error"} (NestJS),
// from its session manager {"error","session","status","expected"}, for an error the engine
// threw (500) {"statusCode","timestamp","exception":{"message","name","stack"}}; Whapi
// {"error":{"code","message","details"}}; or anything else as text.
func gatewayError(c *Channel, resp *httpsend.Response) *APIError {
	ae := &APIError{Status: resp.Status}
	var waha struct {
		Message   json.RawMessage `json:"message"`
		Error     json.RawMessage `json:"error"`
		Status    string          `json:"status"`
		Exception struct {
			Message string `json:"message"`
		} `json:"exception"`
	}
	var whapi struct {
		Error struct {
			Message string `json:"message"`
			Details string `json:"details"`
		} `json:"error"`
	}
	switch {
	case json.Unmarshal(resp.Body, &whapi) == nil && whapi.Error.Message != "":
		ae.Message, ae.Details = whapi.Error.Message, whapi.Error.Details
	case json.Unmarshal(resp.Body, &waha) == nil && waha.Exception.Message != "":
		ae.Message = waha.Exception.Message // the stack trace stays out of the record
	case json.Unmarshal(resp.Body, &waha) == nil && (len(waha.Message) > 0 || len(waha.Error) > 0):
		msg := waha.Message
		if len(msg) == 0 {
			msg = waha.Error // the session manager's {"error": "Session status is not as expected…"}
		}
		var s string
		if json.Unmarshal(msg, &s) != nil {
			s = string(msg)
		}
		ae.Message = s
		if waha.Status != "" {
			ae.Details = "session status " + waha.Status
		}
	default:
		ae.Message = string(resp.Body)
	}
	ae.Message = c.http.Snippet([]byte(ae.Message))
	ae.Details = c.http.RedactString(ae.Details)
	return ae
}

// classify for WAHA:
//
//	401, 403                                → channels.Auth (X-Api-Key)
//	404, 422 about the session (no such session; not WORKING: QR to scan, stopped, failed)
//	                                        → channels.Pause: nothing can be sent until the
//	                                          operator fixes the session
//	429                                     → channels.RateLimited
//	500 (the engine threw while sending: whatsapp-web.js is known to throw after the message
//	went out)                               → channels.UnknownOutcome: WAHA has no idempotency key
//	501 (not implemented by the engine)     → channels.Permanent
//	other 5xx (a proxy in front of WAHA)    → retryable (504: unknown outcome)
//	other 4xx, 422 about something else     → channels.Permanent (WAHA Core's 422 "available
//	                                          only in Plus version" for an image: the text
//	                                          still goes, image.go)
func (waha) classify(c *Channel, action string, resp *httpsend.Response) error {
	ae := gatewayError(c, resp)
	err := c.http.Errorf("%s: %w", action, ae)
	switch {
	case resp.Status == 401 || resp.Status == 403:
		return channels.Auth(err)
	case resp.Status == 404 || resp.Status == 422 && wahaSessionProblem(ae):
		return channels.Pause(fmt.Sprintf("waha session %q cannot send (%d)", c.cfg.Session, resp.Status), err)
	case resp.Status == 500:
		// WAHA's exception filter answers 500 for an error its engine threw, which may come after
		// the message went out (whatsapp-web.js's "Cannot read properties of undefined (reading
		// 'serialize')"). A retry would show the news twice to every follower.
		return channels.UnknownOutcome(err)
	}
	return gatewayKind(c, resp, err)
}

// wahaSessionProblem reports whether a WAHA 422 is about the session (its status, or a session
// that does not exist) rather than the request: WAHA answers both with 422.
func wahaSessionProblem(ae *APIError) bool {
	return ae.Details != "" || strings.Contains(strings.ToLower(ae.Message), "session")
}

// classify for Whapi.Cloud: 401/403 → channels.Auth; 402 (the channel's trial or plan is spent:
// every message is refused alike until it is renewed) → channels.Pause; then as gatewayKind.
func (whapi) classify(c *Channel, action string, resp *httpsend.Response) error {
	ae := gatewayError(c, resp)
	err := c.http.Errorf("%s: %w", action, ae)
	switch resp.Status {
	case 401, 403:
		return channels.Auth(err)
	case 402:
		return channels.Pause(fmt.Sprintf("whatsapp: the Whapi.Cloud channel cannot send (402 %s): renew its plan or trial, then resume", ae.Message), err)
	}
	return gatewayKind(c, resp, err)
}

func gatewayKind(c *Channel, resp *httpsend.Response, err error) error {
	switch {
	case resp.Status == 429:
		return channels.RateLimited(err, c.http.RetryAt(resp, DefaultRetryAfter))
	case resp.Status == 504:
		return channels.UnknownOutcome(err)
	case resp.Status == 501:
		return channels.Permanent(err) // the gateway does not implement this: retrying cannot help
	case resp.Status >= 500:
		return err
	default:
		return channels.Permanent(err)
	}
}

// AsAPIError reads an APIError through wrapping.
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
}
