package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Standard Webhooks signing.
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme

// SecretPrefix starts a Standard Webhooks secret.
const SecretPrefix = "whsec_"

// DecodeSecret reads "whsec_<base64>" (the prefix is optional) into the HMAC key. The spec asks
// for keys of 24 to 64 bytes.
func DecodeSecret(s string) ([]byte, error) {
	b64 := strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("not whsec_ followed by standard base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, errors.New("the key must be 24 to 64 bytes (generate one: echo whsec_$(openssl rand -base64 32))")
	}
	return key, nil
}

// Sign is the signature of one message with one key: "v1," + base64(HMAC-SHA256(key,
// "<id>.<timestamp>.<body>")).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Signatures is the webhook-signature header value: one signature per key, space-separated,
// so a receiver that knows any one of the keys (old or new, during a rotation) accepts it.
func Signatures(keys [][]byte, id string, timestamp int64, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, timestamp, body)
	}
	return strings.Join(sigs, " ")
}
