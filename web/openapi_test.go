package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// openAPIDoc is the part of web/openapi.yaml the test reads.
type openAPIDoc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Paths      map[string]map[string]openAPIOp `yaml:"paths"`
	Components struct {
		Schemas   map[string]any `yaml:"schemas"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema any `yaml:"schema"`
			} `yaml:"content"`
		} `yaml:"responses"`
	} `yaml:"components"`
}

type openAPIOp struct {
	Responses map[string]struct {
		Ref     string `yaml:"$ref"`
		Content map[string]struct {
			Schema any `yaml:"schema"`
		} `yaml:"content"`
	} `yaml:"responses"`
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi: %q, want 3.1.0", doc.OpenAPI)
	}
	return &doc
}

// The document describes exactly the routes the server registers, and every answer of every
// handler, success and error alike, matches the schema documented for its status code.
func TestOpenAPIMatchesRoutesAndResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	a := newTestAPI(t, nil)
	a.srv.Metrics = http.NotFoundHandler() // any handler: the route is what counts here
	a.h = a.srv.Handler()

	served := a.h.(*routeMux).Patterns()
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	for _, p := range served {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is served but not described in web/openapi.yaml", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(served, p) {
			t.Errorf("web/openapi.yaml describes %q, which is not served", p)
		}
	}

	checked := map[string]bool{}
	check := func(token, method, template, path, body string) []byte {
		t.Helper()
		code, out := a.do(token, method, path, body)
		op, ok := doc.Paths[template][strings.ToLower(method)]
		if !ok {
			t.Fatalf("%s %s: not documented", method, template)
		}
		resp, ok := op.Responses[fmt.Sprint(code)]
		if !ok {
			t.Fatalf("%s %s answered %d, which is not documented: %s", method, path, code, out)
		}
		var schema any
		if resp.Ref != "" {
			name := strings.TrimPrefix(resp.Ref, "#/components/responses/")
			schema = doc.Components.Responses[name].Content["application/json"].Schema
		} else if c, ok := resp.Content["application/json"]; ok {
			schema = c.Schema
		}
		if schema != nil {
			var v any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("%s %s: %d is not JSON: %s", method, path, code, out)
			}
			if err := validate(doc, schema, v, "$"); err != nil {
				t.Errorf("%s %s → %d: %v\n%s", method, path, code, err, out)
			}
		}
		checked[fmt.Sprintf("%s %s %d", method, template, code)] = true
		return out
	}

	check(adminToken, "POST", "/v1/articles", "/v1/articles", `{"id":"o1","url":"https://news.example.com/o1","title":"عنوان","tags":["a"]}`)
	check(adminToken, "POST", "/v1/articles", "/v1/articles", `{"id":"o1","url":"https://news.example.com/o1","title":"عنوان"}`)
	check(adminToken, "POST", "/v1/articles", "/v1/articles", `{"url":"nope"}`)
	check(adminToken, "POST", "/v1/articles", "/v1/articles", `{`)
	check("", "POST", "/v1/articles", "/v1/articles", `{}`)
	check(viewerToken, "POST", "/v1/articles", "/v1/articles", `{}`)
	check("", "POST", "/v1/hooks/wordpress", "/v1/hooks/wordpress", `{"id":1}`)
	a.waitStatus("o1", queue.StateSent)
	check(adminToken, "GET", "/v1/articles/{id}", "/v1/articles/o1", "")
	check(adminToken, "GET", "/v1/articles/{id}", "/v1/articles/none", "")
	// o1 has an id of its own: found through the URL index, its URL written another way.
	if out := check(viewerToken, "GET", "/v1/articles", "/v1/articles?url="+url.QueryEscape("https://NEWS.example.com/o1/?utm_source=x#c"), ""); !strings.Contains(string(out), `"id":"o1"`) {
		t.Errorf("GET /v1/articles?url= of o1: %s", out)
	}
	check(adminToken, "GET", "/v1/articles", "/v1/articles?url="+url.QueryEscape("https://news.example.com/none"), "")
	check(adminToken, "GET", "/v1/articles", "/v1/articles", "")
	check(publisherToken, "GET", "/v1/articles", "/v1/articles?url=x", "")
	check(adminToken, "POST", "/v1/channels/{name}/pause", "/v1/channels/tg/pause?reason=review", "")
	if out := check(adminToken, "POST", "/v1/channels/{name}/pause", "/v1/channels/tg/pause?reason=again&by=desk", ""); !strings.Contains(string(out), `"already":{"channel":"tg"`) {
		t.Errorf("a pause of a paused channel does not name the pause kept: %s", out)
	}
	check(adminToken, "POST", "/v1/channels/{name}/pause", "/v1/channels/nope/pause", "")
	// A delivery queued for a channel no longer configured ("gone"): listed under unconfigured.
	gone := &article.Article{ID: "o2", URL: "https://news.example.com/o2", Title: "عنوان"}
	gone.Normalize()
	if _, err := a.broker.Publish(context.Background(), gone, []queue.Target{{Name: "gone", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	if out := check(adminToken, "GET", "/v1/channels", "/v1/channels", ""); !strings.Contains(string(out), `"unconfigured":[{"channel":"gone","pending":1,`) {
		t.Errorf("GET /v1/channels does not name the unconfigured channel's backlog: %s", out)
	}
	check(adminToken, "POST", "/v1/channels/{name}/retry-unknown", "/v1/channels/tg/retry-unknown", "")
	check(viewerToken, "POST", "/v1/channels/{name}/retry-unknown", "/v1/channels/tg/retry-unknown", "")
	check(adminToken, "POST", "/v1/channels/{name}/resume", "/v1/channels/tg/resume", "")
	// A channel herald paused by itself (a revoked token) names who paused it: paused_by.
	if err := a.broker.PauseBy(t.Context(), "tg", "auth: 401 Unauthorized", queue.PausedByHerald); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/channels", "/v1/stats"} {
		if out := check(viewerToken, "GET", path, path, ""); !strings.Contains(string(out), `"paused_by":"herald"`) {
			t.Errorf("GET %s does not say who paused tg: %s", path, out)
		}
	}
	if err := a.broker.Resume(t.Context(), "tg"); err != nil {
		t.Fatal(err)
	}
	check(adminToken, "POST", "/v1/articles/{id}/deliveries/{channel}/{action}", "/v1/articles/o1/deliveries/tg/retry", "")
	check(adminToken, "POST", "/v1/articles/{id}/deliveries/{channel}/{action}", "/v1/articles/o1/deliveries/tg/repost", "")
	check(adminToken, "POST", "/v1/articles/{id}/deliveries/{channel}/{action}", "/v1/articles/none/deliveries/tg/retry", "")
	a.waitFor("repost sent", func() bool {
		d, _ := a.broker.Delivery(t.Context(), "o1", "tg")
		return d.State == queue.StateSent && d.Revision == 2
	})
	check(adminToken, "POST", "/v1/articles/{id}/retract", "/v1/articles/o1/retract?by=desk", "")
	check(adminToken, "POST", "/v1/articles/{id}/retract", "/v1/articles/none/retract", "")
	check(viewerToken, "POST", "/v1/articles/{id}/retract", "/v1/articles/o1/retract", "")
	check(adminToken, "POST", "/v1/articles/{id}/correct", "/v1/articles/o1/correct?by=desk", `{"url":"https://news.example.com/o1","title":"مصحح"}`)
	check(adminToken, "POST", "/v1/articles/{id}/correct", "/v1/articles/o1/correct", `{"url":"https://news.example.com/o1","title":""}`)
	check(adminToken, "POST", "/v1/articles/{id}/correct", "/v1/articles/none/correct", `{"url":"https://news.example.com/none","title":"x"}`)
	check(viewerToken, "POST", "/v1/articles/{id}/correct", "/v1/articles/o1/correct", `{}`)
	check(viewerToken, "GET", "/v1/deliveries", "/v1/deliveries", "")
	check(viewerToken, "GET", "/v1/deliveries", "/v1/deliveries?channel=tg&status=sent&limit=1", "")
	check(viewerToken, "GET", "/v1/deliveries", "/v1/deliveries?status=bogus", "")
	check(viewerToken, "GET", "/v1/stats", "/v1/stats", "")
	check(viewerToken, "GET", "/v1/feeds", "/v1/feeds", "")
	check(adminToken, "GET", "/v1/audit", "/v1/audit?n=5", "")
	check(viewerToken, "GET", "/v1/audit", "/v1/audit", "")
	check("", "GET", "/healthz", "/healthz", "")
	check("", "GET", "/readyz", "/readyz", "")
	if out := check("", "GET", "/openapi.yaml", "/openapi.yaml", ""); string(out) != string(openAPI) {
		t.Fatal("/openapi.yaml does not serve the embedded document")
	}
	for _, want := range []string{"POST /v1/articles 202", "POST /v1/articles 422", "POST /v1/articles 400", "POST /v1/articles 401", "POST /v1/articles 403",
		"GET /v1/articles/{id} 200", "GET /v1/articles/{id} 404", "GET /v1/deliveries 200", "GET /v1/deliveries 400", "GET /v1/stats 200",
		"POST /v1/articles/{id}/correct 200", "POST /v1/articles/{id}/correct 400", "POST /v1/articles/{id}/correct 404",
		"POST /v1/articles/{id}/deliveries/{channel}/{action} 409", "POST /v1/articles/{id}/deliveries/{channel}/{action} 202"} {
		if !checked[want] {
			t.Errorf("never checked %s", want)
		}
	}
}

// validate checks v against a JSON Schema subset: $ref, type, enum, properties, required,
// items, additionalProperties: false, allOf with unevaluatedProperties: false.
func validate(doc *openAPIDoc, schema, v any, at string) error {
	s, ok := schema.(map[string]any)
	if !ok {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		target, ok := doc.Components.Schemas[name]
		if !ok {
			return fmt.Errorf("%s: unknown $ref %s", at, ref)
		}
		return validate(doc, target, v, at)
	}
	if all, ok := s["allOf"].([]any); ok {
		props := map[string]bool{}
		for _, sub := range all {
			if err := validateLoose(doc, sub, v, at); err != nil {
				return err
			}
			for k := range resolve(doc, sub)["properties"].(map[string]any) {
				props[k] = true
			}
		}
		if s["unevaluatedProperties"] == false {
			if obj, ok := v.(map[string]any); ok {
				for k := range obj {
					if !props[k] {
						return fmt.Errorf("%s.%s: not in the schema", at, k)
					}
				}
			}
		}
		return nil
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, have %T", at, v)
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: missing required %q", at, r)
			}
		}
		for k, val := range obj {
			ps, ok := props[k]
			if !ok {
				if s["additionalProperties"] == false {
					return fmt.Errorf("%s.%s: not in the schema", at, k)
				}
				continue
			}
			if err := validate(doc, ps, val, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array, have %T", at, v)
		}
		for i, e := range arr {
			if err := validate(doc, s["items"], e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, have %T", at, v)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, str)
			}
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: want an integer, have %v", at, v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want a number, have %T", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, have %T", at, v)
		}
	}
	return nil
}

// validateLoose validates one allOf member without its own additionalProperties.
func validateLoose(doc *openAPIDoc, schema, v any, at string) error {
	s := map[string]any{}
	for k, val := range resolve(doc, schema) {
		if k != "additionalProperties" {
			s[k] = val
		}
	}
	return validate(doc, s, v, at)
}

func resolve(doc *openAPIDoc, schema any) map[string]any {
	s, _ := schema.(map[string]any)
	if ref, ok := s["$ref"].(string); ok {
		return resolve(doc, doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")])
	}
	return s
}

func asStrings(v any) []string {
	var out []string
	for _, e := range asSlice(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// The Article schema is the contract the server enforces: the same fields, unknown ones refused
// (the server answers 400), and the same limits, so a client generated from /openapi.yaml
// refuses what herald refuses. It accepted any extra field and had no limits.
func TestOpenAPIArticleIsTheContract(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := doc.Components.Schemas["Article"].(map[string]any)
	props, _ := s["properties"].(map[string]any)
	var names []string
	for name := range props {
		names = append(names, name)
	}
	// The fields of article.Article itself: a field added there must be described here.
	var want []string
	at := reflect.TypeFor[article.Article]()
	for i := range at.NumField() {
		if name, _, _ := strings.Cut(at.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			want = append(want, name)
		}
	}
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("Article properties %v, want the article's JSON fields %v", names, want)
	}
	if s["additionalProperties"] != false {
		t.Errorf("Article: additionalProperties %v, want false (the server refuses unknown fields)", s["additionalProperties"])
	}
	limit := func(field, key string) any { p, _ := props[field].(map[string]any); return p[key] }
	for _, c := range []struct {
		field, key string
		want       int
	}{
		{"title", "maxLength", article.MaxTitleChars},
		{"summary", "maxLength", article.MaxSummaryChar},
		{"tags", "maxItems", article.MaxTags},
		{"priority", "minimum", 0},
		{"priority", "maximum", 10},
	} {
		if got := limit(c.field, c.key); got != c.want {
			t.Errorf("Article.%s %s: %v, want %d", c.field, c.key, got, c.want)
		}
	}
	if err := validate(doc, s, map[string]any{"url": "https://e.com/a", "title": "t", "titel": "x"}, "Article"); err == nil {
		t.Error("the schema accepts an article with an unknown field")
	}
}
