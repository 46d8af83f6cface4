package sidecar

import (
	"net/http"

	"github.com/pgway/pgway/internal/apierr"
)

// write answers POST/PATCH/PUT/DELETE on a relation.
func (s *Server) write(c *call) error {
	return apierr.New(http.StatusNotImplemented, "PGRST501", "Not implemented yet in pgway").
		WithDetails("Writes are not supported yet.")
}
