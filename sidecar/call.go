package sidecar

import (
	"net/http"
	"slices"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/respond"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// call answers GET/HEAD/POST /rpc/{function}: one statement calling the function in the FROM clause, read-only
// for GET and for stable or immutable functions.
func (s *Server) call(c *call) error {
	req := c.req
	if req.Accept == request.MediaPlan && !c.set.cfg.DBPlanEnabled {
		return apierr.New(http.StatusNotAcceptable, "PGRST107",
			"None of these media types are available: "+b2s(c.ctx.Request.Header.Peek("Accept")))
	}
	if err := plan.CheckAggregates(req.Select, c.set.cfg.DBAggregatesEnabled); err != nil {
		return err
	}
	p, err := plan.ForCall(req, s.roleView(c), c.schema, c.set.limits())
	if err != nil {
		return err
	}
	rollback, txApplied := c.set.txEnd(req.Prefer.Tx)
	p.Rollback = rollback && !p.ReadOnly
	st := sqlgen.ForCall(p)
	c.timing.lap(stagePlan)
	if p.Read != nil {
		setWarning(&c.ctx.Response, p.Read.Warning)
	}
	resp := &c.ctx.Response
	tx := s.tx(c, p.ReadOnly)
	tx.RoleSettings = hoisted(tx.RoleSettings, p.Routine.Settings, c.set.cfg.DBHoistedTxSettings)
	tx.Response = c.set.gucResponse(true)
	if st.Explain {
		first := true
		err = c.set.exec.Read(c.db, tx, st, func(r dbexec.ReadResult) error {
			c.timing.lap(stageTransaction)
			if !first {
				resp.AppendBodyString("\n")
			}
			first = false
			resp.AppendBody(r.Body)
			return nil
		})
		if err == nil {
			resp.Header.Set("Content-Type", respond.ContentType(req.Accept, req.Plan))
		}
		return err
	}
	err = c.set.exec.Read(c.db, tx, st, func(r dbexec.ReadResult) error {
		c.timing.lap(stageTransaction)
		if p.Void {
			resp.SetStatusCode(http.StatusNoContent)
			return nil
		}
		if p.Media == request.MediaCustom {
			// The function's own media type (a handler domain): its value as is; response.headers may
			// still set Content-Type, as for the "*/*" handler.
			resp.SetStatusCode(http.StatusOK)
			resp.Header.Set("Content-Type", respond.CustomContentType(p.CustomMedia))
			if !req.Head {
				resp.SetBody(r.Body)
			}
			return nil
		}
		offset := p.Offset
		if p.Read != nil {
			offset = p.Read.Offset
		}
		head, aerr := respond.Read(req, respond.ReadResult{Offset: offset, PageTotal: r.PageTotal, Total: r.Total, TxApplied: txApplied})
		if aerr != nil {
			return aerr
		}
		resp.SetStatusCode(head.Status)
		if p.Read != nil && p.Read.Handler != nil {
			resp.Header.Set("Content-Type", respond.CustomContentType(p.Read.Handler.Media))
		} else {
			resp.Header.Set("Content-Type", respond.ContentType(req.Accept, req.Plan))
		}
		for _, hv := range head.Headers {
			resp.Header.Set(hv[0], hv[1])
		}
		if req.Head {
			resp.SkipBody = true
			return nil
		}
		resp.SetBody(r.Body)
		return nil
	})
	if err != nil {
		return err
	}
	return applyGUCResponse(resp, tx.Response)
}

// hoisted adds the function's own settings named in db-hoisted-tx-settings to the transaction's (after the
// role's, so they win), as PostgREST does: a statement_timeout declared on a function then bounds the call.
func hoisted(role, fn [][2]string, allowed []string) [][2]string {
	out := role
	for _, kv := range fn {
		if slices.Contains(allowed, kv[0]) && kv[0] != "default_transaction_isolation" {
			out = append(out[:len(out):len(out)], kv)
		}
	}
	return out
}
