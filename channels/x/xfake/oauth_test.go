package xfake

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The example of X's "Creating a signature" guide: its parameters, secrets and signature.
// Specs: https://docs.x.com/resources/fundamentals/authentication/oauth-1-0a/creating-a-signature
const (
	guideConsumerSecret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
	guideTokenSecret    = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
	guideStatus         = "Hello Ladies + Gentlemen, a signed OAuth request!"
	guideSignature      = "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
	// The guide's request was made when the host was api.twitter.com; the signature covers it.
	guideURL = "https://api.twitter.com/1.1/statuses/update.json"
)

var guideOAuth = []Param{
	{"oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"},
	{"oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"},
	{"oauth_signature_method", "HMAC-SHA1"},
	{"oauth_timestamp", "1318622958"},
	{"oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"},
	{"oauth_version", "1.0"},
}

func TestGuideSignatureBaseAndSignature(t *testing.T) {
	params := append([]Param{{"status", guideStatus}, {"include_entities", "true"}}, guideOAuth...)
	base := SignatureBase("post", guideURL, params)
	// The guide's base string, as printed there.
	wantBase := "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
	if base != wantBase {
		t.Fatalf("base string\n got %s\nwant %s", base, wantBase)
	}
	if got := Sign(base, guideConsumerSecret, guideTokenSecret); got != guideSignature {
		t.Fatalf("signature %s, want %s", got, guideSignature)
	}
}

// guideRequest is the guide's whole HTTP request: query include_entities, form body status
// (body as given), and an Authorization header carrying the guide's signature.
func guideRequest(body string) *http.Request {
	hdr := make([]string, 0, len(guideOAuth)+1)
	for _, p := range guideOAuth {
		hdr = append(hdr, PercentEncode(p.Key)+`="`+PercentEncode(p.Value)+`"`)
	}
	hdr = append(hdr, `oauth_signature="`+PercentEncode(guideSignature)+`"`)
	r := httptest.NewRequest("POST", guideURL+"?include_entities=true", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "OAuth "+strings.Join(hdr, ", "))
	return r
}

func TestVerifyGuideRequest(t *testing.T) {
	// The guide's body: status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21
	body := "status=" + strings.ReplaceAll(url.QueryEscape(guideStatus), "+", "%20")
	if _, err := Verify(guideRequest(body), guideConsumerSecret, guideTokenSecret); err != nil {
		t.Fatalf("the guide's own request was refused: %v", err)
	}
	if _, err := Verify(guideRequest(body), guideConsumerSecret, "wrong-token-secret"); err == nil {
		t.Fatal("a request checked against a wrong token secret was accepted")
	}
	if _, err := Verify(guideRequest(body), "wrong-consumer-secret", guideTokenSecret); err == nil {
		t.Fatal("a request checked against a wrong consumer secret was accepted")
	}
	if _, err := Verify(guideRequest(body+"%21"), guideConsumerSecret, guideTokenSecret); err == nil {
		t.Fatal("a request whose body changed after signing was accepted")
	}
}
