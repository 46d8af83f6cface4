package openapi

import "strconv"

// MediaBatch is the Content-Type of an atomic batch request (POST /).
const MediaBatch = "application/vnd.pgway.batch+json"

// batchStatuses are the statuses a failed batch answers with (the failed operation's, or the batch's own).
var batchStatuses = []string{"400", "401", "403", "404", "405", "406", "409", "413", "416", "500", "503"}

// batchPlan holds the names handed out for atomic batches.
type batchPlan struct {
	op, req, result, results, err string // component schema keys
	tag, opID                     string
}

// planBatch hands out the names of POST /: an atomic batch of operations (operationId batch), its request and
// response schemas, and its failure (PostgREST's error object naming the operation).
func (b *builder) planBatch() {
	p := &batchPlan{}
	p.op = b.keys.unique("BatchOperation")
	b.schemas[p.op] = b.batchOperationSchema
	p.req = b.keys.unique("BatchRequest")
	b.schemas[p.req] = func() *schema { return b.batchRequestSchema(p) }
	p.result = b.keys.unique("BatchResult")
	b.schemas[p.result] = b.batchResultSchema
	p.results = b.keys.unique("BatchResults")
	b.schemas[p.results] = func() *schema {
		s := typed(tObject, "")
		s.description = "The answers of every operation, in order."
		s.required = []string{"results"}
		s.props = object{{"results", arrayOf(refSchema(p.result))}}
		return s
	}
	p.err = b.keys.unique("BatchError")
	b.schemas[p.err] = b.batchErrorSchema
	p.tag = b.tags.unique("Batch")
	p.opID = b.opIDs.unique("batch")
	b.tagList = append(b.tagList, object{{"name", p.tag}, {"description", "Atomic batches of operations"}})
	b.batch = p
}

func describedString(desc string) *schema {
	s := stringSchema()
	s.description = desc
	return s
}

// stringMap is an object of string values.
func stringMap(desc string) *schema {
	s := typed(tObject, "")
	s.description = desc
	s.additional = stringSchema()
	return s
}

// anyJSON is any JSON value, null included.
func (b *builder) anyJSON(desc string) *schema { return b.nullable(&schema{description: desc}) }

func (b *builder) batchOperationSchema() *schema {
	method := stringSchema()
	method.enum = []any{"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"}
	method.description = "The operation's HTTP method."
	path := describedString("The operation's path and query string, as its own request would have them: `/books?select=id&author_id=eq.7`, `/rpc/add_book`.")
	path.pattern = `^/`
	op := typed(tObject, "")
	op.description = "One operation, written as its own request would be."
	op.required = []string{"method", "path"}
	op.props = object{
		{"method", method},
		{"path", path},
		{"headers", stringMap("The operation's own headers, among Accept, Accept-Profile, Content-Profile, Content-Type, Prefer, " +
			"Range and Range-Unit (the batch's Authorization applies to every operation).")},
		{"body", b.anyJSON("The operation's body: its JSON for a JSON Content-Type (the default), else a string holding it (CSV, form).")},
		{"refs", stringMap("References to earlier results, target → source, both JSON Pointers: a target `/body/<pointer>` sets " +
			"a value of this operation's JSON body, `/query/<name>` completes the one query parameter of that name (an " +
			"operator and its dot such as `eq.`, or an empty function argument); a source is `/<i>/body/<pointer>`, " +
			"`/<i>/status` or `/<i>/headers/<name>` of an earlier operation i. Values are bound, never SQL.")},
	}
	op.closed = true
	return op
}

func (b *builder) batchRequestSchema(p *batchPlan) *schema {
	ops := arrayOf(refSchema(p.op))
	ops.minItems = 1
	ops.maxItems = ptrU64(uint64(b.opts.BatchMaxOperations))
	ops.description = "The operations, run in this order in one transaction (at most server-batch-max-operations)."
	req := typed(tObject, "")
	req.description = "An atomic batch: every operation or none."
	req.required = []string{"operations"}
	req.props = object{{"operations", ops}}
	req.closed = true
	return req
}

func (b *builder) batchResultSchema() *schema {
	status := typed(tInteger, "int32")
	status.description = "The operation's status, as its own request would have been answered."
	encoding := stringSchema()
	encoding.enum = []any{"base64"}
	encoding.description = "Present when body holds bytes that are not text, in base64."
	result := typed(tObject, "")
	result.description = "One operation's answer."
	result.required = []string{"status", "headers"}
	result.props = object{
		{"status", status},
		{"headers", stringMap("The operation's response headers: Content-Type, Content-Range, Location, Preference-Applied, …")},
		{"body", b.anyJSON("The operation's body: JSON as it is, other media types as a string; absent when it has none.")},
		{"encoding", encoding},
	}
	return result
}

func (b *builder) batchErrorSchema() *schema {
	opIndex := typed(tInteger, "int32")
	opIndex.description = "The operation that failed (from 0); null when the transaction's end did (a deferred constraint, a serialization failure)."
	failed := typed(tObject, "")
	failed.description = "PostgREST error object of a failed batch; nothing of it was committed."
	failed.required = []string{"code", "message", "details", "hint"}
	failed.props = object{
		{"code", describedString("PostgREST error code (PGRSTnnn, PGWAYnnn) or PostgreSQL SQLSTATE")},
		{"message", stringSchema()},
		{"details", b.nullable(describedString("more details, or null"))},
		{"hint", b.nullable(describedString("a hint to fix the problem, or null"))},
		{"operation", b.nullable(opIndex)},
	}
	return failed
}

// batchFailed is the BatchFailed response component.
func (b *builder) batchFailed() object {
	return object{
		{"description", "The batch failed and was rolled back; the status is the failed operation's. `operation` names it " +
			"(absent when the batch itself was refused: malformed, too large, a bad JWT)."},
		{"content", object{{mtJSON, mediaType(refSchema(b.batch.err))}}},
	}
}

// batchOperation is POST /.
func (b *builder) batchOperation() object {
	p := b.batch
	max := b.opts.BatchMaxOperations
	post := operation(p.opID, p.tag, "Run operations in one transaction, all or nothing",
		"Each operation is written as its own request would be and runs as it would alone (the same role, "+
			"row-level security, validation, db-pre-request and limits), in order, in one transaction. Later operations "+
			"may use values of earlier results through `refs`. At most "+strconv.Itoa(max)+" operations "+
			"(server-batch-max-operations) and server-batch-max-body-size bytes.")
	prefer := stringSchema()
	prefer.enum = []any{"tx=commit", "tx=rollback"}
	post.set("parameters", []any{param("Prefer", "header",
		"`tx=rollback` rolls the batch back after answering (when db-tx-end allows it).", false, prefer)})
	post.set("requestBody", object{{"required", true}, {"description", "The operations."},
		{"content", object{{MediaBatch, mediaType(refSchema(p.req))}}}})
	responses := object{{"200", object{
		{"description", "Every operation ran and the transaction committed (or was rolled back with `Prefer: tx=rollback`)."},
		{"content", object{{mtJSON, mediaType(refSchema(p.results))}}},
		{"headers", object{{"Preference-Applied", headerRef("PreferenceApplied")}}},
	}}}
	for _, s := range batchStatuses {
		responses.set(s, responseRef("BatchFailed"))
	}
	post.set("responses", responses)
	return post
}
