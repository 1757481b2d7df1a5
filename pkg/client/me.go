package client

import (
	"context"
	"fmt"
)

// Me is who a token is (GET /api/v1/me).
type Me struct {
	// User is the person's name; "" for an admin token, which names nobody.
	User string `json:"user"`
	// Role is "viewer" or "admin".
	Role string `json:"role"`
	// Via is how the request was recognised: "bearer", "proxy" or
	// "session".
	Via string `json:"via"`
	// CSRFToken is for a signed-in page's script; a bearer request gets
	// none.
	CSRFToken        string `json:"csrf_token,omitempty"`
	MaySeeAgentNames bool   `json:"may_see_agent_names"`
}

// Me says who the client's token is: a viewer's or an admin's. Other
// tokens get a 401 *Error.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var out Me
	return out, c.getJSON(ctx, "/api/v1/me", nil, &out)
}

// health is the body of /healthz and /readyz.
type health struct {
	Status string `json:"status"`
}

// Health asks /healthz whether the server's process is up.
func (c *Client) Health(ctx context.Context) error {
	return c.probe(ctx, "/healthz", "ok")
}

// Ready asks /readyz whether the server can reach its store: while it
// cannot, it answers 503, an *Error (after the retries).
func (c *Client) Ready(ctx context.Context) error {
	return c.probe(ctx, "/readyz", "ready")
}

func (c *Client) probe(ctx context.Context, path, want string) error {
	var h health
	if err := c.getJSON(ctx, path, nil, &h); err != nil {
		return err
	}
	if h.Status != want {
		return fmt.Errorf("GET %s: status %q, want %q", path, h.Status, want)
	}
	return nil
}
