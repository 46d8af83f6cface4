// Package sdk holds the tests that generate client SDKs from pgway's live OpenAPI document with standard
// generators (oapi-codegen for Go, openapi-typescript with openapi-fetch for TypeScript), compile them and use
// them against a running pgway. It has no code of its own.
package sdk
