package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// retract serves POST /v1/articles/{id}/retract?channel=&by= (admin): the article's sent posts
// are deleted where the platform can delete them and its deliveries not yet sent are
// cancelled (queue.Broker.Retract). 200 with what happened per channel; 502 with the same body
// when a delete failed or a delivery was busy (calling again finishes the job: a retract is
// idempotent); 404 for an unknown article or channel; 503 when Redis is unavailable.
func (s *Server) retract(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	ch := channels.Name(strings.TrimSpace(q.Get("channel")))
	by := strings.TrimSpace(q.Get("by"))
	if by == "" {
		by = "api"
	}
	// A client that stops waiting (a CMS's short timeout) must not stop a takedown half-way:
	// the deletes run to the end of their own budget (retractBudget), and it retries anyway.
	res, err := s.Broker.Retract(context.WithoutCancel(r.Context()), id, ch, by, s.Built)
	args := id + " by " + by
	if ch != "" {
		args = id + " " + string(ch) + " by " + by
	}
	s.auditAPI(r, "retract", args, retractSummary(res, err))
	s.writeRetraction(w, res, err)
}

func (s *Server) writeRetraction(w http.ResponseWriter, res *queue.Retraction, err error) int {
	switch {
	case errors.Is(err, queue.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
		return http.StatusNotFound
	case err != nil:
		s.Logger.Error("retracting", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not record the retraction; it is safe to retry"})
		return http.StatusServiceUnavailable
	case res.Failed():
		writeJSON(w, http.StatusBadGateway, res)
		return http.StatusBadGateway
	default:
		writeJSON(w, http.StatusOK, res)
		return http.StatusOK
	}
}

// retractSummary is the audit result: "x retracted, tg cancelled" or the error.
func retractSummary(res *queue.Retraction, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return res.Summary()
}

// retractWordPress answers a trashed WordPress post: every delivery of the article is
// retracted, by "wordpress:<source>". A post herald has under another id — the site's feed
// posted it first, so it is the article of its URL (ingest.Publisher.sameStory) — is found by
// its link, else by its GUID (a post whose slug was changed after the feed posted it: the feed's
// article was indexed under the GUID). An article herald never had is 200 with nothing done.
func (s *Server) retractWordPress(w http.ResponseWriter, r *http.Request, articleID, source string, addrs ...string) int {
	by := "wordpress:" + source
	// Not cancelled when the plugin stops waiting (HERALD_TIMEOUT, 5 s) while deletes are under
	// way (a 429 waited out, many channels): they stopped half-way, and the rest waited for the
	// plugin's retry, minutes later, or for good after its last. Retract's own budget bounds it.
	ctx := context.WithoutCancel(r.Context())
	res, err := s.Broker.Retract(ctx, articleID, "", by, s.Built)
	for _, addr := range addrs {
		if !errors.Is(err, queue.ErrNotFound) || addr == "" {
			continue
		}
		id, lerr := s.Broker.ArticleIDByURL(ctx, addr)
		switch {
		case lerr == nil:
			articleID = id
			res, err = s.Broker.Retract(ctx, id, "", by, s.Built)
		case !errors.Is(lerr, queue.ErrNotFound) && !errors.Is(lerr, queue.ErrInvalidURL):
			err = lerr // Redis: 503, the plugin sends the event again
		}
	}
	if errors.Is(err, queue.ErrNotFound) {
		writeJSON(w, http.StatusOK, map[string]string{"id": articleID, "ignored": "post trashed; herald never had it"})
		return http.StatusOK
	}
	s.Logger.Info("wordpress post trashed: retracted", zap.String("article_id", articleID), zap.String("result", retractSummary(res, err)))
	s.auditRetract(r, articleID, by, res, err)
	return s.writeRetraction(w, res, err)
}

func (s *Server) auditRetract(r *http.Request, articleID, by string, res *queue.Retraction, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	e := queue.AuditEntry{Source: "wordpress", Client: r.RemoteAddr, Action: "retract", Args: fmt.Sprintf("%s by %s", articleID, by),
		Result: retractSummary(res, err), Allowed: true}
	if aerr := s.Broker.AppendAudit(ctx, e); aerr != nil {
		s.Logger.Error("writing the audit log", zap.String("action", "retract"), zap.Error(aerr))
	}
}

// untrashedLink is a trashed post's link as it was published: WordPress renames the slug of a
// post it trashes to "<slug>__trashed" (wp_add_trashed_suffix_to_post_name_for_post), so the
// permalink the plugin sends with the trash event names a page that never existed.
func untrashedLink(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	p := u.EscapedPath()
	trimmed := strings.TrimRight(p, "/")
	if base, ok := strings.CutSuffix(trimmed, "__trashed"); ok {
		p = base + p[len(trimmed):]
		if path, err := url.PathUnescape(p); err == nil {
			u.Path, u.RawPath = path, p
		}
	}
	return u.String()
}
