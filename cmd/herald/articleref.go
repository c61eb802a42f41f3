package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// isURLRef reports whether a command's argument names an article by URL rather than by id (an
// id cannot contain '/').
func isURLRef(ref string) bool { return strings.Contains(ref, "://") }

// remoteArticleID is the id of the article an argument names, through --server: an id as it is,
// a URL found as the admin bot's /status finds it (GET /v1/articles?url=, the URL index). A URL
// no article has exits 3, one that is not a URL 2.
func remoteArticleID(cmd *cobra.Command, rf remoteFlags, ref string) (string, error) {
	if !isURLRef(ref) {
		return ref, nil
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet,
		strings.TrimRight(rf.server, "/")+"/v1/articles?url="+url.QueryEscape(ref), nil)
	if err != nil {
		return "", fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+rf.token)
	body, err := remoteBody(req)
	if err != nil {
		return "", notFoundExit3(err)
	}
	var st struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.ID == "" {
		return "", errors.New("GET /v1/articles?url=: the answer names no article")
	}
	return st.ID, nil
}
