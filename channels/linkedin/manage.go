package linkedin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"herald/channels"
)

// Delete takes back the posts of a receipt (comma-joined URNs), for corrections. A post that is
// already gone (404, 410) counts as deleted.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#delete-posts
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, urn := range splitIDs(remoteID) {
		action := "deleting post " + urn
		req, err := c.newRequest(http.MethodDelete, "/posts/"+escapeURN(urn), nil)
		if err != nil {
			return channels.Permanent(c.send.Errorf("%s: %w", action, err))
		}
		req.Header.Set("X-RestLi-Method", "DELETE")
		resp, err := c.call(ctx, action, req)
		if err != nil {
			return err
		}
		switch {
		case resp.Status == http.StatusNotFound, resp.Status == http.StatusGone:
			continue
		case resp.Status < 200 || resp.Status >= 300:
			return c.classify(action, resp, false)
		}
	}
	return nil
}

// Edit implements channels.Editor: each post of the receipt (comma-joined URNs, in the order
// Send made them) gets the commentary of the corrected rendering's post at the same place; the
// article card cannot change (LinkedIn edits only the commentary of a published post). A
// rendering with another number of posts is refused (Permanent) before any call.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#update-posts
func (c *Channel) Edit(ctx context.Context, remoteID string, msg channels.Message) error {
	urns := splitIDs(remoteID)
	if len(urns) == 0 {
		return channels.Permanent(fmt.Errorf("linkedin: editing: no post URN in %q", remoteID))
	}
	if len(urns) != len(msg.Posts) {
		return channels.Permanent(fmt.Errorf("linkedin: editing %s: the correction renders %d posts, the delivery made %d; it cannot be applied in place",
			remoteID, len(msg.Posts), len(urns)))
	}
	for i, urn := range urns {
		if err := c.editPost(ctx, urn, msg.Posts[i].Text); err != nil {
			return err
		}
	}
	return nil
}

var _ channels.EditKeeper = (*Channel)(nil)

// EditKeeps implements channels.EditKeeper: LinkedIn edits only a published post's commentary,
// so a correction of the title or the summary leaves them as posted on the article card (and so
// may any correction after an earlier one, which may have changed them).
func (c *Channel) EditKeeps(before, corrected []channels.Post, edited bool) string {
	const note = "LinkedIn cannot change a published post's link card: it keeps the title and description it was posted with; retract and repost to replace it"
	card := func(p channels.Post) (title, desc string) {
		m, _ := p.Extra["article"].(map[string]any)
		title, _ = m["title"].(string)
		desc, _ = m["description"].(string)
		return title, desc
	}
	if edited {
		return note
	}
	for i := range min(len(before), len(corrected)) {
		t0, d0 := card(before[i])
		t1, d1 := card(corrected[i])
		if t0 != t1 || d0 != d1 {
			return note
		}
	}
	return ""
}

// editPost sets one post's commentary: POST /rest/posts/{urn} with X-RestLi-Method
// PARTIAL_UPDATE and {"patch":{"$set":{"commentary":…}}}, answered 204. Setting the same text
// twice is harmless, so a lost answer is plainly retryable.
func (c *Channel) editPost(ctx context.Context, urn, text string) error {
	action := "editing post " + urn
	body, err := json.Marshal(map[string]any{"patch": map[string]any{"$set": map[string]string{"commentary": text}}})
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req, err := c.newRequest(http.MethodPost, "/posts/"+escapeURN(urn), body)
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req.Header.Set("X-RestLi-Method", "PARTIAL_UPDATE")
	resp, err := c.call(ctx, action, req)
	if err != nil {
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return c.classify(action, resp, false)
	}
	return nil
}

func splitIDs(remoteID string) []string {
	var ids []string
	for _, id := range strings.Split(remoteID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// Check looks the Page up (GET /rest/organizations/{id}) with the token: it proves the token
// works, the version is active and the organization exists. Whether the member may post as the
// Page shows at the first post (403, which pauses the channel).
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-lookup-api
func (c *Channel) Check(ctx context.Context) error {
	const action = "checking the token and organization"
	req, err := c.newRequest(http.MethodGet, "/organizations/"+c.cfg.OrganizationID, nil)
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	resp, err := c.call(ctx, action, req)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return c.classify(action, resp, false)
	}
	var org struct {
		ID            int64  `json:"id"`
		LocalizedName string `json:"localizedName"`
	}
	if err := json.Unmarshal(resp.Body, &org); err != nil {
		return c.send.Errorf("%s: reading the answer: %w", action, err)
	}
	if strconv.FormatInt(org.ID, 10) != c.cfg.OrganizationID {
		return fmt.Errorf("linkedin: %s: LinkedIn answered organization %d, not organization_id %s", action, org.ID, c.cfg.OrganizationID)
	}
	c.log.Info("linkedin token works", zap.String("organization", org.LocalizedName))
	return nil
}
