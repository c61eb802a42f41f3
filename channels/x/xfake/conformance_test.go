package xfake

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/dghubble/oauth1"
	"gopkg.in/yaml.v3"

	"herald/internal/conformance"
)

// TestCreatePostAgreesWithTwitterText posts the text of every v3 case of twitter-text's own
// validate.yml (from ../shared/conformance/twitter-text beside the checkout, which the
// formatter's counter is also checked against; skipped where it is absent) through the fake: it must accept exactly the texts twitter-text calls valid (280
// weighted characters at most, no U+FFFE U+FEFF U+FFFF), and refuse the others with 400.
func TestCreatePostAgreesWithTwitterText(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(conformance.Dir(t, "twitter-text"), "validate.yml"))
	if err != nil {
		t.Fatalf("reading validate.yml: %v", err)
	}
	// Sections have different shapes; only the two v3 weighted sections are decoded.
	var doc struct {
		Tests map[string]yaml.Node `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, sec := range []string{"WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest"} {
		node, ok := doc.Tests[sec]
		if !ok {
			t.Fatalf("section %s missing", sec)
		}
		var cases []struct {
			Description string `yaml:"description"`
			Text        string `yaml:"text"`
			Expected    struct {
				Valid bool `yaml:"valid"`
			} `yaml:"expected"`
		}
		if err := node.Decode(&cases); err != nil {
			t.Fatalf("section %s: %v", sec, err)
		}
		for _, c := range cases {
			ran++
			t.Run(sec+"/"+c.Description, func(t *testing.T) {
				fake := New() // a fresh account: cases repeat texts, which would be duplicates
				defer fake.Close()
				status := postText(t, fake, c.Text)
				if want := map[bool]int{true: 201, false: 400}[c.Expected.Valid]; status != want {
					t.Errorf("POST /2/tweets answered %d, want %d (twitter-text valid: %v; text %.60q)", status, want, c.Expected.Valid, c.Text)
				}
			})
		}
	}
	if ran != 24 {
		t.Errorf("%d cases ran, want the file's 22 + 2", ran)
	}
}

// postText creates a post with text, signed with the default credentials, and returns the status.
func postText(t *testing.T, fake *Server, text string) int {
	t.Helper()
	c := DefaultCredentials
	hc := oauth1.NewConfig(c.ConsumerKey, c.ConsumerSecret).Client(context.Background(), oauth1.NewToken(c.AccessToken, c.AccessSecret))
	body, _ := json.Marshal(map[string]string{"text": text})
	req, _ := http.NewRequest(http.MethodPost, fake.APIBase()+"/2/tweets", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
