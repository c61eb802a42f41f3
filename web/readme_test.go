package web

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// openAPIParam is a parameter of an operation in web/openapi.yaml.
type openAPIParam struct {
	Name   string `yaml:"name"`
	In     string `yaml:"in"`
	Schema struct {
		Enum []string `yaml:"enum"`
	} `yaml:"schema"`
}

// The README's HTTP API table is the contract other tools read: it names every route the
// server serves and no other, and each query parameter it shows is one web/openapi.yaml
// describes for that operation. (TestOpenAPIMatchesRoutesAndResponses holds the OpenAPI
// document to the routes.)
func TestReadmeHTTPTableMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start, end := strings.Index(text, "\n## HTTP API\n"), strings.Index(text, "\n## CLI\n")
	if start < 0 || end < start {
		t.Fatal("README.md: no HTTP API section followed by the CLI section")
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []openAPIParam `yaml:"parameters"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}

	// The served routes, with {action} spelt out as the document's enum of it.
	a := newTestAPI(t, nil)
	a.srv.Metrics = http.NotFoundHandler()
	var served []string
	for _, p := range a.srv.Handler().(*routeMux).Patterns() {
		if !strings.Contains(p, "{action}") {
			served = append(served, p)
			continue
		}
		method, path, _ := strings.Cut(p, " ")
		for _, prm := range doc.Paths[path][strings.ToLower(method)].Parameters {
			if prm.Name == "action" {
				for _, act := range prm.Schema.Enum {
					served = append(served, method+" "+strings.ReplaceAll(path, "{action}", act))
				}
			}
		}
	}

	endpoint := regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)(?:\\?([^`]*))?`")
	var listed []string
	for _, line := range strings.Split(text[start:end], "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(line[1:], " | ")
		for _, m := range endpoint.FindAllStringSubmatch(first, -1) {
			route := m[1] + " " + m[2]
			if slices.Contains(listed, route) {
				t.Errorf("the README lists %s twice", route)
			}
			listed = append(listed, route)
			if !slices.Contains(served, route) {
				t.Errorf("the README's HTTP API table lists %s, which is not served", route)
				continue
			}
			template := regexp.MustCompile(`/(retry|repost|mark-sent|drop)$`).ReplaceAllString(m[2], "/{action}")
			params := doc.Paths[template][strings.ToLower(m[1])].Parameters
			for _, q := range strings.Split(m[3], "&") {
				name, _, _ := strings.Cut(q, "=")
				if name == "" {
					continue
				}
				if !slices.ContainsFunc(params, func(p openAPIParam) bool { return p.Name == name && p.In == "query" }) {
					t.Errorf("the README gives %s the query parameter %q, which web/openapi.yaml does not describe", route, name)
				}
			}
		}
	}
	for _, r := range served {
		if !slices.Contains(listed, r) {
			t.Errorf("%s is served but not in the README's HTTP API table", r)
		}
	}
}
