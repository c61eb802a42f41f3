package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"herald/channels"
)

// hookInfo is the part of Discord's webhook object herald reads.
// Specs: https://discord.com/developers/docs/resources/webhook#webhook-object
type hookInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
}

// Check reads the webhook (GET with its token) without posting: a deleted webhook (404, code
// 10015) or a wrong token (401) fails, as a channels.Auth error. It also learns the webhook's
// server, for post URLs. `herald serve` calls it at start, `herald doctor` on demand.
// Specs: https://discord.com/developers/docs/resources/webhook#get-webhook-with-token
func (c *Channel) Check(ctx context.Context) error {
	h, err := c.lookup(ctx)
	if err != nil {
		return err
	}
	c.log.Info("discord webhook works", zap.String("webhook", h.Name), zap.String("channel_id", h.ChannelID), zap.String("guild_id", h.GuildID))
	return nil
}

// lookup reads the webhook object and remembers its server.
func (c *Channel) lookup(ctx context.Context) (hookInfo, error) {
	const action = "checking the webhook"
	req, err := http.NewRequest(http.MethodGet, c.cfg.hook.URL(), nil)
	if err != nil {
		return hookInfo{}, channels.Permanent(c.http.Errorf("%s: %w", action, err))
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return hookInfo{}, readOnly(err)
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return hookInfo{}, c.classify(action, resp, false)
	}
	var h hookInfo
	if err := json.Unmarshal(resp.Body, &h); err != nil {
		return hookInfo{}, fmt.Errorf("discord: %s: reading the answer: %w", action, err)
	}
	if h.ID != c.cfg.hook.id {
		return hookInfo{}, fmt.Errorf("discord: %s: Discord answered for webhook %q, not %s", action, h.ID, c.cfg.hook.id)
	}
	c.mu.Lock()
	c.guildID, c.looked = h.GuildID, true
	c.mu.Unlock()
	return h, nil
}

// learnGuild looks the webhook's server up once before the first post when Check has not
// (a message answer carries its channel, not its server, and a post URL needs both). Its
// failure only costs the post URL: the post itself says what is wrong.
func (c *Channel) learnGuild(ctx context.Context) {
	c.mu.Lock()
	known := c.looked
	c.mu.Unlock()
	if known {
		return
	}
	// Bounded: the post must keep most of its time.
	ctx, cancel := context.WithTimeout(ctx, min(c.cfg.Timeout, 5*time.Second))
	defer cancel()
	if _, err := c.lookup(ctx); err != nil {
		c.log.Debug("discord: looking the webhook's server up for post URLs", zap.Error(err))
	}
}

// readOnly turns an unknown outcome into a plain retryable error: reading or deleting twice is
// harmless.
func readOnly(err error) error {
	var u *channels.UnknownOutcomeError
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}
