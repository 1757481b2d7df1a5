package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

// createResponses ingests one response, an array or NDJSON (POST
// /api/v1/responses).
func (a *API) createResponses(c echo.Context) error { return a.ingestKind(c, store.KindResponse) }

// createOffers ingests offered surveys (POST /api/v1/offers): the same
// formats, limits, token, rate limit and replies as responses, through the
// same path.
func (a *API) createOffers(c echo.Context) error { return a.ingestKind(c, store.KindOffer) }

// ingestKind ingests a batch of items of kind. The batch is validated
// whole before anything is stored, and acknowledged only after the store
// said it is recorded.
func (a *API) ingestKind(c echo.Context, kind store.Kind) (err error) {
	req := c.Request()
	var res store.RecordResult
	defer a.observeIngestKind(kind, time.Now(), &res, &err)
	tok := auth.Bearer(req)
	if !a.IngestTokens.Valid(tok) {
		return fault.New(fault.Unauthorized, "a valid ingest token is required: send Authorization: Bearer <token>")
	}
	body := http.MaxBytesReader(c.Response(), req.Body, a.MaxBodyBytes)
	batch, err := a.Decoder.DecodeKind(kind, body, req.Header.Get(echo.HeaderContentType), a.Now())
	if err != nil {
		return err
	}
	// Charged after decoding, by the items (responses or offers) the
	// batch holds; a rejected batch is charged nothing, and nothing of it
	// is recorded. The bucket
	// refills with elapsed real time, so it reads the monotonic clock, not
	// a.Now: a.Now is the time responses are recorded at, which tests hold
	// still while they send far more than a second's worth.
	if err := a.limits.take(tok, len(batch), time.Now()); err != nil {
		return err
	}
	res, err = a.Recorder.Record(req.Context(), batch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, api.RecordedOf(res))
}

// observeIngest records an ingest request's outcome in the metrics. Its
// duration is elapsed time, measured on the monotonic clock from began
// (time.Now, not a.Now, which tests hold still).
func (a *API) observeIngest(began time.Time, res *store.RecordResult, err *error) {
	a.observeIngestKind(store.KindResponse, began, res, err)
}

// observeIngestKind is observeIngest for items of kind: offers are counted
// apart from responses.
func (a *API) observeIngestKind(kind store.Kind, began time.Time, res *store.RecordResult, err *error) {
	if a.Metrics == nil {
		return
	}
	status := http.StatusAccepted
	if *err != nil {
		status = statusOf(fault.CodeOf(*err))
	}
	count := a.Metrics.Ingest
	if kind == store.KindOffer {
		count = a.Metrics.IngestOffers
	}
	count(status, time.Since(began), res.Accepted, res.Updated, res.Duplicates, res.Stale)
}
