package sidecar

import (
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/validate"
)

// validateRequest checks the request against the contract of its relation before planning (openapi-validate =
// strict): filter values and JSON body fields against the columns' types, lengths and enums.
func (s *Server) validateRequest(c *call) error {
	if c.set.cfg.OpenAPIValidate == "off" {
		return nil
	}
	var p validate.Problems
	req := c.req
	if req.RPC {
		fn := s.validators.Load().Function(c.schema, req.Relation)
		if fn == nil {
			return nil
		}
		if req.Method == "POST" {
			if req.ContentType == "application/json" && req.Columns == nil && req.Payload != nil {
				fn.Body(req.Payload.JSON, &p)
			}
		} else {
			fn.Args(req.Params, &p)
		}
		return p.Err()
	}
	rel := s.validators.Load().Relation(c.schema, req.Relation)
	if rel == nil {
		return nil
	}
	switch req.Action {
	case request.ActionRead, request.ActionDelete:
		rel.Query(req, &p)
	case request.ActionInsert, request.ActionUpdate, request.ActionUpsert:
		rel.Query(req, &p)
		if req.ContentType == "application/json" && req.Columns == nil && req.Payload != nil {
			rel.Body(req.Payload.JSON, &p)
			// A plain insert must name every required column (an upsert's conflict may be an update, and an
			// empty array inserts nothing).
			if req.Action == request.ActionInsert && req.Prefer.Resolution == "" && (req.Payload.Object || len(req.Payload.Keys) > 0) {
				rel.Required(req.Payload.Keys, &p)
			}
		}
	}
	return p.Err()
}
