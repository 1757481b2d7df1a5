package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/webhook"
)

// webhookResult is the 202 body of a webhook: the API's counts, and why
// nothing was recorded when the delivery carried no response.
type webhookResult struct {
	api.Recorded
	Ignored string `json:"ignored,omitempty"`
}

// The webhook routes, one per adapter kind.
func (a *API) postDelighted(c echo.Context) error { return a.postWebhook(c, webhook.Delighted) }
func (a *API) postAskNicely(c echo.Context) error { return a.postWebhook(c, webhook.AskNicely) }
func (a *API) postGeneric(c echo.Context) error   { return a.postWebhook(c, webhook.Generic) }

// postWebhook answers POST /api/v1/webhooks/{kind}: authenticate the
// delivery as the tool does, map its payload to one response, and record it
// through the same Recorder as POST /api/v1/responses. Every recorded,
// duplicate or ignored delivery is a 202, because the tools retry anything
// else.
func (a *API) postWebhook(c echo.Context, kind webhook.Kind) (err error) {
	var res store.RecordResult
	defer a.observeIngest(time.Now(), &res, &err)
	if a.Webhooks == nil {
		return fault.New(fault.NotFound, "webhooks are off: give the adapters a secret (secret_env in the webhooks file, or PULSEBOARD_WEBHOOK_SECRET)")
	}
	req := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, webhook.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fault.Wrap(err, fault.TooLarge, "body exceeds 1 MiB")
	}
	if err != nil {
		return fault.Wrap(err, fault.BadRequest, "could not read the request body")
	}
	d := webhook.Delivery{Header: req.Header, Query: req.URL.Query(), Body: body}
	out, err := a.Webhooks.Receive(kind, c.Param("name"), d, a.Now())
	if err != nil {
		return err
	}
	if out.Ignored != "" {
		adapter := string(kind)
		if kind == webhook.Generic {
			adapter += "/" + c.Param("name")
		}
		a.Logger.Info("webhook ignored", slog.String("adapter", adapter), slog.String("why", out.Ignored))
		return c.JSON(http.StatusAccepted, webhookResult{Ignored: out.Ignored})
	}
	res, err = a.Recorder.Record(req.Context(), []store.Response{out.Response})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, webhookResult{Recorded: api.RecordedOf(res)})
}
