package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/article"
	"herald/ingest"
	"herald/queue"
)

// Signed publish webhooks (POST /v1/articles with a signature, POST /v1/hooks/wordpress). The
// checks live in ingest.Verifier; these handlers only read, verify and hand over.

// readSigned reads the body (bounded), verifies its signature and returns the claim. Otherwise
// it has answered: 401 for any signature problem (nothing enqueued), 413, 503 when Redis cannot
// record the message id or a request with the same id is still running, and 200
// {"webhook_id","duplicate":true} for a message already processed (nothing done again).
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, *ingest.Claim, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, article.MaxPayloadBytes+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "reading the request body: " + err.Error()})
		return nil, nil, false
	}
	if len(body) > article.MaxPayloadBytes {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "payload larger than 4 MiB"})
		return nil, nil, false
	}
	claim, err := s.Webhooks.Verify(r.Context(), r.Header, body)
	if errors.Is(err, ingest.ErrAlreadyProcessed) {
		writeJSON(w, http.StatusOK, map[string]any{"webhook_id": r.Header.Get("webhook-id"), "duplicate": true})
		return nil, nil, false
	}
	if errors.Is(err, ingest.ErrInProgress) {
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "a request with this webhook-id is still being processed; retry it later"})
		return nil, nil, false
	}
	if errors.Is(err, ingest.ErrUnauthorized) {
		s.Logger.Warn("webhook refused", zap.String("path", r.URL.Path), zap.String("reason", err.Error()))
		writeJSON(w, http.StatusUnauthorized, apiError{Error: err.Error()})
		return nil, nil, false
	}
	if err != nil {
		s.Logger.Error("verifying webhook", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not verify the webhook; it is safe to retry"})
		return nil, nil, false
	}
	return body, claim, true
}

// signedOr serves a request that carries a webhook signature with next, after verifying it and
// marking the article's source; any other request goes to bearer (the bearer-token check).
// When next answers with an error, the message id is released so the sender's retry works;
// otherwise it is confirmed (kept for the replay window).
func (s *Server) signedOr(bearer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ingest.Signed(r.Header) {
			bearer.ServeHTTP(w, r)
			return
		}
		body, claim, ok := s.readSigned(w, r)
		if !ok {
			return
		}
		r = r.WithContext(ingest.WithSource(r.Context(), claim.Source.Name))
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status >= 300 {
			claim.Release(r.Context())
		} else {
			claim.Confirm(r.Context())
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// wordpressHook serves POST /v1/hooks/wordpress: a signed WordPress REST post object. A
// published post is queued as wp-<site>-<post id> (202, like POST /v1/articles; an update of a
// post already sent is a duplicate and posts nothing); a trashed post, or one deleted for good
// ({"deleted":true,"previous":<post>}), is retracted (its sent posts deleted, its pending
// deliveries cancelled: web/retract.go); any other status (draft, …)
// is acknowledged with 200 and queues nothing.
func (s *Server) wordpressHook(w http.ResponseWriter, r *http.Request) {
	body, claim, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	if s.publishWordPress(w, r, body, claim) >= 300 {
		claim.Release(r.Context())
	} else {
		claim.Confirm(r.Context())
	}
}

func (s *Server) publishWordPress(w http.ResponseWriter, r *http.Request, body []byte, claim *ingest.Claim) int {
	post, err := ingest.WordPressArticle(body, claim.Source.Site)
	var ve *article.ValidationError
	switch {
	case errors.As(err, &ve):
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "invalid WordPress post", Errors: ve.Errors})
		return http.StatusUnprocessableEntity
	case err != nil:
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return http.StatusBadRequest
	}
	guid := ingest.GUIDAddress(post.GUID, post.Article.URL)
	if post.Status == "trash" || post.Deleted {
		return s.retractWordPress(w, r, post.Article.ID, claim.Source.Name, untrashedLink(post.Article.URL), guid) // retract.go
	}
	if post.Status != "publish" {
		s.Logger.Info("wordpress post not published", zap.String("article_id", post.Article.ID), zap.String("status", post.Status))
		writeJSON(w, http.StatusOK, map[string]string{"id": post.Article.ID, "ignored": "post status is " + strings.TrimSpace(post.Status+" (only publish is sent)")})
		return http.StatusOK
	}
	if post.Protected {
		// Public in name only: its readers need the password, and its title went out to every
		// channel with a link to a password form.
		s.Logger.Info("wordpress post password-protected, not published", zap.String("article_id", post.Article.ID))
		writeJSON(w, http.StatusOK, map[string]string{"id": post.Article.ID, "ignored": "the post is password-protected (not sent)"})
		return http.StatusOK
	}
	if err := s.sameWordPressStory(r, &post.Article, guid); err != nil {
		s.Logger.Error("looking up a wordpress post", zap.String("article_id", post.Article.ID), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not look the post up; it is safe to retry"})
		return http.StatusServiceUnavailable
	}
	switch old, err := s.oldPostEdited(r, &post.Article); {
	case err != nil:
		s.Logger.Error("looking up a wordpress post", zap.String("article_id", post.Article.ID), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not look the post up; it is safe to retry"})
		return http.StatusServiceUnavailable
	case old:
		s.Logger.Info("wordpress: an old post edited, not posted", zap.String("article_id", post.Article.ID), zap.Time("published_at", *post.Article.PublishedAt))
		writeJSON(w, http.StatusOK, map[string]string{"id": post.Article.ID,
			"ignored": "an edit of a post published " + post.Article.PublishedAt.Format(time.RFC3339) + ", before herald had it: not posted (publish it with herald publish if it should go out)"})
		return http.StatusOK
	}
	ctx := ingest.WithSource(r.Context(), claim.Source.Name)
	res, err := s.Publisher.Publish(ctx, &post.Article)
	if errors.As(err, &ve) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "invalid article", Errors: ve.Errors})
		return http.StatusUnprocessableEntity
	}
	if err == nil && guid != "" {
		// After the publish: a failure answers 503, and the plugin's retry is a duplicate
		// publish that indexes it again.
		err = s.Broker.IndexURL(r.Context(), guid, res.ArticleID)
	}
	// Only a request that cannot be a copy (Standard Webhooks): the event header is not signed,
	// and a GitHub-style body seen once could be sent again after the trash, to bring back a
	// story the newsroom took down.
	if err == nil && r.Header.Get("X-Herald-Event") == "publish" && claim.ReplayProtected() {
		err = s.repostRestored(r.Context(), res, "wordpress:"+claim.Source.Name)
	}
	if err != nil {
		s.Logger.Error("publishing wordpress post", zap.String("article_id", post.Article.ID), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not queue the article; it is safe to retry"})
		return http.StatusServiceUnavailable
	}
	writeJSON(w, http.StatusAccepted, res)
	return http.StatusAccepted
}

// listFeeds serves GET /v1/feeds: every configured feed's poll and WebSub state.
func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	if s.Feeds == nil {
		writeJSON(w, http.StatusOK, map[string]any{"feeds": []ingest.FeedStatus{}})
		return
	}
	sts, err := s.Feeds.Statuses(r.Context())
	if err != nil {
		s.Logger.Error("reading feed state", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read feed state"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": sts})
}

// websubVerify serves GET /websub/{feed}: the hub's verification of intent (no bearer token:
// the hub cannot have one; only a subscription herald asked for is confirmed).
func (s *Server) websubVerify(w http.ResponseWriter, r *http.Request) {
	if s.Feeds == nil {
		http.NotFound(w, r)
		return
	}
	status, body := s.Feeds.VerifyIntent(r.Context(), r.PathValue("feed"), r.URL.Query())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfter) // as every 503 of the API
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// websubPush serves POST /websub/{feed}: content from the hub, processed at once when its
// X-Hub-Signature checks out; 403 (nothing processed) when it does not.
func (s *Server) websubPush(w http.ResponseWriter, r *http.Request) {
	if s.Feeds == nil {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "push larger than 10 MiB"})
		return
	}
	feed := r.PathValue("feed")
	err = s.Feeds.Push(r.Context(), feed, r.Header, body)
	switch {
	case errors.Is(err, ingest.ErrPushRefused):
		s.Logger.Warn("websub push refused", zap.String("feed", feed), zap.Error(err))
		writeJSON(w, http.StatusForbidden, apiError{Error: "push refused"})
	case err != nil:
		s.Logger.Error("websub push", zap.String("feed", feed), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not process the push; polling will pick it up"})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// sameWordPressStory gives a the id of the article herald has under the post's GUID when it has
// none under the post's own id: the site's feed posted the story first (under its link's id),
// then an editor changed the slug, so the plugin's update carries a link herald never had and
// was taken for a new story, posted on every channel a second time. Under the feed's id it is
// the update of that article: nothing is posted again, and the stored article gets the new
// link (a later trash event finds it by that link too).
func (s *Server) sameWordPressStory(r *http.Request, a *article.Article, guid string) error {
	if guid == "" {
		return nil
	}
	if known, err := s.Broker.HasArticle(r.Context(), a.ID); err != nil || known {
		return err
	}
	switch id, err := s.Broker.ArticleIDByURL(r.Context(), guid); {
	case err == nil:
		a.ID = id
		return nil
	case errors.Is(err, queue.ErrNotFound) || errors.Is(err, queue.ErrInvalidURL):
		return nil
	default:
		return err
	}
}

// repostRestored posts again, under a new revision, the deliveries of a post that WordPress
// trashed and an editor then published again (trashed by mistake, restored and published: the
// plugin's publish event, the post was not public before this save). The trash event had
// retracted them, and the publish found them retracted, a duplicate that posted nothing, so the
// story stayed off every channel without a word. Only what a WordPress event of this source
// retracted: an admin's takedown (herald retract) stays taken down.
func (s *Server) repostRestored(ctx context.Context, res *queue.Published, by string) error {
	for i, e := range res.Deliveries {
		if e.Status != queue.StateRetracted {
			continue
		}
		d, err := s.Broker.Delivery(ctx, res.ArticleID, e.Channel)
		if err != nil {
			return err
		}
		if d.RetractedBy != by {
			continue
		}
		d, err = s.Broker.Requeue(ctx, res.ArticleID, e.Channel, "repost", by)
		if errors.Is(err, queue.ErrConflict) {
			continue // taken by another request this moment
		}
		if err != nil {
			return err
		}
		res.Deliveries[i].Status = d.State
	}
	return nil
}

// oldPostAge is how long after its publication an edited post herald never had is taken for one
// published before herald followed the site.
const oldPostAge = 24 * time.Hour

// oldPostEdited reports whether a WordPress event is the plugin's update (X-Herald-Event: update:
// the post was public before this save) of a post herald has never had, under its id or its
// URL, published more than oldPostAge before: a post from before herald followed the site (the
// plugin installed on a site with years of articles), which an editor has just corrected. It
// was posted to every channel as news. A post whose publish event was lost (herald down through
// the plugin's retries) and is edited within the day still goes out.
func (s *Server) oldPostEdited(r *http.Request, a *article.Article) (bool, error) {
	if r.Header.Get("X-Herald-Event") != "update" || a.PublishedAt == nil || time.Since(*a.PublishedAt) < oldPostAge {
		return false, nil
	}
	if known, err := s.Broker.HasArticle(r.Context(), a.ID); err != nil || known {
		return false, err
	}
	switch _, err := s.Broker.ArticleIDByURL(r.Context(), a.URL); {
	case err == nil:
		return false, nil
	case errors.Is(err, queue.ErrNotFound) || errors.Is(err, queue.ErrInvalidURL):
		return true, nil
	default:
		return false, err
	}
}
