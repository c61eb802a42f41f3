package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/formatter"
	"herald/queue"
)

// chartHours is the span of the per-channel charts.
const chartHours = 24

// pageView is what the templates get: who is looking, the CSRF token for the forms, and the
// page's own data.
type pageView struct {
	Admin   bool
	Role    string
	CSRF    string
	Flash   string
	Refresh int // milliseconds
	Now     time.Time
	Live    *liveView
	Article *articleView
	Error   string // login form
	Next    string // login form: the dashboard page to go to once logged in
	ID      string // not found
}

// liveView is the part of the home page the script refreshes.
type liveView struct {
	Admin    bool
	CSRF     string
	Now      time.Time
	Channels []channelView
	Recent   []queue.ArticleStatus
	// Configured are the configured channels: a delivery of any other gets no buttons.
	Configured configuredSet
	// Unconfigured are channels not in the config whose queues still hold deliveries (removed
	// or renamed while a backlog waited): no worker sends them (GET /v1/channels' unconfigured).
	Unconfigured []queue.ChannelStats
}

type channelView struct {
	queue.ChannelInfo
	State       string // active, paused, rate-limited
	PausedSince time.Time
	PausedBy    string
	Sent24      int
	Failed24    int
	Unknown24   int
	Chart       chart
}

// chart is a server-rendered SVG bar chart: one bar per hour, sent below failed.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int
	From, To      string
}

type bar struct {
	X, W              int
	SentY, SentH      int
	FailedY, FailedH  int
	Label             string
	Sent, Failed, Unk int
}

func buildChart(start time.Time, cs []queue.Counts) chart {
	const barW, gap, height = 9, 2, 48
	c := chart{Width: chartHours * (barW + gap), Height: height, From: start.UTC().Format("15:04 UTC") + " yesterday", To: "now"}
	if len(cs) == 0 {
		cs = make([]queue.Counts, chartHours)
	}
	for _, n := range cs {
		c.Max = max(c.Max, n.Sent+n.Failed+n.Unknown)
	}
	scale := func(n int) int {
		if c.Max == 0 || n == 0 {
			return 0
		}
		return max(1, n*(height-2)/c.Max)
	}
	for i, n := range cs {
		from := start.Add(time.Duration(i) * time.Hour).UTC()
		b := bar{X: i * (barW + gap), W: barW, Sent: n.Sent, Failed: n.Failed + n.Unknown, Unk: n.Unknown}
		b.SentH, b.FailedH = scale(n.Sent), scale(n.Failed+n.Unknown)
		b.SentY = height - b.SentH
		b.FailedY = b.SentY - b.FailedH
		b.Label = fmt.Sprintf("%s–%s UTC: %d sent, %d failed", from.Format("15:04"), from.Add(time.Hour).Format("15:04"), n.Sent, n.Failed)
		if n.Unknown > 0 {
			b.Label += fmt.Sprintf(", %d unknown", n.Unknown)
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

func (s *Server) liveData(ctx context.Context, sess *session) (*liveView, error) {
	infos, err := queue.ChannelInfos(ctx, s.Broker, s.Channels)
	if err != nil {
		return nil, err
	}
	paused, err := s.Broker.Paused(ctx)
	if err != nil {
		return nil, err
	}
	pauses := map[channels.Name]queue.PauseInfo{}
	for _, p := range paused {
		pauses[p.Channel] = p
	}
	names := make([]channels.Name, len(s.Channels))
	for i, c := range s.Channels {
		names[i] = c.Name
	}
	start, hourly, err := s.Broker.Hourly(ctx, names, chartHours)
	if err != nil {
		return nil, err
	}
	// The totals are herald stats' last_day (the last 24 hours to the minute); the bars start at
	// the top of an hour, so their sum holds between 23 and 24 hours.
	day, err := s.Broker.LastDay(ctx, names)
	if err != nil {
		return nil, err
	}
	recent, err := s.Broker.Recent(ctx, s.dashRecent())
	if err != nil {
		return nil, err
	}
	unconfigured, err := s.Broker.Unconfigured(ctx, s.Channels)
	if err != nil {
		return nil, err
	}
	v := &liveView{Admin: sess.admin(), CSRF: sess.CSRF, Now: time.Now().UTC(), Recent: recent, Configured: s.configuredSet(),
		Unconfigured: unconfigured}
	for _, info := range infos {
		cv := channelView{ChannelInfo: info, State: "active", Chart: buildChart(start, hourly[info.Channel])}
		switch {
		case info.Paused:
			p := pauses[info.Channel]
			cv.State, cv.PausedSince, cv.PausedBy = "paused", p.Since, p.By
		case !info.NotBefore.IsZero():
			cv.State = "rate-limited"
		}
		d := day[info.Channel]
		cv.Sent24, cv.Failed24, cv.Unknown24 = d.Sent, d.Failed, d.Unknown
		v.Channels = append(v.Channels, cv)
	}
	return v, nil
}

func (s *Server) view(r *http.Request, sess *session) pageView {
	return pageView{Admin: sess.admin(), Role: sess.Role, CSRF: sess.CSRF, Refresh: int(s.dashRefresh() / time.Millisecond),
		Now: time.Now().UTC(), Flash: sess.takeFlash(r.Context(), s.Broker.Client())}
}

func (s *Server) unavailable(w http.ResponseWriter, what string, err error) {
	s.Logger.Error("dashboard: "+what, zap.Error(err))
	dashUnavailable(w, "could not read the delivery state (Redis unavailable?); try again shortly")
}

func (s *Server) dashHome(w http.ResponseWriter, r *http.Request, sess *session) {
	live, err := s.liveData(r.Context(), sess)
	if err != nil {
		s.unavailable(w, "reading the home page", err)
		return
	}
	v := s.view(r, sess)
	v.Live = live
	s.render(w, "home.html", http.StatusOK, v)
}

// dashLive is the fragment the page's script swaps in every few seconds.
func (s *Server) dashLive(w http.ResponseWriter, r *http.Request, sess *session) {
	live, err := s.liveData(r.Context(), sess)
	if err != nil {
		s.unavailable(w, "reading the live fragment", err)
		return
	}
	s.render(w, "live", http.StatusOK, live)
}

// articleView is an article with each channel's record and what that channel's platform is
// sent for it.
type articleView struct {
	queue.ArticleStatus
	Rows []articleRow
	// Correction is nil for an article never corrected in place.
	Correction *correctionView
	// Configured are the configured channels: a delivery of any other gets no buttons.
	Configured configuredSet
}

// correctionView sums up an article's corrections: the newest one (when, who) and how many of
// its posts were edited in place and how many could not be (cannot-edit: they keep the old text).
type correctionView struct {
	At                 time.Time
	By                 string
	Edited, CannotEdit int
}

func correctionOf(ds []queue.Delivery) *correctionView {
	var c correctionView
	newest := func(at time.Time, by string) {
		if at.After(c.At) {
			c.At, c.By = at, by
		}
	}
	for _, d := range ds {
		if !d.EditedAt.IsZero() {
			c.Edited++
			newest(d.EditedAt, d.EditedBy)
		}
		if !d.NotEditedAt.IsZero() {
			c.CannotEdit++
			newest(d.NotEditedAt, d.NotEditedBy)
		}
	}
	if c.At.IsZero() {
		return nil
	}
	return &c
}

type articleRow struct {
	Delivery queue.Delivery
	Preview  *formatter.Preview
}

func (s *Server) dashArticle(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	st, err := s.Broker.Status(r.Context(), id)
	if errors.Is(err, queue.ErrNotFound) {
		v := s.view(r, sess)
		v.ID = id
		s.render(w, "notfound.html", http.StatusNotFound, v)
		return
	}
	if err != nil {
		s.unavailable(w, "reading an article", err)
		return
	}
	av := &articleView{ArticleStatus: *st, Correction: correctionOf(st.Deliveries), Configured: s.configuredSet()}
	var previews []formatter.Preview
	if a, err := s.Broker.Article(r.Context(), id); err == nil {
		var targets []formatter.PreviewTarget
		for _, d := range st.Deliveries {
			targets = append(targets, s.previewTarget(d))
		}
		previews = formatter.PreviewAll(a, targets)
	}
	for i, d := range st.Deliveries {
		row := articleRow{Delivery: d}
		if i < len(previews) {
			row.Preview = &previews[i]
		}
		av.Rows = append(av.Rows, row)
	}
	v := s.view(r, sess)
	v.Article = av
	s.render(w, "article.html", http.StatusOK, v)
}

// previewTarget is the configured format of the delivery's channel (the kind's defaults when
// the channel is no longer configured).
func (s *Server) previewTarget(d queue.Delivery) formatter.PreviewTarget {
	for _, t := range s.Dashboard.Previews {
		if t.Name == string(d.Channel) {
			return t
		}
	}
	return formatter.PreviewTarget{Name: string(d.Channel), Kind: d.Kind}
}
