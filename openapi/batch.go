package openapi

import (
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
)

// MediaBatch is the Content-Type of an atomic batch request (POST /).
const MediaBatch = "application/vnd.pgway.batch+json"

// batchStatuses are the statuses a failed batch answers with (the failed operation's, or the batch's own).
var batchStatuses = []string{"400", "401", "403", "404", "405", "406", "409", "413", "416", "500", "503"}

// addBatch describes POST /: an atomic batch of operations (operationId batch), its request and response
// schemas, and its failure (PostgREST's error object naming the operation).
func (b *builder) addBatch() {
	max := b.opts.BatchMaxOperations
	comp := b.doc.Components
	str := func(desc string) *openapi3.SchemaRef {
		s := stringSchema()
		s.Description = desc
		return &openapi3.SchemaRef{Value: s}
	}
	strMap := func(desc string) *openapi3.SchemaRef {
		s := typed(openapi3.TypeObject, "")
		s.Description = desc
		s.AdditionalProperties = openapi3.AdditionalProperties{Schema: &openapi3.SchemaRef{Value: stringSchema()}}
		return &openapi3.SchemaRef{Value: s}
	}
	anyJSON := func(desc string) *openapi3.SchemaRef {
		return b.nullable(&openapi3.SchemaRef{Value: &openapi3.Schema{Description: desc}})
	}

	method := stringSchema()
	method.Enum = []any{"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"}
	method.Description = "The operation's HTTP method."
	path := stringSchema()
	path.Description = "The operation's path and query string, as its own request would have them: `/books?select=id&author_id=eq.7`, `/rpc/add_book`."
	path.Pattern = `^/`
	op := typed(openapi3.TypeObject, "")
	op.Description = "One operation, written as its own request would be."
	op.Required = []string{"method", "path"}
	op.Properties = openapi3.Schemas{
		"method": {Value: method},
		"path":   {Value: path},
		"headers": strMap("The operation's own headers, among Accept, Accept-Profile, Content-Profile, Content-Type, Prefer, " +
			"Range and Range-Unit (the batch's Authorization applies to every operation)."),
		"body": anyJSON("The operation's body: its JSON for a JSON Content-Type (the default), else a string holding it (CSV, form)."),
		"refs": strMap("References to earlier results, target → source, both JSON Pointers: a target `/body/<pointer>` sets " +
			"a value of this operation's JSON body, `/query/<name>` completes the one query parameter of that name (an " +
			"operator and its dot such as `eq.`, or an empty function argument); a source is `/<i>/body/<pointer>`, " +
			"`/<i>/status` or `/<i>/headers/<name>` of an earlier operation i. Values are bound, never SQL."),
	}
	op.AdditionalProperties = openapi3.AdditionalProperties{Has: ptr(false)}
	kOp := b.keys.unique("BatchOperation")
	comp.Schemas[kOp] = &openapi3.SchemaRef{Value: op}

	ops := arrayOf(b.schemaRef(kOp))
	ops.Value.MinItems = 1
	if max > 0 {
		ops.Value.MaxItems = ptrU64(uint64(max))
	}
	ops.Value.Description = "The operations, run in this order in one transaction (at most server-batch-max-operations)."
	req := typed(openapi3.TypeObject, "")
	req.Description = "An atomic batch: every operation or none."
	req.Required = []string{"operations"}
	req.Properties = openapi3.Schemas{"operations": ops}
	req.AdditionalProperties = openapi3.AdditionalProperties{Has: ptr(false)}
	kReq := b.keys.unique("BatchRequest")
	comp.Schemas[kReq] = &openapi3.SchemaRef{Value: req}

	status := typed(openapi3.TypeInteger, "int32")
	status.Description = "The operation's status, as its own request would have been answered."
	encoding := stringSchema()
	encoding.Enum = []any{"base64"}
	encoding.Description = "Present when body holds bytes that are not text, in base64."
	result := typed(openapi3.TypeObject, "")
	result.Description = "One operation's answer."
	result.Required = []string{"status", "headers"}
	result.Properties = openapi3.Schemas{
		"status":   {Value: status},
		"headers":  strMap("The operation's response headers: Content-Type, Content-Range, Location, Preference-Applied, …"),
		"body":     anyJSON("The operation's body: JSON as it is, other media types as a string; absent when it has none."),
		"encoding": {Value: encoding},
	}
	kRes := b.keys.unique("BatchResult")
	comp.Schemas[kRes] = &openapi3.SchemaRef{Value: result}

	res := typed(openapi3.TypeObject, "")
	res.Description = "The answers of every operation, in order."
	res.Required = []string{"results"}
	res.Properties = openapi3.Schemas{"results": arrayOf(b.schemaRef(kRes))}
	kResults := b.keys.unique("BatchResults")
	comp.Schemas[kResults] = &openapi3.SchemaRef{Value: res}

	opIndex := typed(openapi3.TypeInteger, "int32")
	opIndex.Description = "The operation that failed (from 0); null when the transaction's end did (a deferred constraint, a serialization failure)."
	failed := typed(openapi3.TypeObject, "")
	failed.Description = "PostgREST error object of a failed batch; nothing of it was committed."
	failed.Required = []string{"code", "message", "details", "hint"}
	failed.Properties = openapi3.Schemas{
		"code":      str("PostgREST error code (PGRSTnnn, PGWAYnnn) or PostgreSQL SQLSTATE"),
		"message":   str(""),
		"details":   b.nullable(str("more details, or null")),
		"hint":      b.nullable(str("a hint to fix the problem, or null")),
		"operation": b.nullable(&openapi3.SchemaRef{Value: opIndex}),
	}
	kErr := b.keys.unique("BatchError")
	comp.Schemas[kErr] = &openapi3.SchemaRef{Value: failed}

	desc := "The batch failed and was rolled back; the status is the failed operation's. `operation` names it " +
		"(absent when the batch itself was refused: malformed, too large, a bad JWT)."
	comp.Responses["BatchFailed"] = &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc,
		Content: openapi3.NewContentWithJSONSchemaRef(b.schemaRef(kErr))}}

	okDesc := "Every operation ran and the transaction committed (or was rolled back with `Prefer: tx=rollback`)."
	responses := openapi3.NewResponses()
	responses.Delete("default")
	responses.Set("200", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &okDesc,
		Content: openapi3.NewContentWithJSONSchemaRef(b.schemaRef(kResults)),
		Headers: openapi3.Headers{"Preference-Applied": b.headerRef("PreferenceApplied")}}})
	for _, s := range batchStatuses {
		responses.Set(s, b.responseRef("BatchFailed"))
	}
	prefer := stringSchema()
	prefer.Enum = []any{"tx=commit", "tx=rollback"}
	tag := b.tags.unique("Batch")
	post := &openapi3.Operation{OperationID: b.opIDs.unique("batch"), Tags: []string{tag},
		Summary: "Run operations in one transaction, all or nothing",
		Description: "Each operation is written as its own request would be and runs as it would alone (the same role, " +
			"row-level security, validation, db-pre-request and limits), in order, in one transaction. Later operations " +
			"may use values of earlier results through `refs`. At most " + strconv.Itoa(max) + " operations " +
			"(server-batch-max-operations) and server-batch-max-body-size bytes.",
		Parameters: openapi3.Parameters{{Value: &openapi3.Parameter{Name: "Prefer", In: openapi3.ParameterInHeader,
			Description: "`tx=rollback` rolls the batch back after answering (when db-tx-end allows it).",
			Schema:      &openapi3.SchemaRef{Value: prefer}}}},
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
			Description: "The operations.",
			Content:     openapi3.Content{MediaBatch: {Schema: b.schemaRef(kReq)}}}},
		Responses: responses,
	}
	item := b.doc.Paths.Value("/")
	if item == nil {
		item = &openapi3.PathItem{}
		b.doc.Paths.Set("/", item)
	}
	item.Post = post
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{Name: tag, Description: "Atomic batches of operations"})
}
