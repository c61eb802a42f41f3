package telegramfake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// tdlibTypes maps TDLib's entity types (cases.json) to the Bot API's.
var tdlibTypes = map[string]string{
	"Bold": "bold", "Italic": "italic", "Underline": "underline", "Strikethrough": "strikethrough",
	"Code": "code", "Pre": "pre", "PreCode": "pre", "TextUrl": "text_link", "MentionName": "text_mention",
	"BlockQuote": "blockquote", "ExpandableBlockQuote": "expandable_blockquote", "Spoiler": "spoiler",
	"CustomEmoji": "custom_emoji",
}

// TestParseHTMLConformance checks ParseHTML against Telegram's own parser on every case of
// testdata/telegram-html/cases.json (TDLib's answers): the same accept or refuse, the same
// error, the same visible text and UTF-16 length, the same entities.
func TestParseHTMLConformance(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "telegram-html", "cases.json"))
	if err != nil {
		t.Fatalf("reading cases: %v", err)
	}
	var file struct {
		Cases []struct {
			HTML        string `json:"html"`
			OK          bool   `json:"ok"`
			Error       string `json:"error"`
			Text        string `json:"text"`
			UTF16Length int    `json:"utf16_length"`
			Entities    []struct {
				Type     string `json:"type"`
				Offset   int    `json:"offset"`
				Length   int    `json:"length"`
				URL      string `json:"url"`
				Language string `json:"language"`
			} `json:"entities"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("parsing cases: %v", err)
	}
	if len(file.Cases) < 98 {
		t.Fatalf("only %d cases in the file, want all 98", len(file.Cases))
	}
	for i, c := range file.Cases {
		plain, ents, err := ParseHTML(c.HTML)
		name := c.HTML
		if len(name) > 60 {
			name = name[:60]
		}
		if !c.OK {
			if err == nil {
				t.Errorf("case %d %q: accepted, Telegram refuses: %s", i, name, c.Error)
			} else if got := "Can't parse entities: " + err.Error(); got != c.Error {
				t.Errorf("case %d %q: error %q, Telegram says %q", i, name, got, c.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d %q: refused (%v), Telegram accepts", i, name, err)
			continue
		}
		if plain != c.Text || UTF16Len(plain) != c.UTF16Length {
			t.Errorf("case %d %q: text %q (%d units), Telegram %q (%d)", i, name, plain, UTF16Len(plain), c.Text, c.UTF16Length)
		}
		if len(ents) != len(c.Entities) {
			t.Errorf("case %d %q: entities %+v, Telegram %+v", i, name, ents, c.Entities)
			continue
		}
		for k, want := range c.Entities {
			got := ents[k]
			if got.Type != tdlibTypes[want.Type] || got.Offset != want.Offset || got.Length != want.Length ||
				(want.URL != "" && got.URL != want.URL) || got.Language != want.Language {
				t.Errorf("case %d %q: entity %d = %+v, Telegram %+v", i, name, k, got, want)
			}
		}
	}
}
