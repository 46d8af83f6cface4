package sidecar

import (
	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/validate"
)

// validateRequest checks the request against the contract of its relation before planning (openapi-validate =
// strict): filter values and JSON body fields against the columns' types, lengths and enums.
func (s *Server) validateRequest(c *call) error {
	if s.cfg.OpenAPIValidate == "off" || c.req.RPC {
		return nil
	}
	rel := s.validators.Load().Relation(c.schema, c.req.Relation)
	if rel == nil {
		return nil
	}
	var p validate.Problems
	req := c.req
	switch req.Action {
	case request.ActionRead, request.ActionDelete:
		rel.Query(req, &p)
	case request.ActionInsert, request.ActionUpdate, request.ActionUpsert:
		rel.Query(req, &p)
		if req.ContentType == "application/json" && req.Columns == nil && req.Payload != nil {
			rel.Body(req.Payload.JSON, &p)
		}
	}
	return p.Err()
}
