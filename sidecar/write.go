package sidecar

import (
	"context"
	"net/http"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/respond"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// write answers POST/PATCH/PUT/DELETE on a relation: one statement (plus a check when PostgREST's rules need
// one) in one transaction.
func (s *Server) write(c *call) error {
	req := c.req
	cache := s.roleView(c)
	rel, err := plan.Relation(cache, c.schema, req.Relation)
	if err != nil {
		return err
	}
	if req.Accept == request.MediaPlan && !c.set.cfg.DBPlanEnabled {
		return apierr.New(http.StatusNotAcceptable, "PGRST107",
			"None of these media types are available: "+b2s(c.ctx.Request.Header.Peek("Accept")))
	}
	rollback, txApplied := c.set.txEnd(req.Prefer.Tx)
	if err := plan.CheckAggregates(req.Select, c.set.cfg.DBAggregatesEnabled); err != nil {
		return err
	}
	m, err := plan.ForMutate(req, cache, rel, rollback, c.set.limits())
	if err != nil {
		return err
	}
	stream := c.set.cfg.StreamBodyBytes > 0 && req.Payload != nil && len(req.Payload.JSON) >= c.set.cfg.StreamBodyBytes
	m.StreamBody = stream
	st := sqlgen.ForMutate(m)
	c.timing.lap(stagePlan)
	if m.Read != nil {
		setWarning(&c.ctx.Response, m.Read.Warning)
	}
	resp := &c.ctx.Response
	tx := s.tx(c, false)
	tx.Response = c.set.gucResponse(true)
	run := c.set.exec.Write
	if stream {
		body := req.Payload.JSON
		run = func(ctx context.Context, tx dbexec.Tx, st sqlgen.Mutate, fn func(dbexec.WriteResult) error) error {
			return c.set.exec.WriteStreamed(ctx, tx, st, body, fn)
		}
	}
	err = run(c.db, tx, st, func(r dbexec.WriteResult) error {
		c.timing.lap(stageTransaction)
		head, withBody := respond.Write(req, respond.WriteResult{
			Relation:          rel.Name,
			PageTotal:         r.PageTotal,
			Location:          r.Location,
			Inserted:          r.Inserted,
			ResolutionApplied: m.Resolution != "",
			TxApplied:         txApplied,
		})
		resp.SetStatusCode(head.Status)
		for _, h := range head.Headers {
			resp.Header.Set(h[0], h[1])
		}
		if withBody {
			resp.Header.Set("Content-Type", respond.ContentType(req.Accept, req.Plan))
			resp.SetBody(r.Body)
		} else {
			resp.Header.SetContentLength(0)
			resp.SkipBody = false
		}
		return nil
	})
	if err != nil {
		return err
	}
	return applyGUCResponse(resp, tx.Response)
}

// txEnd applies db-tx-end to a Prefer: tx= value: whether to roll back, and the preference to report as applied.
func (set *settings) txEnd(pref string) (rollback bool, applied string) {
	mode := set.cfg.DBTxEnd
	override := strings.HasSuffix(mode, "-allow-override")
	rollback = strings.HasPrefix(mode, "rollback")
	if override && pref != "" {
		rollback = pref == "rollback"
		applied = pref
	}
	return rollback, applied
}
